"""Login and refresh requests per auth mode, and when a token needs renewing."""

from __future__ import annotations

import math
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
    """When a token was received and when it should be renewed, on the *local* clock."""

    received_at: float
    renew_at: float
    expires_at: float


#: JWT times are whole seconds.
CLAIM_RESOLUTION = 1.0
#: However short a token claims to live, it is used this long before renewing (at most
#: half its claimed life): a token that looks expired on arrival must not make the
#: provider log in again in a tight loop.
MIN_TOKEN_USE = 10.0


def token_times(token: str, now: float, *, issued_now: bool = True) -> TokenTimes:
    """
    Renewal times of a token received at ``now`` (local clock).

    The Control Room's clock may differ from ours by minutes, so its ``exp`` is never
    compared with our clock. A token it just issued lives ``exp - iat`` (both its clock)
    from when we received it. A pre-issued token (``issued_now=False``, auth_type
    ``token``) may be old: it lives until ``exp`` read on our clock, but never longer
    than ``exp - iat``. A token whose claims cannot be read lives the default 20 minutes.
    """
    try:
        claims = jwt.decode(token, options={"verify_signature": False, "verify_exp": False})
        expires = float(claims["exp"])
        issued = float(claims["iat"]) if "iat" in claims else None
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        expires, issued = None, None
    if expires is None or not math.isfinite(expires):
        lifetime = DEFAULT_TOKEN_LIFETIME
    elif issued is None or not math.isfinite(issued):
        lifetime = min(max(expires - now, 0.0), DEFAULT_TOKEN_LIFETIME)
    else:
        lifetime = max(expires - issued, 0.0)
    remaining = lifetime if issued_now else min(lifetime, max((expires or now) - now, 0.0))
    # Claims are whole seconds: the token may end up to a second before ``remaining`` says,
    # so renewal does not count on that second; a refresh is still tried until then.
    renew_after = remaining - CLAIM_RESOLUTION - min(RENEWAL_MARGIN, lifetime / 10)
    if issued_now:
        renew_after = max(renew_after, min(MIN_TOKEN_USE, lifetime / 2))
    return TokenTimes(received_at=now, renew_at=now + renew_after, expires_at=now + remaining)
