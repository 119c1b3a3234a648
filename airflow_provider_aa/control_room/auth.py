"""Login and refresh requests per auth mode, and when a token needs renewing."""

from __future__ import annotations

from dataclasses import dataclass

import jwt

from airflow_provider_aa.control_room.exchange import ApiRequest
from airflow_provider_aa.control_room.settings import ConnectionSettings

#: Control Rooms issue tokens for 20 minutes unless configured otherwise.
DEFAULT_TOKEN_LIFETIME = 20 * 60.0
#: Renew this long before expiry (at most a tenth of the lifetime, for short-lived tokens).
RENEWAL_MARGIN = 60.0

#: Newest first: v.33+ only has v2; 11.x and older Automation 360 only v1.
AUTH_VERSIONS = ("v2", "v1")


def login_request(settings: ConnectionSettings, version: str) -> ApiRequest:
    body: dict[str, object] = {"username": settings.username}
    if settings.auth_type == "api_key":
        body["apiKey"] = settings.api_key
    else:
        body["password"] = settings.password
        if settings.multiple_login:
            body["multipleLogin"] = True
    return ApiRequest("POST", f"/{version}/authentication", body)


def refresh_request(token: str, version: str) -> ApiRequest:
    return ApiRequest("POST", f"/{version}/authentication/token", {"token": token})


@dataclass(frozen=True)
class TokenTimes:
    """When a token was received and when it should be renewed."""

    received_at: float
    renew_at: float
    expires_at: float


def token_times(token: str, now: float) -> TokenTimes:
    """
    Read ``exp`` (and ``iat``) from the JWT without verifying it.

    A token whose claims cannot be read is assumed to live the default 20 minutes from now.
    """
    try:
        claims = jwt.decode(token, options={"verify_signature": False, "verify_exp": False})
        expires_at = float(claims["exp"])
        issued_at = float(claims.get("iat", now))
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        expires_at, issued_at = now + DEFAULT_TOKEN_LIFETIME, now
    lifetime = max(expires_at - issued_at, 0.0)
    margin = min(RENEWAL_MARGIN, lifetime / 10)
    return TokenTimes(received_at=now, renew_at=expires_at - margin, expires_at=expires_at)
