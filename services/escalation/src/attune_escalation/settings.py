from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from attune_auth.settings import AuthSettings
from attune_escalation.notify.channels import ChannelConfig
from attune_escalation.policies import EscalationConfig, default_config, load
from attune_runtime.settings import ServiceSettings


class EscalationSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="ATTUNE_ESCALATION_", populate_by_name=True, extra="ignore"
    )

    http_port: int = 8004
    # Users, tokens and the audit trail (ATTUNE_AUTH_*): the actor of every action.
    auth: AuthSettings = Field(default_factory=AuthSettings)
    group_id: str = "attune-escalation"
    # The engagement chart reads every assessment: this many per transaction and commit.
    engagement_batch_max_records: int = Field(default=256, gt=0)
    engagement_batch_timeout_ms: int = Field(default=50, ge=0)
    database_url: str = "sqlite+aiosqlite:///attune-escalation.db"
    migrate_on_start: bool = True
    # Where clinicians open an incident; notifications link here, never carry conversation text.
    public_url: str = "http://127.0.0.1:8004"
    console_notifications: bool = True
    # Named channels (notify/channels.py); policies route each tenant and severity to some.
    channels: dict[str, ChannelConfig] = Field(default_factory=dict)
    webhook_timeout_seconds: float = Field(default=5.0, gt=0)
    notify_max_attempts: int = Field(default=8, ge=1)
    notify_backoff_seconds: float = Field(default=2.0, ge=0)
    notify_backoff_max_seconds: float = Field(default=300.0, ge=0)
    # Conversation text (evidence excerpts, the triggering AI turn, resolution notes) is
    # deleted this long after its incident is resolved; open incidents keep theirs. The audit
    # trail stays. The retention pass runs this often.
    retention_days: float = Field(default=30.0, gt=0)
    retention_interval_seconds: float = Field(default=3600.0, gt=0)
    # Quick retries within one attempt (tenacity), before the row is rescheduled.
    notify_quick_attempts: int = Field(default=3, ge=1)
    # Escalation policies, schedules and teams (YAML, see policies.py). Without a file every
    # channel is paged, again at each deadline, three times.
    policies_file: Path | None = None
    default_ack_deadline_seconds: float = Field(default=300.0, gt=0)
    default_renotify_seconds: float = Field(default=900.0, gt=0)
    # A new incident's first page gathers what arrives within this wait (never for a crisis);
    # what is added later is sent at most once per group interval.
    group_wait_seconds: float = Field(default=5.0, ge=0)
    group_interval_seconds: float = Field(default=60.0, gt=0)
    # Background loops: how often they look for work when not woken explicitly.
    poll_seconds: float = Field(default=0.5, gt=0)
    # The console: each tenant's crisis protocol (YAML, console/protocols.py; without a file a
    # built-in default), how often a queue stream looks for changes, and how long one stream
    # lasts before the browser reconnects (bounded, so no connection outlives a session).
    crisis_protocols_file: Path | None = None
    console_poll_seconds: float = Field(default=1.0, gt=0)
    console_stream_seconds: float = Field(default=300.0, ge=0)

    def escalation_config(self) -> EscalationConfig:
        if self.policies_file is not None:
            return load(self.policies_file)
        return default_config(
            ack_deadline_seconds=self.default_ack_deadline_seconds,
            renotify_seconds=self.default_renotify_seconds,
        )
