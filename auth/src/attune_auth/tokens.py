"""Short-lived signed bearer tokens (PyJWT): issued for local users, or from an OIDC issuer."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any

import jwt
import structlog

from attune_auth.principal import Principal, Role
from attune_auth.settings import AuthSettings
from attune_runtime.clock import Clock

log = structlog.get_logger(__name__)

ALGORITHM = "HS256"


class InvalidToken(Exception):
    pass


class Tokens:
    def __init__(self, settings: AuthSettings, *, clock: Clock) -> None:
        self.clock = clock
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self.ttl = timedelta(seconds=settings.token_ttl_seconds)
        if settings.jwt_secret is None:
            log.warning("jwt_secret_generated", reason="ATTUNE_AUTH_JWT_SECRET is not set")
            self._secret = secrets.token_urlsafe(48)
        else:
            self._secret = settings.jwt_secret.get_secret_value()
        self.oidc: OidcVerifier | None = None
        if settings.oidc_issuer and settings.oidc_jwks_url:
            self.oidc = OidcVerifier(settings, clock=clock)

    def issue(
        self, *, tenant_id: str, username: str, role: Role, csrf: str | None = None
    ) -> tuple[str, int]:
        now = self.clock.now()
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": username,
            "tenant": tenant_id,
            "role": role.value,
            # To the microsecond: a revocation cut-off falls between tokens of the same second.
            "iat": now.timestamp(),
            "exp": int((now + self.ttl).timestamp()),
            "jti": str(uuid.uuid4()),
        }
        if csrf is not None:
            claims["csrf"] = csrf  # a session cookie's CSRF token is bound to that session
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM), int(self.ttl.total_seconds())

    def verify(self, token: str, *, via: str = "token") -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("malformed token") from None
        if header.get("alg") != ALGORITHM and self.oidc is not None:
            return self.oidc.verify(token)
        return _principal(self.claims(token), tenant_claim="tenant", role_claim="role", via=via)

    def csrf_of(self, token: str) -> str | None:
        csrf = self.claims(token).get("csrf")
        return csrf if isinstance(csrf, str) else None

    def claims(self, token: str) -> dict[str, Any]:
        """The claims of a locally issued token, once its signature and expiry are checked."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options=_OPTIONS,
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(type(exc).__name__) from None
        _check_expiry(claims, self.clock)
        return claims


# PyJWT would check expiry against the wall clock; the injected clock decides it instead.
_OPTIONS: Any = {
    "require": ["exp", "sub", "iss", "aud"],
    "verify_exp": False,
    "verify_iat": False,
    "verify_nbf": False,
}


def _check_expiry(claims: dict[str, Any], clock: Clock) -> None:
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp <= clock.now().timestamp():
        raise InvalidToken("ExpiredSignatureError")


def _principal(
    claims: dict[str, Any], *, tenant_claim: str, role_claim: str, via: str
) -> Principal:
    tenant, role, subject = claims.get(tenant_claim), claims.get(role_claim), claims.get("sub")
    if not isinstance(tenant, str) or not isinstance(subject, str) or not tenant or not subject:
        raise InvalidToken("token names no tenant or subject")
    if not isinstance(role, str):
        raise InvalidToken("token carries no role")
    try:
        role_ = Role(role)
    except ValueError:
        raise InvalidToken("token carries no known role") from None
    jti, iat, exp = claims.get("jti"), claims.get("iat"), claims.get("exp")
    return Principal(
        tenant_id=tenant,
        subject=subject,
        role=role_,
        via=via,
        token_id=jti if isinstance(jti, str) else None,
        issued_at=float(iat) if isinstance(iat, int | float) else None,
        expires_at=float(exp) if isinstance(exp, int | float) else None,
    )


class OidcVerifier:
    """Tokens of an external OpenID Connect issuer, checked against its published keys."""

    def __init__(self, settings: AuthSettings, *, clock: Clock) -> None:
        assert settings.oidc_issuer and settings.oidc_jwks_url
        self.clock = clock
        self.issuer = settings.oidc_issuer
        self.audience = settings.oidc_audience or settings.jwt_audience
        self.tenant_claim = settings.oidc_tenant_claim
        self.role_claim = settings.oidc_role_claim
        self.jwks = jwt.PyJWKClient(settings.oidc_jwks_url, cache_keys=True)

    def verify(self, token: str) -> Principal:
        try:
            key = self.jwks.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256", "ES256", "PS256", "EdDSA"],
                audience=self.audience,
                issuer=self.issuer,
                options=_OPTIONS,
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(type(exc).__name__) from None
        _check_expiry(claims, self.clock)
        return _principal(
            claims, tenant_claim=self.tenant_claim, role_claim=self.role_claim, via="oidc"
        )
