"""Secrets a Control Room or a gateway echoes never reach an error's text, driven as the hook and the trigger drive."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable

import pytest

from airflow_provider_aa.control_room.errors import AutomationAnywhereError
from airflow_provider_aa.control_room.exchange import (
    ApiRequest,
    ApiResponse,
    Operation,
    TransportFailure,
    adrive,
    drive,
)
from airflow_provider_aa.control_room.settings import settings_from_connection
from tests.control_room.scripted import BASE_URL, USERNAME, FakeClock, jwt_token, new_session

PASSWORD = 'pässword "quoted" \\ 1234'
API_KEY = "APIKEY-echoed-0123456789abcdefghijABCDEFGH"
PRE_ISSUED = jwt_token(subject="pre-issued")
ISSUED = jwt_token(subject="issued")
JSON = {"content-type": "application/json"}


def settings(mode: str):
    if mode == "password":
        return settings_from_connection(host=BASE_URL, login=USERNAME, password=PASSWORD, extra={})
    if mode == "api_key":
        return settings_from_connection(host=BASE_URL, login=USERNAME, password=None, extra={"api_key": API_KEY})
    return settings_from_connection(host=BASE_URL, login=None, password=None, extra={"token": PRE_ISSUED})


def secrets_of(mode: str) -> list[str]:
    return {"password": [PASSWORD, ISSUED], "api_key": [API_KEY, ISSUED], "token": [PRE_ISSUED]}[mode]


def echoing(mode: str, failure: Callable[[ApiRequest], ApiResponse | TransportFailure]):
    """A Control Room that logs in (``ISSUED``) and answers every other call with ``failure``."""

    def send(request: ApiRequest) -> ApiResponse | TransportFailure:
        if request.path.endswith("/authentication"):
            return ApiResponse(200, JSON, json.dumps({"token": ISSUED, "user": {}}).encode())
        return failure(request)

    return send


def every_form(mode: str) -> str:
    """Each secret as it was sent, JSON-escaped (a body echoed), and in a query string."""
    return " ".join(
        f"{secret} {json.dumps(secret)} {json.dumps(secret, ensure_ascii=False)} ?token={secret}"
        for secret in secrets_of(mode)
    )


def answers(mode: str) -> list[Callable[[ApiRequest], ApiResponse | TransportFailure]]:
    echoed = every_form(mode)
    cut = secrets_of(mode)[0]
    return [
        # The Control Room's error fields quote the secrets.
        lambda request: ApiResponse(
            400, JSON, json.dumps({"code": echoed, "message": f"bad request: {echoed}", "details": echoed}).encode()
        ),
        # A gateway's text page echoing the request, its excerpt cut inside a secret.
        lambda request: ApiResponse(502, {}, (" " * 3 + "x" * (200 - 3 - 12) + cut).encode()),
        # A connect failure quoting the request's query string.
        lambda request: TransportFailure(
            "connect", f"could not connect: GET {request.path}?token={secrets_of(mode)[-1]}"
        ),
    ]


def failing_call() -> ApiRequest:
    return ApiRequest("POST", "/v3/wlm/queues/list", {"page": {"offset": 0, "length": 1}})


def run_sync(mode: str, failure) -> AutomationAnywhereError:
    session = new_session(settings(mode), clock=FakeClock())
    with pytest.raises(AutomationAnywhereError) as caught:
        drive(
            session.request_json(failing_call()),
            send=echoing(mode, failure),
            sleep=lambda seconds: None,
            mask=lambda secret: None,
            authenticator=session,
            lock=threading.Lock(),
        )
    return caught.value


def run_async(mode: str, failure) -> AutomationAnywhereError:
    session = new_session(settings(mode), clock=FakeClock())
    send = echoing(mode, failure)

    async def asend(request: ApiRequest) -> ApiResponse | TransportFailure:
        return send(request)

    async def nothing(_: object) -> None:
        return None

    operation: Operation[object] = session.request_json(failing_call())
    with pytest.raises(AutomationAnywhereError) as caught:
        asyncio.run(
            adrive(operation, send=asend, sleep=nothing, mask=nothing, authenticator=session, lock=asyncio.Lock())
        )
    return caught.value


@pytest.mark.parametrize("mode", ["password", "api_key", "token"])
@pytest.mark.parametrize("case", [0, 1, 2], ids=["error_fields", "cut_excerpt", "connect_failure"])
@pytest.mark.parametrize("runner", [run_sync, run_async], ids=["hook", "trigger"])
def test_no_secret_the_session_knows_reaches_the_error(mode, case, runner):
    error = runner(mode, answers(mode)[case])
    shown = " ".join(
        str(part) for part in (error, repr(error), error.summary, error.code, error.message, error.details, error.path)
    )
    assert "***" in shown
    for secret in secrets_of(mode):
        for form in (secret, json.dumps(secret)[1:-1], secret[:12]):
            assert form not in shown
