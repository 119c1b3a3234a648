"""
The triggerer's status look-up given hostile answers (gzip-compressed, as a proxy may send
them): a clear AutomationAnywhereError, within bounded memory.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import tracemalloc

import httpx
import pytest

from airflow_provider_aa.control_room.errors import AutomationAnywhereError
from airflow_provider_aa.triggers.clients import TriggerClients
from tests.conftest import BASE_URL, PASSWORD, make_token

#: 1.2 million empty objects in 3.6 MB: about 100 MB once decoded.
MANY_OBJECTS = b'{"page": {"totalFilter": 1}, "list": [' + b"{}," * 1_200_000 + b"{}]}"


@pytest.fixture(autouse=True)
def connection(use_connection):
    use_connection(login="jdoe", password=PASSWORD, extra={"auth_type": "password"})


def look_up(list_answer: bytes) -> None:
    """A status look-up of one work item whose list request is answered with ``list_answer``, gzipped."""

    def answer(request: httpx.Request) -> httpx.Response:
        login = request.url.path == "/v2/authentication"
        body = json.dumps({"token": make_token()}).encode() if login else list_answer

        async def stream():  # as from the network
            yield gzip.compress(body)

        return httpx.Response(200, content=stream(), headers={"Content-Encoding": "gzip"})

    async def main() -> None:
        client = await TriggerClients().client("automation_anywhere_default")
        client._http.client = httpx.AsyncClient(base_url=BASE_URL, transport=httpx.MockTransport(answer))
        try:
            await client.lookup("20", ["1"])
        finally:
            await client._http.aclose()

    asyncio.run(main())


def test_a_huge_compressed_answer_fails_clearly_without_being_built():
    tracemalloc.start()
    try:
        with pytest.raises(AutomationAnywhereError, match="too large to decode"):
            look_up(MANY_OBJECTS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 6 * len(MANY_OBJECTS)


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (b"[" * 200_000 + b"]" * 200_000, "too large to decode"),
        (b"[" * 5_000 + b"]" * 5_000, "nested 5000 levels deep"),
        (json.dumps({"page": {"totalFilter": 1}, "list": [{"id": "1"}]}).replace("1}", "1e400}").encode(), "1e400"),
    ],
    ids=["200000-deep", "5000-deep", "1e400"],
)
def test_a_hostile_answer_fails_the_look_up_clearly(answer, problem):
    with pytest.raises(AutomationAnywhereError, match=problem):
        look_up(answer)
