"""Login and refresh requests per auth mode, and when a token needs renewing."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from airflow_provider_aa.control_room.exchange import ApiRequest

if TYPE_CHECKING:
    from airflow_provider_aa.control_room.settings import ConnectionSettings

#: Control Rooms issue tokens for 20 minutes unless configured otherwise.
DEFAULT_TOKEN_LIFETIME = 20 * 60.0
#: Renew this long before expiry (at most a tenth of the lifetime, for short-lived tokens).
RENEWAL_MARGIN = 60.0

#: Newest first: v.33+ only has v2; 11.x and older Automation 360 only v1.
AUTH_VERSIONS = ("v2", "v1")


@dataclass
class AuthApi:
    """Which authentication API version answers: v2 first, v1 after a 404 (learned, then kept)."""

    version: str = AUTH_VERSIONS[0]


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
    """
    When a token was received and when it should be renewed, on the *local* clock, and
    ``judged_by``: what its end was judged by (for an error that says what was checked).
    """

    received_at: float
    renew_at: float
    expires_at: float
    judged_by: str


#: JWT times and ``Date`` headers are whole seconds.
CLAIM_RESOLUTION = 1.0
#: However short a token claims to live, it is used this long before renewing (at most
#: half its claimed life): a token that looks expired on arrival must not make the
#: provider log in again in a tight loop.
MIN_TOKEN_USE = 10.0
#: The shortest lifetime the session believes a token has, whatever its claims say: whole
#: seconds cannot tell a shorter one from none.
MIN_TOKEN_LIFETIME = 2 * CLAIM_RESOLUTION


def token_times(
    token: str, now: float, *, control_room_now: float | None = None, issued_now: bool = True
) -> TokenTimes:
    """
    Renewal times of a token received at ``now`` (local clock).

    The Control Room's clock may differ from ours by minutes, so its ``exp`` is only read
    against its own clock: ``control_room_now``, ``now`` as its ``Date`` header shows it
    (``None``: no answer has shown it yet). A token it just issued lives ``exp - iat``
    from when we received it; without a usable ``iat`` (absent, or ``exp == iat``) until
    ``exp`` on its clock, when that gives at least :data:`MIN_TOKEN_LIFETIME`; otherwise the
    documented 20 minutes. A pre-issued token (``issued_now=False``, auth_type ``token``)
    may be old: it lives until its ``exp`` on the Control Room's clock once that clock is
    known, and until then as long as a token just issued (the Control Room's 401 tells if
    it is older). A lifetime is never believed shorter than :data:`MIN_TOKEN_LIFETIME`.
    """
    import jwt  # at the first login, not when a DAG file imports the operators

    try:
        claims = jwt.decode(token, options={"verify_signature": False, "verify_exp": False})
        expires: float | None = float(claims["exp"])
        issued = float(claims["iat"]) if "iat" in claims else None
    except (jwt.PyJWTError, KeyError, TypeError, ValueError, OverflowError):
        expires, issued = None, None
    if expires is not None and not math.isfinite(expires):
        expires = None
    if issued is not None and not math.isfinite(issued):
        issued = None
    # exp == iat (some gateways) tells no lifetime, and no end either.
    claimed = expires - issued if expires is not None and issued is not None else None
    exp_tells = expires is not None and (claimed is None or claimed > 0)
    until_exp = (
        expires - control_room_now if exp_tells and expires is not None and control_room_now is not None else None
    )
    on_its_clock = "its exp against the Control Room's clock, as its Date header shows it"
    if claimed is not None and claimed > 0:
        lifetime, judged_by = claimed, f"its lifetime (exp - iat: {claimed:g} s) counted from when it was received"
    elif issued_now and until_exp is not None and until_exp >= MIN_TOKEN_LIFETIME:
        lifetime, judged_by = until_exp, on_its_clock
    else:
        lifetime, judged_by = (
            DEFAULT_TOKEN_LIFETIME,
            "the documented 20-minute lifetime counted from when it was received",
        )
    lifetime = max(lifetime, MIN_TOKEN_LIFETIME)
    remaining = lifetime
    if not issued_now and until_exp is not None:
        remaining, judged_by = min(lifetime, max(until_exp, 0.0)), on_its_clock
    # Claims are whole seconds: the token may end up to a second before ``remaining`` says,
    # so renewal does not count on that second; a refresh is still tried until then.
    renew_after = remaining - CLAIM_RESOLUTION - min(RENEWAL_MARGIN, lifetime / 10)
    if issued_now:
        renew_after = max(renew_after, min(MIN_TOKEN_USE, lifetime / 2))
    return TokenTimes(received_at=now, renew_at=now + renew_after, expires_at=now + remaining, judged_by=judged_by)
