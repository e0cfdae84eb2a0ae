"""Identity settings every HTTP service reads (env prefix ATTUNE_AUTH_)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ATTUNE_AUTH_", populate_by_name=True, extra="ignore"
    )

    # Tenants, integrator keys, users and the audit trail. Every service points at the same one.
    database_url: str = "sqlite+aiosqlite:///attune-identity.db"
    # Signs the short-lived bearer tokens of local users. Unset: a random secret per process,
    # so tokens die with it and another service cannot verify them (fine for one process only).
    jwt_secret: SecretStr | None = None
    jwt_issuer: str = "attune"
    jwt_audience: str = "attune"
    token_ttl_seconds: int = Field(default=900, gt=0, le=86_400)
    # An external OpenID Connect issuer instead of (or beside) local users: its tokens are
    # verified against the issuer's published keys and must carry the tenant and role claims.
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None
    oidc_tenant_claim: str = "attune_tenant"
    oidc_role_claim: str = "attune_role"
    # Failed logins per username and per client address inside the window, then 429.
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: float = Field(default=300.0, gt=0)
    # A verified integrator key is trusted this long before the store is asked again, so a
    # revocation takes effect within it; last-used times are written at most this often.
    key_cache_seconds: float = Field(default=30.0, ge=0)
    # The console's session cookie: sent only over HTTPS unless turned off for local HTTP.
    cookie_secure: bool = True
