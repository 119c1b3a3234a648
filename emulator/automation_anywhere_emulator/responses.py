"""Answers as data: what the HTTP layer writes, and the error every refusal becomes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

JSON = "application/json"


@dataclass(frozen=True)
class Response:
    """One HTTP answer; the server adds ``Content-Length``."""

    status: int
    body: bytes = b""
    content_type: str = JSON
    headers: tuple[tuple[str, str], ...] = ()


def json_response(payload: Any, status: int = 200, headers: tuple[tuple[str, str], ...] = ()) -> Response:
    return Response(status, json.dumps(payload).encode("utf-8"), JSON, headers)


def no_content() -> Response:
    return Response(204)


class ApiError(Exception):
    """A refusal, answered as ``{"code", "message", "details"}`` with ``status``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: str = "",
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers

    def response(self) -> Response:
        body = {"code": self.code, "message": self.message, "details": self.details}
        return json_response(body, self.status, self.headers)


def bad_request(message: str, details: str = "") -> ApiError:
    return ApiError(400, "BAD_REQUEST", message, details)
