"""JWTs the emulator signs and reads back (HS256, random secret per emulator instance)."""

from __future__ import annotations

import math
import secrets
import uuid
from typing import Any

import jwt

_ALGORITHM = "HS256"


class TokenIssuer:
    """
    Mints and reads tokens. The payload carries ``sub`` (user id), ``iat``, ``exp`` (whole
    seconds; ``exp`` rounded up so a token lives at least the configured lifetime), ``sid``
    (the session) and ``jti``. Expiry is checked by the caller against its own clock.
    """

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)

    def issue(self, *, user_id: int, session_id: str, now: float, lifetime: float) -> str:
        payload = {
            "sub": str(user_id),
            "iat": int(now),
            "exp": math.ceil(now + lifetime),
            "sid": session_id,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(payload, self._secret, algorithm=_ALGORITHM)

    def read(self, token: str) -> dict[str, Any] | None:
        """The payload of a token this issuer signed, or ``None``; expiry is not checked here."""
        try:
            return jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                options={"verify_exp": False, "verify_iat": False, "require": ["exp", "sid"]},
            )
        except jwt.PyJWTError:
            return None
