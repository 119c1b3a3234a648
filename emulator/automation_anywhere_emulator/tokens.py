"""JWTs the emulator signs and reads back (HS256, random secret per emulator instance)."""

from __future__ import annotations

import math
import secrets
import uuid
from typing import Any

import jwt

_ALGORITHM = "HS256"
#: What a token's claims say of its times: ``iat`` and ``exp`` (Automation 360), ``exp``
#: alone (some gateways and older Control Rooms), or ``exp`` equal to ``iat``.
TOKEN_CLAIMS = ("iat_exp", "exp_only", "exp_equals_iat")


class TokenIssuer:
    """
    Mints and reads tokens. The payload carries ``sub`` (user id), ``iat`` and ``exp`` as
    ``claims`` says (see :data:`TOKEN_CLAIMS`; whole seconds, ``exp`` rounded up so a token
    lives at least the configured lifetime), ``sid`` (the session), ``jti``, and ``ends``:
    when the token really ends, which ``exp`` may not tell (the Control Room knows it
    server-side). Expiry is checked by the caller against its own clock.
    """

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)

    def issue(self, *, user_id: int, session_id: str, now: float, lifetime: float, claims: str = "iat_exp") -> str:
        ends = math.ceil(now + lifetime)
        payload: dict[str, Any] = {"sub": str(user_id), "sid": session_id, "jti": uuid.uuid4().hex, "ends": ends}
        if claims == "iat_exp":
            payload.update(iat=int(now), exp=ends)
        elif claims == "exp_only":
            payload["exp"] = ends
        else:
            payload.update(iat=int(now), exp=int(now))
        return jwt.encode(payload, self._secret, algorithm=_ALGORITHM)

    def read(self, token: str) -> dict[str, Any] | None:
        """The payload of a token this issuer signed, or ``None``; expiry is not checked here."""
        try:
            return jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                options={"verify_exp": False, "verify_iat": False, "require": ["ends", "sid"]},
            )
        except jwt.PyJWTError:
            return None
