"""
The baseline: what users write without this provider (and what the Camunda connector does).

Plain ``requests``: every operation logs in first (``POST /v2/authentication``), then makes
its one call; one work item per add request; one status request per item (a list request
with an ``eq`` filter on the id). Kind to the baseline: it keeps its HTTP connections
alive (a ``requests.Session`` per thread) and asks for multi-session tokens so that
parallel callers do not end each other's sessions.
"""

from __future__ import annotations

import threading
from typing import Any

import requests


class PlainClient:
    def __init__(self, url: str, username: str, password: str, timeout: float = 30.0) -> None:
        self.url = url
        self._credentials = {"username": username, "password": password, "multipleLogin": True}
        self._timeout = timeout
        self._local = threading.local()

    @classmethod
    def for_emulator(cls, emulator: Any) -> PlainClient:
        credentials = emulator.credentials("password")
        return cls(emulator.url, credentials["login"], credentials["password"])

    @property
    def _http(self) -> requests.Session:
        if not hasattr(self._local, "http"):
            self._local.http = requests.Session()
        return self._local.http

    def _post(self, path: str, body: dict[str, Any], token: str | None = None) -> Any:
        headers = {"X-Authorization": token} if token else {}
        answer = self._http.post(self.url + path, json=body, headers=headers, timeout=self._timeout)
        answer.raise_for_status()
        return answer.json()

    def login(self) -> str:
        return self._post("/v2/authentication", self._credentials)["token"]

    def add_work_item(self, queue_id: int | str, item: dict[str, Any]) -> str:
        """Log in, add one item; its id."""
        token = self.login()
        answer = self._post(f"/v3/wlm/queues/{queue_id}/workitems", {"workItems": [{"json": item}]}, token)
        return str(answer["list"][0]["id"])

    def status(self, queue_id: int | str, item_id: str) -> str | None:
        """Log in, read one item's status (``None`` when the queue does not hold it)."""
        token = self.login()
        body = {"filter": {"operator": "eq", "field": "id", "value": item_id}, "page": {"offset": 0, "length": 1}}
        found = self._post(f"/v3/wlm/queues/{queue_id}/workitems/list", body, token)["list"]
        return found[0]["status"] if found else None
