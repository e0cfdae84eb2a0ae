from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from attune_auth.settings import AuthSettings
from attune_runtime.settings import ServiceSettings


class EscalationSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="ATTUNE_ESCALATION_", populate_by_name=True, extra="ignore"
    )

    http_port: int = 8004
    # Users, tokens and the audit trail (ATTUNE_AUTH_*): the actor of every action.
    auth: AuthSettings = Field(default_factory=AuthSettings)
    group_id: str = "attune-escalation"
    database_url: str = "sqlite+aiosqlite:///attune-escalation.db"
    migrate_on_start: bool = True
    # Where clinicians open an incident; notifications link here, never carry conversation text.
    public_url: str = "http://127.0.0.1:8004"
    console_notifications: bool = True
    webhook_urls: list[str] = Field(default_factory=list)
    webhook_timeout_seconds: float = Field(default=5.0, gt=0)
    notify_max_attempts: int = Field(default=8, ge=1)
    notify_backoff_seconds: float = Field(default=2.0, ge=0)
    notify_backoff_max_seconds: float = Field(default=300.0, ge=0)
    # Background loops: how often they look for work when not woken explicitly.
    poll_seconds: float = Field(default=0.5, gt=0)
