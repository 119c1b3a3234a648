"""
The Control Room emulator of the deployment test, as a process of its own, with the controls
the deployment test needs and ``/_emulator/`` lacks.

``python scripts/deployment/emulator_server.py --seed SEED --info-file FILE [--token-lifetime S]``
starts :class:`ControlRoomEmulator` (its ``/_emulator/`` controls included) on a free port and
a second small HTTP server (the *harness* controls) on another one, writes
``{"url", "harness_url", "pid"}`` to ``--info-file`` and serves until SIGTERM.

Harness controls (JSON; no authentication, 127.0.0.1 only):

=======  ==================  ================================================================
POST     /password           ``{"username", "password"}``: ``emulator.set_password`` (no HTTP
                             control exists for it)
GET      /tokens             every token the emulator issued (logins, renewals, pre-issued),
                             to look for them in logs (the emulator does not list them)
GET      /log?since=N        the requests from the N-th on, when they came in (``phase``
                             ``start``) and when answered (``end``): ``t``, ``method``, ``path``,
                             ``status``, ``agent`` (User-Agent: the sync hook sends
                             ``python-requests``, the triggerer's httpx ``python-httpx``),
                             ``user`` (the token's user, or the username of a login)
GET      /work_items/<q>     the queue's items as the API shows them
GET      /bot_runs           every bot run's activity record
POST     /release            ``{"queue", "ids", "status"}``: set held items' status as a
                             person in the Control Room would (no HTTP traffic counted)
POST     /add                ``{"queue", "items"}``: add items straight into a queue (no HTTP
                             traffic counted); answers their ids
=======  ==================  ================================================================
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from automation_anywhere_emulator import ControlRoomEmulator, EmulatorConfig
from automation_anywhere_emulator.server import RequestEvent

#: The seed user the harness acts as when it releases held items.
RELEASER = "ops_admin"


class Recorder:
    """Every issued token, and every Control Room request with its client and user (the emulator's observers)."""

    def __init__(self, emulator: ControlRoomEmulator) -> None:
        self.lock = threading.Lock()
        self.tokens: list[str] = []
        self.requests: list[dict[str, Any]] = []
        emulator.observe(requests=self.add, tokens=self.add_token)

    def add_token(self, token: str) -> None:
        with self.lock:
            self.tokens.append(token)

    def add(self, event: RequestEvent) -> None:
        entry = {
            "t": time.time(),
            "phase": event.phase,
            "method": event.method,
            "path": event.path,
            "status": event.status,
            "fault": event.fault,
            "agent": event.user_agent.split("/")[0],
            "user": event.user,
        }
        with self.lock:
            self.requests.append(entry)


def harness_handler(emulator: ControlRoomEmulator, recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _reply(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}")

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            try:
                if url.path == "/tokens":
                    with recorder.lock:
                        return self._reply(200, {"tokens": list(recorder.tokens)})
                if url.path == "/log":
                    since = int(parse_qs(url.query).get("since", ["0"])[0])
                    with recorder.lock:
                        return self._reply(200, {"requests": recorder.requests[since:], "next": len(recorder.requests)})
                if url.path.startswith("/work_items/"):
                    return self._reply(200, {"items": emulator.work_items(url.path.rsplit("/", 1)[1])})
                if url.path == "/bot_runs":
                    return self._reply(200, {"runs": emulator.bot_runs()})
            except Exception as problem:
                return self._reply(400, {"error": repr(problem)})
            self._reply(404, {"error": f"no harness control GET {url.path}"})

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            try:
                body = self._body()
                if url.path == "/password":
                    emulator.set_password(body["username"], body["password"])
                    return self._reply(200, {"ok": True})
                if url.path == "/add":
                    added = emulator.add_work_items(body["queue"], body["items"])
                    return self._reply(200, {"ids": [item["id"] for item in added]})
                if url.path == "/release":
                    return self._reply(200, {"released": release(emulator, body["queue"], body["ids"], body["status"])})
            except Exception as problem:
                return self._reply(400, {"error": repr(problem)})
            self._reply(404, {"error": f"no harness control POST {url.path}"})

    return Handler


def release(emulator: ControlRoomEmulator, queue_id: Any, ids: list[Any], status: str) -> int:
    """Set items' status as the ``ops_admin`` user would in the Control Room's UI."""
    for item_id in ids:
        emulator.update_work_item(queue_id, item_id, username=RELEASER, status=status, result="released by the harness")
    return len(ids)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", required=True)
    parser.add_argument("--info-file", required=True)
    parser.add_argument("--token-lifetime", type=float, default=20.0)
    parser.add_argument("--pickup-delay", type=float, default=0.5)
    parser.add_argument("--work-delay", type=float, default=0.5)
    args = parser.parse_args()
    config = EmulatorConfig(
        token_lifetime=args.token_lifetime, pickup_delay=args.pickup_delay, work_delay=args.work_delay
    )
    emulator = ControlRoomEmulator(config, seed=args.seed)
    recorder = Recorder(emulator)
    emulator.start()
    harness = ThreadingHTTPServer(("127.0.0.1", 0), harness_handler(emulator, recorder))
    harness.daemon_threads = True
    threading.Thread(target=harness.serve_forever, daemon=True).start()
    info = {"url": emulator.url, "harness_url": f"http://127.0.0.1:{harness.server_address[1]}"}
    Path(args.info_file).write_text(json.dumps(info))
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    print(f"emulator {info['url']} harness {info['harness_url']}", flush=True)
    try:
        stopping.wait()
    finally:
        harness.shutdown()
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
