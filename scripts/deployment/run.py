"""
``make test-deployment``: the provider in a real Airflow deployment against the emulator.

What runs
---------
Each Airflow component as a process of its own, in a throw-away ``AIRFLOW_HOME``:
``airflow api-server``, ``airflow scheduler`` (LocalExecutor), ``airflow dag-processor`` and
``airflow triggerer``; the Control Room emulator (``emulator_server.py`` beside this file: the
package's emulator plus the few controls this test needs that ``/_emulator/`` lacks); and
PostgreSQL as the metadata database. DAG runs are triggered through the REST API (the
SimpleAuthManager with an admin user and a password file, as users sign in), waited for by
polling the API, and judged by the API's run and task states and the emulator's counters and
request log — never by log text alone. Every process is stopped at the end, on failure too
(``finally``, SIGTERM and SIGINT handled; each component in its own process group).

Why PostgreSQL
--------------
Airflow documents SQLite as "intended for development purposes only" and PostgreSQL or
MySQL for a real deployment ("Set up a Database Backend"); with SQLite, a single writer,
LocalExecutor's parallel task processes, the scheduler, the triggerer and the API server
serialise on one file lock. Airflow 3.3 itself no longer refuses LocalExecutor on SQLite
(the old config check is gone; ``configuration.py`` only checks the SQLite version), so the
choice is the documentation's. PostgreSQL is Debian's package (``.ci/run`` installs
``postgresql`` when missing): this script runs ``initdb`` and ``postgres`` from
``/usr/lib/postgresql/<newest>/bin`` as an unprivileged user (``postgres``, made by the
Debian package, else ``nobody``; as is when not root), on a free port of 127.0.0.1, with a
random password, ``fsync=off`` (a throw-away database). Drivers (the ``test`` extra):
``psycopg2-binary`` for ``postgresql+psycopg2://`` (Airflow's documented sync driver) and
``asyncpg``, the async driver Airflow 3.3 derives from it for the API server's async
sessions.

Cases (one line each: ``PASS``/``FAIL``, name, counts)
-----------------------------------------------------
1. ``examples``: the five example DAGs in each auth mode (``password`` with
   ``multiple_login``: the files as they are; ``api_key`` and ``token``: the same code with
   another connection, ``dags/deployment_examples_per_mode.py``), plus the sensors in
   ``reschedule`` mode in each mode; the deferrable ones wait in the real triggerer.
2. ``fanout``: 100 deferred sensors in one triggerer: 1 login by the triggerer, at most
   1 list request per queue per poll round.
3. ``kill-add``: a worker (the LocalExecutor worker and its task process) SIGKILLed in the
   middle of a 1,000-item add, ``retries=1``: the retry finishes, 0 duplicates, 0 missing
   (``task_instance_heartbeat_timeout`` 20 s for the test).
4. ``triggerer-restart``: the triggerer SIGKILLed during a deferred wait and started again:
   the wait resumes in the new triggerer and finishes.
5. ``rotation``: the password changed in the metadata database's connection and in the
   emulator while sensors are deferred: the triggerer logs in with the new one.
6. ``secrets``: no password, API key or token (every token the emulator issued, renewed ones
   included) in any task log read through the API server, the triggerer's log, or any other
   log of the deployment.
7. ``deploy-kill``: a bot deployed with ``wait_for_completion``, the worker SIGKILLed after
   the Control Room accepted the deploy (its answer still on the way): the bot runs once.
8. ``single-session``: the deferrable example with the connection's default, ``multiple_login``
   false, as a newcomer's first connection: one run alone, four at once, then one alone again
   once the session's eviction window has passed. The first and last must succeed (the
   triggerer's shared session recovers without a restart); what four runs at once do (sessions
   ending each other, UM1114) is reported as it happens, not required.
9. ``asset-watcher``: a DAG scheduled on an asset whose watcher watches queue 39; 30 held
   items completed in three batches start runs that together see each item exactly once. On
   Airflow 3.3 the triggerer is SIGKILLed after the first batch, the second completes while
   none runs, and the new triggerer reports it from the watermark in the asset state store.

The Celery leg (``--executor celery``)
-------------------------------------
The same deployment with Airflow's CeleryExecutor: Debian's ``redis-server`` as the broker
(started by this script as an unprivileged user — ``redis``, made by the package, else
``nobody`` — on a free port of 127.0.0.1, in a folder of its own, with a random password in
its config file; ``.ci/run`` installs it when missing), PostgreSQL as metadata database and
Celery's result backend, two Celery workers (``worker-a``, ``worker-b``: hostnames and log
server ports of their own, concurrency 4) and two triggerers (``triggerer-a``,
``triggerer-b``, each known by its job id). A liveness probe restarts a triggerer that runs
but stopped heartbeating (``STALLED_AFTER``), as a real deployment's probe would: each
restart is printed and named in the line of the cases it happened during. Cases (one line
each):

c1. ``fanout``: ``--waits`` (1,000) sensors on two queues that start and end in the
    triggerer (``start_from_trigger``), spread over both triggerers: each triggerer logs in
    once; per queue and poll round at most one list request per 100 waits each triggerer
    holds; the busiest rounds while the waits arrive reported; every wait finishes in its
    first try, and no sensor logs in on a worker.
c2. ``mapped``: 50 mapped add tasks on both workers at once: each instance run once per try
    (the workers' own logs), 50 items, 0 duplicates, 0 missing; its connection shares one
    session through the host's session cache (``session_cache``): one login, and at most one more
    per token lifetime (20 s here) for the 50 task processes; none logs out. ``mapped-variables`` (no session cache: one login each): the
    same with the progress in Variables as on Airflow 3.1/3.2 (the DAG drops 3.3's task state
    store from the context): while they run, every instance's progress Variable is listed in
    an index Variable (read through the REST API); none is left after.
c3. ``rotation``: as case 5.
c4. ``takeover``: 40 deferred waits; the triggerer holding most SIGKILLed: the other holds
    them all after Airflow's health-check threshold, and they finish in their first try.
c5. ``kill-add``, c6. ``deploy-kill``: cases 3 and 7 with the whole Celery worker running the
    task SIGKILLed (main process, pool processes and the task): the retry runs on the other
    worker; the killed one is started again after the case. Each alone: a killed worker takes
    every task on it down, another case's too.
c7. ``secrets``: as case 6, the Redis password included.
c8. ``asset-watcher`` (alone, after c4): the watcher of case 9 with two triggerers (c4's
    killed one started again first): 30 held items completed in three batches; the second's
    event recorded, the triggerer running the watcher (the trigger table's ``triggerer_id``)
    is SIGKILLed at once, inside the window in which that event's watermark is not stored
    yet, and the third completes while no triggerer runs the watcher. The other takes it
    over from the stored watermark: the runs report exactly the items of the asset's events,
    each of the 30 at least once, and twice only an item whose first event was recorded at
    most ``STORE_DELAY`` + one poll interval + 1 s before the kill (batch 2's).

Each case has users (and queues) of its own in the emulator's seed, so that cases running at
the same time do not mix their counts. The harness's request log tells the workers' sync
hook (``python-requests``) from the triggerer (``python-httpx``) and is checked against the
emulator's own login counters.

Airflow 3.3.2 bugs met on the way (see ``DEFAULT_TASK_RETRIES`` below and
``dags/deployment_reschedule.py``): a deferred task whose trigger fires before the scheduler
has handled the executor's event of the deferring try is failed ("state mismatch",
apache/airflow#72716, #71580), as is a reschedule-mode sensor whose next poke is queued that
early (#71172); a try failed that way is missing from the task's history, so its log is not
served by the API (#67371; case 6 reads it from disk).

Bounded: every wait has a timeout, and the whole run a deadline (``--budget``, 570 s; 1080 s
for the Celery leg).
``--keep`` keeps the throw-away folders (kept anyway when a case fails); ``--only CASE``
runs some cases.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow_provider_aa.control_room.listing import PAGE_LENGTH

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
AIRFLOW = Path(sys.executable).with_name("airflow")
EXAMPLE_DAGS = ROOT / "example_dags"
TEST_DAGS = HERE / "dags"
ADMIN = "admin"
TOKEN_LIFETIME = 20.0  # emulator tokens: renewed several times during the run
FANOUT_POLL = 5.0  # deployment_fanout.py's poke_interval
HEARTBEAT_TIMEOUT = 20
TRIGGERER_HEARTBEAT = 2  # [triggerer] job_heartbeat_sec
#: A killed triggerer's triggers go to another after this many seconds without its heartbeat.
TRIGGERER_HEALTH_CHECK_THRESHOLD = 15
#: The Celery leg's liveness probe restarts a triggerer whose process runs while its heartbeat
#: is older than this, as a real deployment's probe does (Airflow's Helm chart runs
#: ``airflow jobs check --job-type TriggererJob --local``): an Airflow 3.3 triggerer can stall
#: for good (docs/running-at-scale.md), and its triggers beyond the other's capacity would wait.
STALLED_AFTER = 60.0
CELERY_CONCURRENCY = 4  # task processes per Celery worker
#: Case c1-fanout's sensors by default (``--waits``), in DAGs of FANOUT_DAG_WAITS
#: (dags/deployment_celery_waits.py); the time they take: see the Makefile.
CELERY_WAITS = 1000
FANOUT_DAG_WAITS = 20  # one queue per DAG, 30 and 31 in turn
RELEASED_PER_ROUND = 200  # case c1-fanout's held items released per poll round
FANOUT_TOKEN_LIFETIME = 120.0  # case c1-fanout's emulator tokens (see case_celery_fanout)
TAKEOVER_WAITS = 40  # dags/deployment_celery_waits.py
EXAMPLE_IDS = (
    "example_automation_anywhere_work_items",
    "example_automation_anywhere_deferrable",
    "example_automation_anywhere_one_task",
    "example_automation_anywhere_bot",
    "example_automation_anywhere_bot_one_task",
)
MODES = {"password": "automation_anywhere_default", "api_key": "aa_api_key", "token": "aa_token"}
MODE_USERS = {"password": "bot_runner", "api_key": "api_user", "token": "token_user"}
#: Users and queues of the test's own cases, so that each case's counts are its own.
CASE_USERS = (
    "fanout_user",
    "kill_user",
    "restart_user",
    "rotate_user",
    "deploy_user",
    "ops_admin",
    "single_session_user",
    "watch_user",
    "mapped_user",
    "takeover_user",
    "variables_user",
)
CASE_QUEUES = {
    30: "Fanout A",
    31: "Fanout B",
    32: "Kill add",
    33: "Triggerer restart",
    34: "Rotation",
    35: "Single session",
    36: "Mapped adds",
    37: "Takeover",
    38: "Mapped adds (Variables)",
    39: "Asset watcher",
}
#: The deferrable example on a connection without ``multiple_login`` (dags/deployment_examples_per_mode.py).
SINGLE_SESSION_DAG = "example_automation_anywhere_deferrable__single_session"
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class CaseFailed(Exception):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise CaseFailed(message)


# -- processes --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Proc:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    started: float = field(default_factory=time.time)

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


class Processes:
    """Every process this script started, each in its own process group; all stopped at the end."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: list[Proc] = []
        self._lock = threading.Lock()

    def start(self, name: str, args: list[str], env: dict[str, str], **popen: Any) -> Proc:
        log = self.log_dir / f"{name}.log"
        with open(log, "ab") as out:
            process = subprocess.Popen(
                args,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                **popen,
            )
        proc = Proc(name, process, log)
        with self._lock:
            self.procs.append(proc)
        return proc

    @staticmethod
    def stop(proc: Proc, sig: int = signal.SIGTERM, grace: float = 15.0) -> None:
        """Signal the process group, wait, then SIGKILL the group (by its id, never by name)."""
        pgid = proc.process.pid  # start_new_session: the group id is the leader's pid
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)
        try:
            proc.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
        # Whatever of the group is left (workers, the triggerer's runner, uvicorn workers).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.process.wait(timeout=10)

    def stop_all(self, last: Iterable[str] = ()) -> None:
        later = set(last)
        with self._lock:
            first = [proc for proc in reversed(self.procs) if proc.name not in later]
            after = [proc for proc in reversed(self.procs) if proc.name in later]
        # Airflow's components together (each SIGTERMed, then waited for), then the rest.
        with ThreadPoolExecutor(max_workers=max(1, len(first))) as pool:
            list(pool.map(self.stop, first))
        for proc in after:
            self.stop(proc, signal.SIGINT if proc.name == "postgres" else signal.SIGTERM)


def become_subreaper() -> None:
    """
    Orphans of our processes (a task process whose supervisor died: Airflow gives task
    processes process groups of their own) are re-parented to this script instead of init,
    so that :func:`reap_orphans` can end them.
    """
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def reap_orphans() -> int:
    """SIGKILL and reap whatever is left among this script's children (all started by it); returns how many."""
    ended = 0
    for _ in range(5):
        children = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == os.getpid():
                    children[int(stat.parent.name)] = fields[0]
        if not children:
            break
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for pid in children:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        ended += sum(state != "Z" for state in children.values())  # zombies (the killed workers' tasks) only reaped
    return ended


def http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None, timeout: float = 30) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with _NO_PROXY.open(request, timeout=timeout) as answer:
            text = answer.read()
    except urllib.error.HTTPError as error:
        raise CaseFailed(f"{method} {url} -> HTTP {error.code}: {error.read()[:500]!r}") from None
    return json.loads(text) if text.strip() else None


def wait_for(what: str, condition: Callable[[], Any], timeout: float, interval: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise CaseFailed(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


# -- PostgreSQL -------------------------------------------------------------------------


def postgres_bin() -> Path:
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if versions:
        return versions[-1].parent
    found = shutil.which("postgres")
    if found:
        return Path(found).resolve().parent
    raise SystemExit("PostgreSQL is not installed: apt-get install -y postgresql (.ci/run does)")


def unprivileged(user: str, workdir: Path) -> dict[str, Any]:
    """Popen arguments to run as ``user`` (else ``nobody``) when root, owning ``workdir``; none when not root."""
    if os.geteuid() != 0:
        return {}
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        entry = pwd.getpwnam("nobody")
    os.chown(workdir, entry.pw_uid, entry.pw_gid)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def start_postgres(procs: Processes, workdir: Path) -> tuple[str, str]:
    """initdb + postgres as an unprivileged user; returns (the SQLAlchemy URL, the server version)."""
    bindir = postgres_bin()
    popen = unprivileged("postgres", workdir)
    password = secrets.token_urlsafe(16)
    pwfile = workdir / "pwfile"
    pwfile.write_text(password + "\n")
    if popen:
        os.chown(pwfile, popen["user"], popen["group"])
    data = workdir / "data"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    initdb = subprocess.run(
        [
            str(bindir / "initdb"),
            "-D",
            str(data),
            "-U",
            "airflow",
            f"--pwfile={pwfile}",
            "--auth=scram-sha-256",
            "-E",
            "UTF8",
        ],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        **popen,
    )
    if initdb.returncode:
        raise SystemExit(f"initdb failed:\n{initdb.stdout}\n{initdb.stderr}")
    port = free_port()
    procs.start(
        "postgres",
        [
            str(bindir / "postgres"),
            "-D",
            str(data),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"port={port}",
            "-c",
            f"unix_socket_directories={workdir}",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=400",
        ],
        env,
        cwd=workdir,
        **popen,
    )
    pg_env = {**env, "PGPASSWORD": password}
    wait_for(
        "PostgreSQL to accept connections",
        lambda: (
            subprocess.run(
                [str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)], env=pg_env, capture_output=True
            ).returncode
            == 0
        ),
        60,
        0.2,
    )
    created = subprocess.run(
        [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "airflow", "airflow"],
        env=pg_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if created.returncode:
        raise SystemExit(f"createdb failed: {created.stderr}")
    version = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True).stdout.strip()
    return f"postgresql+psycopg2://airflow:{password}@127.0.0.1:{port}/airflow", version


# -- Redis (the Celery leg's broker) ---------------------------------------------------


def start_redis(procs: Processes, workdir: Path) -> tuple[str, str, str]:
    """
    Debian's ``redis-server`` as an unprivileged user (``redis``, made by the package, else
    ``nobody``), on a free port of 127.0.0.1, in a folder of its own, with a random password
    (in its config file, not on its command line), nothing saved to disk. Returns (the broker
    URL, the password, the server version).
    """
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(server).exists():
        raise SystemExit("Redis is not installed: apt-get install -y redis-server (.ci/run does)")
    popen = unprivileged("redis", workdir)
    password = secrets.token_urlsafe(16)
    port = free_port()
    config = workdir / "redis.conf"
    config.write_text(
        f"bind 127.0.0.1\nport {port}\nrequirepass {password}\ndir {workdir}\n"
        'save ""\nappendonly no\ndaemonize no\nprotected-mode yes\n'
    )
    config.chmod(0o600)
    if popen:
        os.chown(config, popen["user"], popen["group"])
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    procs.start("redis", [server, str(config)], env, cwd=workdir, **popen)

    def ping() -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
            conn.sendall(f"AUTH {password}\r\nPING\r\n".encode())
            answer = b""
            while answer.count(b"\r\n") < 2:
                chunk = conn.recv(100)
                if not chunk:
                    break
                answer += chunk
            return answer == b"+OK\r\n+PONG\r\n"
        return False

    wait_for("Redis to answer", ping, 30, 0.2)
    version = subprocess.run([server, "--version"], capture_output=True, text=True).stdout.split(" sha=")[0].strip()
    return f"redis://:{password}@127.0.0.1:{port}/0", password, version


# -- the emulator and its traffic -------------------------------------------------------


def make_seed(path: Path) -> dict[str, str]:
    """The default seed plus a user per case and the cases' queues; returns the users' passwords."""
    from importlib import resources

    seed = json.loads(resources.files("automation_anywhere_emulator").joinpath("default_seed.json").read_text())
    passwords = {}
    for number, username in enumerate(CASE_USERS):
        passwords[username] = f"{username.title().replace('_', '')}-{secrets.token_urlsafe(9)}"
        seed["users"].append(
            {
                "id": 60 + number,
                "username": username,
                "password": passwords[username],
                "allowMultipleLogin": True,
                "domain": "",
                "firstName": username,
                "lastName": "Deployment",
                "email": f"{username}@example.com",
                "description": "deployment test user",
                "disabled": False,
                "roles": [{"id": 14, "name": "AAE_Queue Admin"}],
            }
        )
    for queue_id, name in CASE_QUEUES.items():
        seed["queues"].append(
            {
                "id": queue_id,
                "name": name,
                "description": name,
                "disallowDuplicate": False,
                "autoRetryLimit": 0,
                "workItemModelId": queue_id + 100,
            }
        )
    path.write_text(json.dumps(seed))
    return passwords


class Emulator:
    """The emulator process's two HTTP sides, and the request log it keeps (with client and user)."""

    def __init__(self, url: str, harness_url: str) -> None:
        self.url = url
        self.harness = harness_url
        self._log: list[dict[str, Any]] = []
        self._next = 0
        self._lock = threading.Lock()

    def control(self, method: str, name: str, body: Any = None) -> Any:
        return http(method, f"{self.url}/_emulator/{name}", body)

    def harness_call(self, method: str, name: str, body: Any = None) -> Any:
        return http(method, f"{self.harness}/{name}", body)

    def requests(self, **match: Any) -> list[dict[str, Any]]:
        """The request log so far, filtered: ``user``, ``agent`` (requests/httpx), ``method``, ``path_part``, ``since``, ``status``."""
        with self._lock:
            page = self.harness_call("GET", f"log?since={self._next}")
            self._log.extend(page["requests"])
            self._next = page["next"]
            entries = list(self._log)
        since = match.pop("since", None)
        path_part = match.pop("path_part", None)
        path_end = match.pop("path_end", None)
        agent = match.pop("agent", None)
        match.setdefault("phase", "end")
        return [
            entry
            for entry in entries
            if (since is None or entry["t"] >= since)
            and (path_part is None or path_part in entry["path"])
            and (path_end is None or entry["path"].endswith(path_end))
            and (agent is None or entry["agent"] == AGENTS[agent])
            and all(entry.get(key) == value for key, value in match.items())
        ]

    def logins(self, **match: Any) -> list[dict[str, Any]]:
        return self.requests(method="POST", path_end="/authentication", **match)

    def check_against_counters(self, users: Iterable[str]) -> None:
        """The request log attributes to each user exactly the logins the emulator's own counters count."""
        counted = self.control("GET", "counters")["logins"]
        for user in users:
            logged = len(self.logins(user=user, status=200))
            check(
                counted.get(user, 0) == logged,
                f"the emulator counted {counted.get(user, 0)} logins of {user}, its request log {logged}",
            )

    def items(self, queue_id: int) -> list[dict[str, Any]]:
        return self.harness_call("GET", f"work_items/{queue_id}")["items"]

    def release(self, queue_id: int, ids: list[str]) -> None:
        self.harness_call("POST", "release", {"queue": queue_id, "ids": ids, "status": "COMPLETED"})


#: The User-Agent product of each client: the sync hook (workers) and the triggerer.
AGENTS = {"workers": "python-requests", "triggerer": "python-httpx"}


def connection_env(url: str, login: str | None, auth_type: str, *, password: str | None = None, **extra: Any) -> str:
    fields: dict[str, Any] = {
        "conn_type": "automation_anywhere",
        "host": url,
        "extra": {"auth_type": auth_type, **extra},
    }
    if login:
        fields["login"] = login
    if password:
        fields["password"] = password
    return json.dumps(fields)


# -- Airflow ----------------------------------------------------------------------------


class Api:
    """Airflow's REST API as a user calls it: a JWT from /auth/token, then /api/v2."""

    def __init__(self, base: str, password: str) -> None:
        self.base = base
        self.password = password
        self._token: str | None = None

    def sign_in(self) -> None:
        self._token = http("POST", f"{self.base}/auth/token", {"username": ADMIN, "password": self.password})[
            "access_token"
        ]

    def call(self, method: str, path: str, body: Any = None, **query: Any) -> Any:
        url = f"{self.base}/api/v2/{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query, doseq=True)
        return http(
            method, url, body, {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}, timeout=60
        )

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        return self.call("POST", f"dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf or {}})["dag_run_id"]

    def run_state(self, dag_id: str, run_id: str) -> str:
        return self.call("GET", f"dags/{dag_id}/dagRuns/{q(run_id)}")["state"]

    def wait_run(self, dag_id: str, run_id: str, timeout: float) -> str:
        return wait_for(
            f"DAG run {dag_id} to finish",
            lambda: (lambda s: s if s in ("success", "failed") else None)(self.run_state(dag_id, run_id)),
            timeout,
            1.0,
        )

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            page = self.call("GET", f"dags/{dag_id}/dagRuns/{q(run_id)}/taskInstances", limit=100, offset=len(found))
            found.extend(page["task_instances"])
            if not page["task_instances"] or len(found) >= page["total_entries"]:
                return found

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        return self.call("GET", f"dags/{dag_id}/dagRuns/{q(run_id)}/taskInstances/{task_id}")

    def log(self, dag_id: str, run_id: str, task_id: str, try_number: int, map_index: int) -> str:
        parts: list[str] = []
        token = None
        for _ in range(20):
            query: dict[str, Any] = {"full_content": "true", "map_index": map_index}
            if token:
                query["token"] = token
            answer = self.call(
                "GET", f"dags/{dag_id}/dagRuns/{q(run_id)}/taskInstances/{task_id}/logs/{try_number}", **query
            )
            parts.append(json.dumps(answer.get("content")))
            token = answer.get("continuation_token")
            if not token or not answer.get("content"):
                break
        return "\n".join(parts)


def q(text: str) -> str:
    return urllib.parse.quote(text, safe="")


@dataclass
class Deployment:
    args: argparse.Namespace
    procs: Processes
    home: Path
    env: dict[str, str]
    api: Api
    emulator: Emulator
    passwords: dict[str, str]
    pre_issued_token: str
    started: float
    deadline: float
    runs: list[tuple[str, str]] = field(default_factory=list)
    triggerers: int = 1
    executor: str = "LocalExecutor"
    #: The Celery leg's triggerers by their job id in the metadata database.
    triggerer_jobs: dict[int, str] = field(default_factory=dict)
    #: The Celery leg's workers killed by a case, started again when it ends.
    killed_workers: list[str] = field(default_factory=list)
    #: What the cases measured, written to ``--measures`` (docs/running-at-scale.md).
    measures: dict[str, Any] = field(default_factory=dict)
    #: Triggerers the liveness probe restarted: (when, what it saw).
    restarts: list[tuple[float, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def remaining(self, cap: float) -> float:
        return max(5.0, min(cap, self.deadline - time.monotonic()))

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        run_id = self.api.trigger(dag_id, conf)
        with self._lock:
            self.runs.append((dag_id, run_id))
        return run_id

    def start_component(self, name: str, args: list[str], **env: str) -> Proc:
        return self.procs.start(name, [str(AIRFLOW), *args], {**self.env, **env})

    def start_worker(self, name: str) -> Proc:
        """A Celery worker of its own hostname and log server port (two share this machine)."""
        return self.start_component(
            name,
            ["celery", "worker", "--celery-hostname", f"{name}@%h", "--concurrency", str(CELERY_CONCURRENCY)],
            AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()),
        )

    def component(self, name: str) -> Proc:
        return next(proc for proc in reversed(self.procs.procs) if proc.name == name)


def kill_worker(deployment: Deployment, dag_id: str, run_id: str, task_id: str) -> str:
    """
    SIGKILL the task's process and the LocalExecutor worker supervising it (a worker dying);
    on Celery, the whole Celery worker running it (main process, pool processes, the task).
    """
    ti = deployment.api.task_instance(dag_id, run_id, task_id)
    pid = ti.get("pid")
    check(bool(pid), f"{dag_id}.{task_id} has no pid in the API ({ti.get('state')})")
    if deployment.executor == "CeleryExecutor":
        return kill_celery_worker(deployment, int(pid))
    try:
        supervisor = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        title = Path(f"/proc/{supervisor}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except (OSError, ValueError, IndexError) as problem:
        raise CaseFailed(f"task process {pid} of {dag_id}.{task_id} is not running here ({problem})") from None
    check("LocalExecutor" in title, f"the parent of task process {pid} is not a LocalExecutor worker: {title!r}")
    for victim in (supervisor, pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
    return f"task pid {pid} + worker pid {supervisor}"


def kill_celery_worker(d: Deployment, pid: int) -> str:
    """SIGKILL the Celery worker component that task process ``pid`` descends from, and the task (its own group)."""
    components = {proc.process.pid: proc for proc in d.procs.procs if proc.name.startswith("worker-") and proc.alive()}
    ancestor = pid
    for _ in range(10):
        if ancestor in components:
            break
        try:
            ancestor = int(Path(f"/proc/{ancestor}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError) as problem:
            raise CaseFailed(f"task process {pid} is not running here ({problem})") from None
    check(ancestor in components, f"task process {pid} descends from no Celery worker of the deployment")
    worker = components[ancestor]
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    Processes.stop(worker, signal.SIGKILL, grace=5)
    with d._lock:
        d.killed_workers.append(worker.name)
    return f"Celery worker {worker.name} (pid {worker.process.pid}, task pid {pid})"


def restarting_killed_workers(case: Callable[[Deployment], str]) -> Callable[[Deployment], str]:
    """The case, then the Celery workers it killed started again (the next cases have two again)."""

    def run(d: Deployment) -> str:
        try:
            return case(d)
        finally:
            with d._lock:
                names, d.killed_workers = list(d.killed_workers), []
            for name in names:
                d.start_worker(name)

    return run


def parse_time(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


_RACE = re.compile(
    r"reported that the task instance <TaskInstance: (?P<dag>[\w-]+)\.(?P<task>[\w-]+) (?P<run>\S+) (?:map_index=(?P<map>\d+) )?"
    r"\[\w+\][^>]*> finished with state success, but the task instance's state attribute is"
)


def check_retries(
    d: Deployment, dag_id: str, run_id: str, tis: list[dict[str, Any]], expected: Iterable[str] = ()
) -> int:
    """
    Fail on any try beyond the first that the case did not cause, unless the scheduler failed
    the earlier try for Airflow's stale-event race (its "state mismatch" error names the task
    instance: the log only classifies the retry, it proves nothing). Returns the race retries.
    """
    raced = {
        (m["dag"], m["task"], m["run"], int(m["map"] or -1))
        for m in _RACE.finditer((d.home / "components" / "scheduler.log").read_text(errors="replace"))
    }
    allowed = set(expected)
    race_retries = 0
    for ti in tis:
        if (ti["try_number"] or 0) <= 1 or ti["task_id"] in allowed:
            continue
        key = (dag_id, ti["task_id"], run_id, ti["map_index"])
        check(
            key in raced,
            f"{dag_id}.{ti['task_id']}[{ti['map_index']}] needed try {ti['try_number']} for another reason than "
            "Airflow's stale-event race: read its first try's log",
        )
        race_retries += 1
    return race_retries


def states(tis: list[dict[str, Any]]) -> Counter[str]:
    return Counter(str(ti["state"]) for ti in tis)


# -- cases ------------------------------------------------------------------------------


#: The tasks of case 1 that must be seen waiting: deferred in the triggerer, or rescheduled.
DEFERRING = {
    "example_automation_anywhere_deferrable": "wait_in_triggerer",
    "example_automation_anywhere_one_task": "add_and_wait",
    "example_automation_anywhere_bot": "wait_for_run",
    "example_automation_anywhere_bot_one_task": "deploy_and_wait",
}
RESCHEDULING = ("wait_items", "wait_run")
ITEM_WAITS = ("wait_in_triggerer", "add_and_wait", "wait_items")


def case_examples(d: Deployment) -> str:
    """
    The bot is paused (work items stay NEW) and activity records show 25 s after a deploy
    until every wait has been seen waiting through the API — deferred, or up for reschedule —
    so that no wait can end at its first poke; then the bot works.
    """
    em, api = d.emulator, d.api
    before = time.time()
    runs = []
    for mode in MODES:
        for dag_id in EXAMPLE_IDS:
            runs.append((mode, dag_id if mode == "password" else f"{dag_id}__{mode}"))
        runs.append((mode, f"deployment_reschedule__{mode}"))
    expected = {"deferred": set(), "up_for_reschedule": set()}
    for _mode, dag_id in runs:
        base = dag_id.split("__")[0]
        if base in DEFERRING:
            expected["deferred"].add((dag_id, DEFERRING[base]))
        if base == "deployment_reschedule":
            expected["up_for_reschedule"] |= {(dag_id, task_id) for task_id in RESCHEDULING}
    em.control("POST", "config", {"pause_bot": True, "activity_delay": 25})
    paused_at = time.monotonic()
    try:
        triggered = {d.trigger(dag_id): (mode, dag_id) for mode, dag_id in runs}
        seen: dict[str, set[tuple[str, str]]] = {"deferred": set(), "up_for_reschedule": set()}
        outcome: dict[tuple[str, str], str] = {}
        deadline = time.monotonic() + d.remaining(300)
        while len(outcome) < len(triggered):
            check(
                time.monotonic() < deadline,
                f"runs not finished in time: {sorted(set(dag for _, dag in triggered.values()) - {dag for _, dag in outcome})}",
            )
            waiting = api.call(
                "GET", "dags/~/dagRuns/~/taskInstances", state=["deferred", "up_for_reschedule"], limit=100
            )
            for ti in waiting["task_instances"]:
                if ti["dag_run_id"] in triggered:
                    seen[ti["state"]].add((ti["dag_id"], ti["task_id"]))
            item_waits_seen = {key for keys in seen.values() for key in keys if key[1] in ITEM_WAITS}
            item_waits = {key for keys in expected.values() for key in keys if key[1] in ITEM_WAITS}
            if paused_at and (item_waits <= item_waits_seen or time.monotonic() - paused_at > 120):
                em.control("POST", "config", {"pause_bot": False})
                paused_at = 0.0
            for run in api.call("GET", "dags/~/dagRuns", limit=100, order_by="-run_after")["dag_runs"]:
                if run["dag_run_id"] in triggered and run["state"] in ("success", "failed"):
                    outcome[triggered[run["dag_run_id"]]] = run["state"]
            time.sleep(1.0)
    finally:
        em.control("POST", "config", {"pause_bot": False, "activity_delay": 1})
    triggered_runs = [(mode, dag_id, run_id) for run_id, (mode, dag_id) in triggered.items()]
    unseen = {state: sorted(expected[state] - seen[state]) for state in expected if expected[state] - seen[state]}
    failed = [dag_id for (mode, dag_id), state in outcome.items() if state != "success"]
    check(not failed, f"runs not successful: {failed}")
    check(not unseen, f"waits never seen in their waiting state through the API: {unseen}")
    retried = sum(
        check_retries(d, dag_id, run_id, api.task_instances(dag_id, run_id)) for _, dag_id, run_id in triggered_runs
    )
    per_mode = []
    for mode, user in MODE_USERS.items():
        worker_logins = len(em.logins(user=user, agent="workers", status=200, since=before))
        triggerer_logins = len(em.logins(user=user, agent="triggerer", status=200, since=before))
        triggerer_requests = len(em.requests(user=user, agent="triggerer", since=before))
        refused = len(em.requests(user=user, status=401, since=before))
        if mode == "token":
            check(
                worker_logins + triggerer_logins == 0,
                f"mode token logged in ({worker_logins + triggerer_logins} logins)",
            )
        else:
            check(worker_logins > 0, f"mode {mode}: no login by a worker as {user}")
        check(triggerer_requests > 0, f"mode {mode}: the triggerer sent no request as {user}")
        check(refused == 0, f"mode {mode}: {refused} requests refused with 401")
        per_mode.append(f"{mode} logins w{worker_logins}/t{triggerer_logins} triggerer-req {triggerer_requests}")
    em.check_against_counters(MODE_USERS.values())
    invoices = [item for item in em.items(20) if str(item["json"].get("invoice_id", "")).startswith("INV-100")]
    orders = [item for item in em.items(22) if str(item["json"].get("order_id", "")).startswith(("ORD-", "RS-"))]
    check(len(invoices) == 9, f"queue 20 holds {len(invoices)} example invoices, expected 9 (3 per mode)")
    check(len(orders) == 27, f"queue 22 holds {len(orders)} example orders, expected 27 (5+2+2 per mode)")
    unfinished = [item["id"] for item in invoices + orders if item["status"] != "COMPLETED"]
    check(not unfinished, f"items not COMPLETED: {unfinished}")
    bot_runs = [run for run in em.harness_call("GET", "bot_runs")["runs"] if str(run["userId"]) == "29"]
    check(len(bot_runs) == 9, f"{len(bot_runs)} bot runs as user 29, expected 9 (3 per mode)")
    check(all(run["status"] == "COMPLETED" for run in bot_runs), "a bot run did not complete")
    return (
        f"{len(outcome)}/{len(outcome)} runs success ({retried} tasks retried after Airflow's stale-event race); "
        f"{len(seen['deferred'] & expected['deferred'])} waits seen deferred, {len(seen['up_for_reschedule'] & expected['up_for_reschedule'])} "
        f"up for reschedule; "
        f"items 9+27, bot runs 9, all COMPLETED once; " + "; ".join(per_mode)
    )


def case_fanout(d: Deployment) -> str:
    em, api = d.emulator, d.api
    before = time.time()
    run_id = d.trigger("deployment_fanout")

    def all_deferred() -> bool:
        tis = [ti for ti in api.task_instances("deployment_fanout", run_id) if ti["task_id"].startswith("wait_")]
        bad = [ti for ti in tis if ti["state"] in ("failed", "upstream_failed")]
        check(not bad, f"sensors failed before deferring: {[(ti['task_id'], ti['map_index']) for ti in bad][:5]}")
        return len(tis) == 100 and all(ti["state"] == "deferred" for ti in tis)

    wait_for("100 sensors deferred", all_deferred, d.remaining(240), 2.0)
    deferred_at = time.time()
    # One round for the last triggers to fall into step, then three rounds measured.
    window_start = math.ceil(deferred_at / FANOUT_POLL) * FANOUT_POLL + FANOUT_POLL
    window_end = window_start + 3 * FANOUT_POLL
    time.sleep(max(0.0, window_end + 1.0 - time.time()))
    per_round: Counter[tuple[int, int]] = Counter()
    for queue_id in (30, 31):
        for entry in em.requests(
            user="fanout_user",
            agent="triggerer",
            method="POST",
            path_end=f"/queues/{queue_id}/workitems/list",
            since=window_start,
        ):
            if entry["t"] < window_end:
                per_round[(queue_id, int((entry["t"] - window_start) // FANOUT_POLL))] += 1
    rounds = {(queue_id, number): per_round.get((queue_id, number), 0) for queue_id in (30, 31) for number in range(3)}
    ids = {queue_id: [item["id"] for item in em.items(queue_id)] for queue_id in (30, 31)}
    for queue_id, item_ids in ids.items():
        em.release(queue_id, item_ids)
    state = api.wait_run("deployment_fanout", run_id, d.remaining(240))
    tis = api.task_instances("deployment_fanout", run_id)
    check(state == "success", f"run {state}: {dict(states(tis))}")
    check(states(tis)["success"] == 102, f"task states {dict(states(tis))}")
    retried = check_retries(d, "deployment_fanout", run_id, tis)
    check(
        all(len(item_ids) == 50 for item_ids in ids.values()),
        f"queues hold {[len(v) for v in ids.values()]} items, expected 50 each",
    )
    triggerer_logins = em.logins(user="fanout_user", agent="triggerer", since=before)
    worker_logins = em.logins(user="fanout_user", agent="workers", status=200, since=before)
    renewals = em.requests(
        user="fanout_user", agent="triggerer", method="POST", path_end="/authentication/token", status=200, since=before
    )
    lists = em.requests(user="fanout_user", agent="triggerer", method="POST", path_part="/workitems/list", since=before)
    check(
        len(triggerer_logins) == 1 and triggerer_logins[0]["status"] == 200,
        f"the triggerer logged in {len(triggerer_logins)} times ({[e['status'] for e in triggerer_logins]}), expected once",
    )
    em.check_against_counters(["fanout_user"])
    too_many = {key: count for key, count in rounds.items() if count > 1}
    check(not too_many, f"more than 1 list request per queue per poll round (queue, round): {too_many}")
    silent = [key for key, count in rounds.items() if count == 0]
    check(not silent, f"no list request in poll rounds (queue, round) {silent}: the triggers did not poll")
    return (
        f"100/100 deferred sensors success ({retried} retried after Airflow's stale-event race); triggerer logins 1 (workers {len(worker_logins)}), renewals {len(renewals)}; "
        f"list requests per queue per {FANOUT_POLL:g}-s round {sorted(set(rounds.values()))} over 3 rounds x 2 queues "
        f"({len(lists)} triggerer list requests in all)"
    )


def case_kill_add(d: Deployment) -> str:
    em, api = d.emulator, d.api
    path = r"/queues/32/workitems$"
    # The first 4 batches take 2 s each in the Control Room: the 4th is surely in flight at the kill.
    em.control("POST", "faults", {"kind": "latency", "seconds": 2.0, "method": "POST", "path": path, "count": 4})
    run_id = d.trigger("deployment_kill_add")

    def adds(phase: str = "end") -> list:
        return em.requests(method="POST", path_end="/queues/32/workitems", user="kill_user", phase=phase)

    def batch_in_flight() -> bool:
        answered = adds()
        return len([e for e in answered if e["status"] == 200]) >= 3 and len(adds("start")) > len(answered)

    # Killed while a batch is in the Control Room (sent, not answered): the worker dies between
    # the send and saving what it created, and the batch is committed after the kill.
    wait_for("3 batches of the add committed and the 4th in flight", batch_in_flight, d.remaining(120), 0.1)
    committed_before = len([e for e in adds() if e["status"] == 200])
    killed = kill_worker(d, "deployment_kill_add", run_id, "add_1000")
    killed_at = time.time()
    state = api.wait_run("deployment_kill_add", run_id, d.remaining(180))
    ti = api.task_instance("deployment_kill_add", run_id, "add_1000")
    items = em.items(32)
    numbers = Counter(item["json"]["n"] for item in items)
    duplicates = sum(count - 1 for count in numbers.values() if count > 1)
    missing = len(set(range(1000)) - set(numbers))
    check(state == "success", f"run {state}, task {ti['state']} try {ti['try_number']}")
    check(ti["try_number"] == 2, f"the add succeeded in try {ti['try_number']}, expected 2 (the retry)")
    check_retries(
        d, "deployment_kill_add", run_id, api.task_instances("deployment_kill_add", run_id), expected={"add_1000"}
    )
    check(duplicates == 0 and missing == 0, f"{len(items)} items: {duplicates} duplicates, {missing} missing")
    retry_began = parse_time(ti["start_date"])
    retry_adds = [e for e in adds() if e["t"] >= retry_began]
    late = [e for e in adds() if killed_at <= e["t"] < retry_began]
    check(len(late) == 1, f"{len(late)} batches committed between the kill and the retry, expected the 1 in flight")
    retry_lists = em.requests(method="POST", path_end="/queues/32/workitems/list", user="kill_user", since=retry_began)
    return (
        f"killed {killed} after {committed_before} of 10 batches, the 4th in flight (committed after the kill); "
        f"try 2 started {retry_began - killed_at:.0f} s later and succeeded: 1000 items, 0 duplicates, 0 missing; "
        f"add requests {len(adds())} ({len(retry_adds)} by the retry, {len(retry_lists)} list requests)"
    )


def case_triggerer_restart(d: Deployment) -> str:
    em, api = d.emulator, d.api
    run_id = d.trigger("deployment_triggerer_restart")

    def lists(since: float) -> list:
        return em.requests(user="restart_user", agent="triggerer", path_end="/queues/33/workitems/list", since=since)

    wait_for(
        "the sensor deferred and polled by the triggerer",
        lambda: (
            api.task_instance("deployment_triggerer_restart", run_id, "wait_deferred")["state"] == "deferred"
            and lists(0)
        ),
        d.remaining(180),
        1.0,
    )
    old = d.component("triggerer")
    Processes.stop(old, signal.SIGKILL, grace=5)
    killed_at = time.time()
    check(not old.alive(), "the triggerer survived SIGKILL")
    time.sleep(2)
    d.triggerers += 1
    d.start_component(f"triggerer-{d.triggerers}", ["triggerer"]).name = "triggerer"
    wait_for("the new triggerer to poll the deferred wait", lambda: lists(killed_at), d.remaining(120), 1.0)
    resumed_after = min(e["t"] for e in lists(killed_at)) - killed_at
    state_before = api.task_instance("deployment_triggerer_restart", run_id, "wait_deferred")["state"]
    items = em.items(33)
    em.release(33, [item["id"] for item in items])
    state = api.wait_run("deployment_triggerer_restart", run_id, d.remaining(120))
    ti = api.task_instance("deployment_triggerer_restart", run_id, "wait_deferred")
    new_logins = em.logins(user="restart_user", agent="triggerer", status=200, since=killed_at)
    check(state == "success" and ti["state"] == "success", f"run {state}, sensor {ti['state']}")
    check(
        ti["try_number"] == 1, f"the sensor needed try {ti['try_number']} (expected the deferred wait itself to resume)"
    )
    check_retries(d, "deployment_triggerer_restart", run_id, api.task_instances("deployment_triggerer_restart", run_id))
    check(state_before == "deferred", f"the sensor was {state_before} after the restart, expected deferred")
    check(len(new_logins) == 1, f"the new triggerer logged in {len(new_logins)} times, expected once")
    return (
        f"triggerer SIGKILLed while deferred; new triggerer polled {resumed_after:.0f} s after the kill "
        f"({len(lists(killed_at))} list requests, 1 login); sensor success in try 1, 3 items COMPLETED"
    )


def case_rotation(d: Deployment) -> str:
    em, api = d.emulator, d.api
    old, new = d.passwords["rotate_user"], f"Rotated-{secrets.token_urlsafe(12)}"
    d.passwords["rotate_user (new)"] = new
    api.call(
        "POST",
        "connections",
        {
            "connection_id": "aa_rotating",
            "conn_type": "automation_anywhere",
            "host": em.url,
            "login": "rotate_user",
            "password": old,
            "extra": json.dumps({"auth_type": "password", "multiple_login": True}),
        },
    )
    run_id = d.trigger("deployment_rotation")

    def waiting() -> bool:
        tis = [ti for ti in api.task_instances("deployment_rotation", run_id) if ti["task_id"] == "wait_deferred"]
        return (
            len(tis) == 5
            and all(ti["state"] == "deferred" for ti in tis)
            and bool(em.logins(user="rotate_user", agent="triggerer", status=200))
        )

    wait_for("5 sensors deferred and the triggerer logged in", waiting, d.remaining(180), 1.0)
    em.harness_call("POST", "password", {"username": "rotate_user", "password": new})
    api.call(
        "PATCH",
        "connections/aa_rotating?update_mask=password",
        {"connection_id": "aa_rotating", "conn_type": "automation_anywhere", "password": new},
    )
    changed_at = time.time()
    login = wait_for(
        "a triggerer login with the new password",
        lambda: em.logins(user="rotate_user", agent="triggerer", status=200, since=changed_at),
        d.remaining(100),
        1.0,
    )
    took = login[0]["t"] - changed_at
    tis = [ti for ti in api.task_instances("deployment_rotation", run_id) if ti["task_id"] == "wait_deferred"]
    check(
        all(ti["state"] == "deferred" for ti in tis),
        f"sensors left the deferred state before the release: {dict(states(tis))}",
    )
    em.release(34, [item["id"] for item in em.items(34)])
    state = api.wait_run("deployment_rotation", run_id, d.remaining(120))
    tis = api.task_instances("deployment_rotation", run_id)
    refused = em.logins(user="rotate_user", status=401)
    logouts = em.requests(user="rotate_user", agent="triggerer", method="POST", path_end="/logout", since=changed_at)
    check(state == "success" and states(tis)["success"] == 6, f"run {state}: {dict(states(tis))}")
    check(not refused, f"{len(refused)} logins of rotate_user refused")
    check(
        all(ti["try_number"] == 1 for ti in tis),
        f"tries beyond the first: {[(ti['task_id'], ti['map_index'], ti['try_number']) for ti in tis if ti['try_number'] != 1]}",
    )
    return (
        f"password changed (connection in the metadata DB + emulator) with 5 sensors deferred; triggerer logged in "
        f"with the new one {took:.0f} s later, 0 refused logins, old session logged out {len(logouts)}x; 5/5 success"
    )


def case_deploy_kill(d: Deployment) -> str:
    em, api = d.emulator, d.api
    em.control(
        "POST",
        "faults",
        {"kind": "slow_response", "seconds": 8.0, "method": "POST", "path": "/automations/deploy", "count": 1},
    )
    run_id = d.trigger("deployment_deploy_kill")
    runs = lambda: [run for run in em.harness_call("GET", "bot_runs")["runs"] if str(run["userId"]) == "77"]  # noqa: E731
    wait_for("the Control Room to accept the deploy", runs, d.remaining(120), 0.2)
    killed = kill_worker(d, "deployment_deploy_kill", run_id, "deploy_and_wait")
    killed_at = time.time()
    state = api.wait_run("deployment_deploy_kill", run_id, d.remaining(180))
    ti = api.task_instance("deployment_deploy_kill", run_id, "deploy_and_wait")
    deploys = em.requests(user="deploy_user", method="POST", path_part="/automations/deploy")
    bot_runs = runs()
    xcom = api.call(
        "GET", f"dags/deployment_deploy_kill/dagRuns/{q(run_id)}/taskInstances/deploy_and_wait/xcomEntries/return_value"
    )
    value = xcom.get("value")
    if isinstance(value, str):  # the API gives a returned dict as JSON text, a returned string as it is
        with contextlib.suppress(json.JSONDecodeError):
            value = json.loads(value)
    check(state == "success", f"run {state}, task {ti['state']} try {ti['try_number']}")
    check(ti["try_number"] == 2, f"success in try {ti['try_number']}, expected 2 (the retry)")
    check_retries(
        d,
        "deployment_deploy_kill",
        run_id,
        api.task_instances("deployment_deploy_kill", run_id),
        expected={"deploy_and_wait"},
    )
    check(len(bot_runs) == 1, f"the bot ran {len(bot_runs)} times, expected once")
    check(len(deploys) == 1, f"{len(deploys)} deploy requests, expected 1")
    check(bot_runs[0]["status"] == "COMPLETED", f"the run is {bot_runs[0]['status']}")
    check(
        value == bot_runs[0]["deploymentId"],
        f"the task returned {value!r}, not deployment {bot_runs[0]['deploymentId']}",
    )
    retry_began = parse_time(ti["start_date"])
    lookups = em.requests(user="deploy_user", method="POST", path_end="/activity/list", since=retry_began)
    return (
        f"killed {killed} once the Control Room had accepted the deploy (its answer still on the way); try 2 started "
        f"{retry_began - killed_at:.0f} s later, took the run from the activity ({len(lookups)} activity requests) and "
        f"succeeded; 1 deploy request, the bot ran once (COMPLETED)"
    )


def case_single_session(d: Deployment) -> str:
    """
    Sessions of one user without ``multiple_login``: each worker's login ends the triggerer's
    session and the other way round. Alone, a run costs the triggerer one eviction; four at
    once may fight; a minute later the shared session must work again without a restart.
    """
    from airflow_provider_aa.control_room.session import EVICTION_WINDOW

    em, api = d.emulator, d.api
    user = "single_session_user"
    before = time.time()

    def runs(tag: str, count: int) -> list[str]:
        """``count`` runs at once; their items held until every wait is deferred (or ended)."""
        held = {"hold": "STATUS:ON_HOLD"}
        run_ids = [
            d.trigger(
                SINGLE_SESSION_DAG,
                {
                    "queue_name": CASE_QUEUES[35],
                    "orders": [{"order_id": f"SS-{tag}-{n}-{k}", "quantity": k, **held} for k in (1, 2)],
                },
            )
            for n in range(count)
        ]

        def waits_deferred_or_ended() -> bool:
            tis = [
                ti
                for run_id in run_ids
                for ti in api.task_instances(SINGLE_SESSION_DAG, run_id)
                if ti["task_id"] == "wait_in_triggerer"
            ]
            return len(tis) == count and all(
                ti["state"] in ("deferred", "success", "failed", "upstream_failed") for ti in tis
            )

        wait_for(f"{count} wait(s) deferred or ended", waits_deferred_or_ended, d.remaining(180), 1.0)

        def ended_releasing_held() -> list[str] | None:
            # A retried add (its first try met an ended session) adds its items after the
            # first release: every held item is released until the runs end.
            em.release(35, [item["id"] for item in em.items(35) if item["status"] == "ON_HOLD"])
            ended = [api.run_state(SINGLE_SESSION_DAG, run_id) for run_id in run_ids]
            return ended if all(state in ("success", "failed") for state in ended) else None

        return wait_for(f"{count} run(s) to end", ended_releasing_held, d.remaining(240), 1.0)

    alone = runs("alone", 1)
    together = runs("together", 4)
    time.sleep(EVICTION_WINDOW + 5)  # nobody uses the connection: the evictions age out
    again = runs("again", 1)
    ended = len(em.requests(user=user, status=401, since=before))
    worker_logins = len(em.logins(user=user, agent="workers", status=200, since=before))
    triggerer_logins = len(em.logins(user=user, agent="triggerer", status=200, since=before))
    triggerer_requests = len(em.requests(user=user, agent="triggerer", since=before))
    check(alone == ["success"], f"the first run alone ended {alone[0]}")
    check(again == ["success"], f"a run alone after the busy spell ended {again[0]}: the triggerer did not recover")
    check(triggerer_requests > 0, "the triggerer sent no request: no wait was deferred")
    return (
        f"multiple_login false: alone {alone[0]}; 4 at once {dict(Counter(together))}; alone again "
        f"{EVICTION_WINDOW + 5:.0f} s later {again[0]} (same triggerer, no restart); {ended} calls met an ended "
        f"session (401), logins w{worker_logins}/t{triggerer_logins}"
    )


def case_secrets(d: Deployment) -> str:
    em, api = d.emulator, d.api
    tokens = em.harness_call("GET", "tokens")["tokens"]
    renewals = em.requests(method="POST", path_end="/authentication/token", status=200)
    known = {
        **{f"password of {user}": value for user, value in d.passwords.items()},
        "API key of api_user": "EMUAPIKEY0Qx7Rt2Lm9Vb4Nc8Hs3Kd6Wp1Zf5Gj8",
        "pre-issued token": d.pre_issued_token,
    }
    known.update({f"issued token #{n}": token for n, token in enumerate(tokens)})
    check(d.pre_issued_token in tokens, "the emulator's token record lacks the pre-issued token")
    check(len(renewals) > 0, "no token was renewed during the run: case 6 would not cover renewed tokens")
    jobs = []
    with d._lock:
        runs = list(d.runs)
    unlisted = []  # tries Airflow lost from its history: their files are read from disk below
    for dag_id, run_id in runs:
        for ti in api.task_instances(dag_id, run_id):
            if not ti["try_number"]:
                continue
            where = f"{ti['task_id']}/tries" if ti["map_index"] < 0 else f"{ti['task_id']}/{ti['map_index']}/tries"
            tries = {
                t["try_number"]
                for t in api.call("GET", f"dags/{dag_id}/dagRuns/{q(run_id)}/taskInstances/{where}")["task_instances"]
            }
            unlisted += [
                (dag_id, ti["task_id"], number) for number in range(1, ti["try_number"] + 1) if number not in tries
            ]
            jobs += [(dag_id, run_id, ti["task_id"], number, ti["map_index"]) for number in sorted(tries)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        texts = list(pool.map(lambda job: (job, api.log(*job)), jobs))
    leaks = []
    for job, text in texts:
        leaks += [
            f"{name} in the log of {job[0]}.{job[2]}[{job[4]}] try {job[3]}"
            for name, value in known.items()
            if value in text
        ]
    task_bytes = sum(len(text) for _, text in texts)
    check(
        task_bytes > 10_000 and any("Added" in text or "work item" in text for _, text in texts),
        "the task logs read back look empty",
    )
    # The triggerer's own output, and what its triggers logged (Airflow writes that beside the
    # task's log, as ``attempt=N.log.trigger.<triggerer id>.log``).
    log_files = [path for path in (d.home / "logs").rglob("*") if path.is_file()]
    triggerer_logs = [proc.log for proc in d.procs.procs if proc.name.startswith("triggerer")]
    triggerer_logs += [path for path in log_files if ".log.trigger." in path.name]
    other_logs = [path for path in log_files if path not in triggerer_logs]
    other_logs += [proc.log for proc in d.procs.procs if proc.log not in triggerer_logs]
    triggerer_bytes = 0
    for path in dict.fromkeys([*triggerer_logs, *other_logs]):
        text = path.read_text(errors="replace")
        if path in triggerer_logs:
            triggerer_bytes += len(text)
        leaks += [
            f"{name} in {path.relative_to(d.home) if d.home in path.parents else path}"
            for name, value in known.items()
            if value in text
        ]
    check(triggerer_bytes > 0, "the triggerer's log is empty")
    check(not leaks, f"{len(leaks)} leaks: {leaks[:8]}")
    by_triggerer = sum(entry["agent"] == AGENTS["triggerer"] for entry in renewals)
    return (
        f"{len(known)} secrets ({len(tokens)} tokens issued; {len(renewals)} renewals: {by_triggerer} by the triggerer, "
        f"{len(renewals) - by_triggerer} by workers) absent from {len(texts)} task logs "
        f"read through the API ({task_bytes // 1024} KiB), the triggerer's logs ({len(triggerer_logs)} files, {triggerer_bytes // 1024} KiB) "
        f"and {len(other_logs)} other log files"
        + (f" ({len(unlisted)} tries missing from Airflow's task history, read from disk only)" if unlisted else "")
    )


WATCHED_QUEUE = 39
WATCHER_DAG = "deployment_asset_watcher"
WATCHER_POLL = 2.0  # the watcher's poll_interval in dags/deployment_asset_watcher.py


def stored_cursor() -> bool:
    """Whether the watcher's watermark lives in the asset state store (Airflow 3.3 and later), not in memory."""
    return tuple(int(part) for part in airflow_version().split(".")[:2]) >= (3, 3)


def watcher_polls(d: Deployment, since: float) -> list[dict[str, Any]]:
    """The watcher's list requests on queue 39 (any triggerer's) since ``since``."""
    return d.emulator.requests(
        user="watch_user", agent="triggerer", path_end=f"/queues/{WATCHED_QUEUE}/workitems/list", since=since
    )


def watcher_runs(d: Deployment) -> list[dict[str, Any]]:
    return d.api.call("GET", f"dags/{WATCHER_DAG}/dagRuns", limit=100)["dag_runs"]


def watcher_reported(d: Deployment) -> list[str]:
    """The item ids the finished runs of the watched DAG reported, repeats kept; fails on a failed run."""
    ids: list[str] = []
    for run in watcher_runs(d):
        check(run["state"] in ("queued", "running", "success"), f"run {run['dag_run_id']} is {run['state']}")
        if run["state"] != "success":
            continue
        xcom = d.api.call(
            "GET", f"dags/{WATCHER_DAG}/dagRuns/{q(run['dag_run_id'])}/taskInstances/report/xcomEntries/return_value"
        )
        value = xcom.get("value")
        ids += json.loads(value) if isinstance(value, str) else value
    return ids


def watcher_runs_done(d: Deployment) -> bool:
    return all(run["state"] == "success" for run in watcher_runs(d))


def add_held_watched_items(d: Deployment, count: int) -> list[str]:
    """``count`` items added to queue 39 on hold (the watcher reports them once released); their ids."""
    em = d.emulator
    added = em.harness_call(
        "POST",
        "add",
        {"queue": WATCHED_QUEUE, "items": [{"ref": f"W-{n}", "hold": "STATUS:ON_HOLD"} for n in range(count)]},
    )["ids"]
    wait_for("the items to be held", lambda: {i["status"] for i in em.items(WATCHED_QUEUE)} == {"ON_HOLD"}, 60, 0.5)
    return added


def case_asset_watcher(d: Deployment) -> str:
    """
    Held items of queue 39 completed in three batches start runs of ``deployment_asset_watcher``
    through its asset watcher. On Airflow 3.3 the triggerer is SIGKILLed after the first batch
    was reported (and its watermark stored), the second batch completes while no triggerer
    runs, and the new triggerer must report it from the stored watermark.
    """
    em, api = d.emulator, d.api
    wait_for("the watcher to poll queue 39", lambda: watcher_polls(d, 0), d.remaining(120), 1.0)
    added = add_held_watched_items(d, 30)
    batches = [added[:10], added[10:20], added[20:]]
    notes = []
    for number, batch in enumerate(batches, 1):
        if number == 2 and stored_cursor():
            # The first batch's watermark is stored once its event is 5 s old, at a poll.
            time.sleep(8)
            old = d.component("triggerer")
            Processes.stop(old, signal.SIGKILL, grace=5)
            killed_at = time.time()
            check(not old.alive(), "the triggerer survived SIGKILL")
            em.release(WATCHED_QUEUE, batch)
            time.sleep(2)
            d.triggerers += 1
            d.start_component(f"triggerer-{d.triggerers}", ["triggerer"]).name = "triggerer"
            wait_for(
                "the new triggerer to poll queue 39", lambda at=killed_at: watcher_polls(d, at), d.remaining(120), 1.0
            )
            notes.append(
                f"batch 2 completed while the triggerer was dead; polled again {min(e['t'] for e in watcher_polls(d, killed_at)) - killed_at:.0f} s after the kill"
            )
        else:
            em.release(WATCHED_QUEUE, batch)
        wanted = set().union(*batches[:number])
        wait_for(
            f"runs reporting batches 1-{number}",
            lambda wanted=wanted: watcher_runs_done(d) and wanted <= set(watcher_reported(d)),
            d.remaining(120),
            1.0,
        )
    ids = watcher_reported(d)
    check(
        sorted(ids, key=int) == sorted(added, key=int),
        f"the runs reported {len(ids)} ids ({len(set(ids))} distinct) for 30 items: {sorted(set(added) - set(ids))} missing, {sorted(i for i in set(ids) if ids.count(i) > 1)} repeated",
    )
    # The example DAG watches queue 20 ("Invoices") on the default connection: an invoice
    # the bot finishes starts a run of it that reports the item.
    invoice = em.harness_call("POST", "add", {"queue": 20, "items": [{"invoice_id": "INV-WATCHED", "amount": 1}]})[
        "ids"
    ][0]
    example = "example_automation_anywhere_asset_watcher"

    def example_reported() -> bool:
        for run in api.call("GET", f"dags/{example}/dagRuns", limit=100, order_by="-run_after")["dag_runs"]:
            if run["state"] == "success":
                value = api.call(
                    "GET",
                    f"dags/{example}/dagRuns/{q(run['dag_run_id'])}/taskInstances/report/xcomEntries/return_value",
                ).get("value")
                if invoice in (json.loads(value) if isinstance(value, str) else value):
                    return True
        return False

    wait_for("a run of the example asset watcher DAG reporting the invoice", example_reported, d.remaining(90), 1.0)
    return (
        f"30 items completed in 3 batches started {len(watcher_runs(d))} runs, which saw each item exactly once"
        + (f"; {notes[0]}" if notes else " (Airflow before 3.3: no triggerer kill, the watermark is in memory)")
        + "; the example asset watcher DAG reported an invoice finished in queue 20"
    )


# -- the Celery leg's cases -------------------------------------------------------------


def triggerer_of(d: Deployment, ti: dict[str, Any]) -> str:
    """The name of the triggerer that holds a deferred task instance's trigger ("-" for none)."""
    return d.triggerer_jobs.get((ti.get("trigger") or {}).get("triggerer_id") or 0, "-")


def per_round(entries: list[dict[str, Any]], start: float, rounds: int, length: float) -> list[int]:
    counts = [0] * rounds
    for entry in entries:
        number = int((entry["t"] - start) // length)
        if 0 <= number < rounds:
            counts[number] += 1
    return counts


def case_celery_fanout(d: Deployment) -> str:
    """
    ``--waits`` sensors on two queues that start and end in the triggerer (no worker runs
    them), in DAGs of 20 on one queue each, spread by Airflow over the two triggerers. Each
    triggerer logs in once (and once more after a restart by the liveness probe), reads each
    queue at most once per 100 waits it holds per poll round; measured as the waits grow
    (every round while they defer) and over three rounds once all are deferred. The workers
    run the add tasks alone.
    """
    em, api = d.emulator, d.api
    waits = d.args.waits
    dag_ids = [
        "deployment_celery_fanout" if k == 0 else f"deployment_celery_fanout_{k}"
        for k in range(math.ceil(waits / FANOUT_DAG_WAITS))
    ]
    # Tokens of FANOUT_TOKEN_LIFETIME while the case runs (the phase's other cases' too; the
    # next phase gets TOKEN_LIFETIME again): a triggerer starting 500 waits on two shared cores
    # is late by seconds at times, more than a 20-s token's 3-s renewal margin, and a renewal
    # that arrives after the token lapsed is a second login (measured: docs/running-at-scale.md).
    em.control("POST", "config", {"token_lifetime": FANOUT_TOKEN_LIFETIME})
    try:
        return _celery_fanout(d, em, api, waits, dag_ids)
    finally:
        em.control("POST", "config", {"token_lifetime": TOKEN_LIFETIME})


def _celery_fanout(d: Deployment, em: Emulator, api: Api, waits: int, dag_ids: list[str]) -> str:
    before = time.time()
    runs = {dag_id: d.trigger(dag_id) for dag_id in dag_ids}
    growth: list[tuple[float, int]] = []  # (when, waits started in a triggerer)
    deferred_after: list[float] = []

    def task_instances() -> list[dict[str, Any]]:
        return [ti for dag_id, run_id in runs.items() for ti in api.task_instances(dag_id, run_id)]

    def sensors() -> list[dict[str, Any]]:
        return [ti for ti in task_instances() if ti["task_id"].startswith("wait_")]

    trigger_logs: list[int] = []  # trigger log files (one per trigger started) at each poll

    def started() -> int:
        # The scheduler defers a task that starts in the triggerer at once; the triggerer runs
        # it later: a wait has started (and polled) once its trigger logged in the task's log.
        # A wait Airflow moved to the other triggerer (a late heartbeat) has a log from each.
        logs = list(
            (d.home / "logs").glob("dag_id=deployment_celery_fanout*/*/task_id=wait_*/attempt=1.log.trigger.*.log")
        )
        trigger_logs.append(len(logs))
        return len({path.parent for path in logs})

    def all_started() -> bool:
        tis = sensors()
        bad = [ti for ti in tis if ti["state"] in ("failed", "upstream_failed")]
        check(not bad, f"sensors failed before deferring: {[(ti['dag_id'], ti['task_id']) for ti in bad][:5]}")
        if not deferred_after and len(tis) == waits and all(ti["state"] == "deferred" for ti in tis):
            deferred_after.append(time.time() - before)
        growth.append((time.time(), started()))
        # Measured once no trigger started for two polls: a trigger reads at once when it starts.
        return bool(deferred_after) and growth[-1][1] == waits and len(set(trigger_logs[-3:])) == 1

    wait_for(f"{waits} sensors started in the triggerers", all_started, d.remaining(1200), FANOUT_POLL)
    deferred_at = time.time()
    ramp = time.time() - before
    window_start = math.ceil(deferred_at / FANOUT_POLL) * FANOUT_POLL + FANOUT_POLL
    time.sleep(max(0.0, window_start + 3 * FANOUT_POLL + 1.0 - time.time()))
    tis = sensors()
    holders = Counter(triggerer_of(d, ti) for ti in tis)
    # A triggerer reads a queue in list requests of up to 100 ids (PAGE_LENGTH) per poll round:
    # once per round while it holds at most 100 of the queue's waits.
    held = Counter((int(ti["task_id"].split("_")[1]), triggerer_of(d, ti)) for ti in tis)
    bound = {q: sum(math.ceil(n / PAGE_LENGTH) for (queue, _), n in held.items() if queue == q) for q in (30, 31)}

    def lists(queue_id: int, since: float = before) -> list[dict[str, Any]]:
        return em.requests(
            user="fanout_user",
            agent="triggerer",
            method="POST",
            path_end=f"/queues/{queue_id}/workitems/list",
            since=since,
        )

    rounds = {queue_id: per_round(lists(queue_id), window_start, 3, FANOUT_POLL) for queue_id in (30, 31)}
    # While the waits grew: each round's list requests (both queues) against the waits deferred then.
    all_lists = lists(30) + lists(31)
    grown = []
    for when, deferred in growth:
        if deferred:
            in_round = sum(when - FANOUT_POLL <= entry["t"] < when for entry in all_lists)
            grown.append((deferred, in_round))
    ids = {queue_id: [item["id"] for item in em.items(queue_id)] for queue_id in (30, 31)}
    # Released RELEASED_PER_ROUND a round, as bots finish items, not all in one instant: 1,000
    # waits ending at once are 1,000 task ends, 2,000 XCom writes and 1,000 callback requests
    # in a few seconds, which starve two triggerers on two shared cores past the emulator's
    # 20-s tokens.
    per_queue = RELEASED_PER_ROUND // 2
    for start in range(0, max(len(v) for v in ids.values()), per_queue):
        for queue_id, item_ids in ids.items():
            if item_ids[start : start + per_queue]:
                em.release(queue_id, item_ids[start : start + per_queue])
        time.sleep(FANOUT_POLL)
    ended = {dag_id: api.wait_run(dag_id, run_id, d.remaining(600)) for dag_id, run_id in runs.items()}
    all_tis = task_instances()
    adds = len(dag_ids)
    check(set(ended.values()) == {"success"}, f"runs {ended}: {dict(states(all_tis))}")
    check(states(all_tis)["success"] == waits + adds, f"task states {dict(states(all_tis))}")
    retried = sum(
        check_retries(d, dag_id, run_id, [ti for ti in all_tis if ti["dag_id"] == dag_id])
        for dag_id, run_id in runs.items()
    )
    sensor_tries = Counter(ti["try_number"] for ti in all_tis if ti["task_id"].startswith("wait_"))
    check(sensor_tries == Counter({1: waits}), f"sensor tries (try: sensors) {dict(sensor_tries)}, expected 1 each")
    add_tries = sum(ti["try_number"] or 0 for ti in all_tis if ti["task_id"].startswith("add_"))
    check(sum(len(v) for v in ids.values()) == waits, f"queues hold {[len(v) for v in ids.values()]} items")
    triggerer_logins = em.logins(user="fanout_user", agent="triggerer", since=before)
    worker_logins = em.logins(user="fanout_user", agent="workers", status=200, since=before)
    em.check_against_counters(["fanout_user"])
    # A sensor on a worker would log in there (its poke or its resumption): the adds alone do.
    check(
        len(worker_logins) <= add_tries,
        f"{len(worker_logins)} worker logins for {add_tries} add task tries: a sensor ran on a worker",
    )
    holding = len([name for name in holders if name != "-"])
    check(holding == 2, f"the waits were held by {dict(holders)}: expected both triggerers")
    refreshes = em.requests(
        user="fanout_user", agent="triggerer", method="POST", path_end="/authentication/token", since=before
    )
    unauthorized = em.requests(user="fanout_user", agent="triggerer", status=401, since=before)
    logouts = em.requests(user="fanout_user", agent="triggerer", path_end="/logout", since=before)
    # A triggerer started again (the liveness probe) logs in again.
    restarted = len(restarts_since(d, before))
    check(
        len(triggerer_logins) <= holding + restarted and all(e["status"] == 200 for e in triggerer_logins),
        f"the triggerers logged in {len(triggerer_logins)} times (status, s after the DAG runs began: "
        f"{[(e['status'], round(e['t'] - before)) for e in triggerer_logins]}), expected at most once each "
        f"({holding}, {restarted} restarted); all deferred {ramp:.0f} s after they began; token renewals refused at (s) "
        f"{[round(e['t'] - before) for e in refreshes if e['status'] != 200]}; 401 answers (s, path) "
        f"{[(round(e['t'] - before), e['path'][-40:]) for e in unauthorized][:10]}; logouts at (s) "
        f"{[round(e['t'] - before) for e in logouts]}",
    )
    too_many = {q: r for q, r in rounds.items() if max(r) > bound[q]}
    check(
        not too_many,
        f"more list requests per queue per round than 1 per 100 waits per triggerer {bound} (queue: rounds): {too_many}",
    )
    silent = {q: r for q, r in rounds.items() if min(r) == 0}
    check(not silent, f"poll rounds without a list request (queue: rounds): {silent}")
    # New triggers read at once (not on the round's clock): while waits arrive, a round's list
    # requests follow how many arrived in it, not how many wait. Reported, not bounded.
    bucket = max(10, waits // 10)
    steps = sorted(
        {
            (deferred // bucket * bucket, max(c for n, c in grown if n // bucket == deferred // bucket))
            for deferred, _ in grown
        }
    )
    d.measures["fanout"] = {
        "waits": waits,
        "holders": dict(holders),
        "triggerer_logins": len(triggerer_logins),
        "worker_logins": len(worker_logins),
        "dags": len(dag_ids),
        "task_tries": sum(ti["try_number"] or 0 for ti in all_tis),
        "rounds": rounds,
        "bound": bound,
        "held": {f"{queue}/{name}": n for (queue, name), n in held.items()},
        "growth": steps,
        "ramp_s": round(ramp),
        "deferred_s": round(deferred_after[0]),
    }
    return (
        f"{waits}/{waits} sensors started and ended in the triggerer, success ({len(dag_ids)} DAG runs; "
        f"{retried} adds retried after Airflow's stale-event race), deferred in {deferred_after[0]:.0f} s, all "
        f"polling in the triggerers after {ramp:.0f} s, held {dict(holders)}; "
        f"triggerer logins {len(triggerer_logins)} (1 per triggerer process), worker logins {len(worker_logins)} for "
        f"{adds} add tasks ({add_tries} tries) and none for the sensors; list requests per queue per {FANOUT_POLL:g}-s round "
        f"{rounds} (bound: 1 per 100 waits held per triggerer, {bound}); while deferring, the busiest round per "
        f"{bucket} waits started (waits, list requests of both queues) {steps}"
    )


def case_celery_takeover(d: Deployment) -> str:
    """40 deferred waits on two triggerers; the one holding most SIGKILLed: the other takes them over."""
    em, api = d.emulator, d.api
    dag_id = "deployment_celery_takeover"
    before = time.time()
    run_id = d.trigger(dag_id)

    def sensors() -> list[dict[str, Any]]:
        return [ti for ti in api.task_instances(dag_id, run_id) if ti["task_id"].startswith("wait_")]

    def lists(since: float) -> list[dict[str, Any]]:
        return em.requests(user="takeover_user", agent="triggerer", path_end="/queues/37/workitems/list", since=since)

    wait_for(
        f"{TAKEOVER_WAITS} sensors deferred and polled",
        lambda: (
            lambda tis: len(tis) == TAKEOVER_WAITS and all(ti["state"] == "deferred" for ti in tis) and lists(before)
        )(sensors()),
        d.remaining(300),
        2.0,
    )
    holders = Counter(triggerer_of(d, ti) for ti in sensors())
    victim = max((name for name in holders if name != "-"), key=lambda name: holders[name])
    survivor = next(name for name in d.triggerer_jobs.values() if name != victim)
    proc = d.component(victim)
    Processes.stop(proc, signal.SIGKILL, grace=5)
    killed_at = time.time()
    check(not proc.alive(), f"{victim} survived SIGKILL")
    wait_for(
        f"{survivor} to hold every wait",
        lambda: all(triggerer_of(d, ti) == survivor for ti in sensors()),
        d.remaining(120),
        1.0,
    )
    taken_after = time.time() - killed_at
    wait_for(f"{survivor} to poll the queue", lambda: lists(time.time() - 2.5), d.remaining(60), 0.5)
    still_deferred = states(sensors())
    em.release(37, [item["id"] for item in em.items(37)])
    state = api.wait_run(dag_id, run_id, d.remaining(300))
    tis = api.task_instances(dag_id, run_id)
    check(
        still_deferred == Counter({"deferred": TAKEOVER_WAITS}),
        f"before the release the waits were {dict(still_deferred)}",
    )
    check(state == "success" and states(tis)["success"] == TAKEOVER_WAITS + 1, f"run {state}: {dict(states(tis))}")
    again = [(ti["task_id"], ti["map_index"], ti["try_number"]) for ti in tis if ti["try_number"] != 1]
    check(not again, f"tries beyond the first (a wait ended twice or failed): {again}")
    logins = em.logins(user="takeover_user", agent="triggerer", status=200, since=before)
    check(len(logins) <= 2, f"{len(logins)} triggerer logins, expected at most one per triggerer")
    return (
        f"{TAKEOVER_WAITS} waits held {dict(holders)}; {victim} SIGKILLed, {survivor} held all {taken_after:.0f} s "
        f"later and polled; {TAKEOVER_WAITS}/{TAKEOVER_WAITS} success in try 1 (none twice, none lost), triggerer "
        f"logins {len(logins)}"
    )


def live_triggerer_jobs(d: Deployment) -> list[int]:
    """The job ids of the triggerers Airflow counts as alive (heartbeat within its health-check threshold)."""
    jobs = d.api.call("GET", "jobs", job_type="TriggererJob", is_alive=True, limit=10)["jobs"]
    return sorted(job["id"] for job in jobs)


def start_triggerer(d: Deployment, name: str) -> int:
    """A Celery-leg triggerer (a trigger log server port of its own) started, once registered; its job id."""
    known = set(d.triggerer_jobs) | set(live_triggerer_jobs(d))
    d.start_component(name, ["triggerer"], AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=str(free_port()))
    new = wait_for(f"{name} to register", lambda: [j for j in live_triggerer_jobs(d) if j not in known], 60, 0.5)
    d.triggerer_jobs[new[0]] = name
    return new[0]


def probe_triggerers(d: Deployment, stop: threading.Event, period: float = 10.0) -> None:
    """
    The Celery leg's liveness probe: a triggerer whose process runs but whose job's heartbeat
    is older than :data:`STALLED_AFTER` is SIGKILLed and started again, and the restart is
    recorded (printed at once and in the line of each case it happened in). A process younger
    than that, or one whose job has not registered yet, is left alone, and so is a dead one
    (cases c4 and c8 kill triggerers and start them again themselves).
    """
    while not stop.wait(period):
        try:
            jobs = {job["id"]: job for job in d.api.call("GET", "jobs", job_type="TriggererJob", limit=100)["jobs"]}
        except (CaseFailed, OSError, KeyError):
            continue  # the API server is busy: the next round asks again
        now = time.time()
        # A copy: a case may register a triggerer it started meanwhile.
        named = sorted(dict(d.triggerer_jobs).items())
        for name in sorted({name for _, name in named}):
            proc = d.component(name)
            job = jobs.get(max(job_id for job_id, of in named if of == name))
            if not proc.alive() or now - proc.started < STALLED_AFTER or not job or not job.get("latest_heartbeat"):
                continue
            if datetime.fromisoformat(job["start_date"]).timestamp() < proc.started - 5:
                continue  # the job of an earlier process of that name: this one's is not registered yet
            silent = now - datetime.fromisoformat(job["latest_heartbeat"]).timestamp()
            if silent <= STALLED_AFTER:
                continue
            Processes.stop(proc, signal.SIGKILL, grace=5)
            seen = f"{name} (job {job['id']}) restarted: running, last heartbeat {silent:.0f} s before"
            print(f"liveness probe: {seen}", flush=True)
            try:
                start_triggerer(d, name)
            except CaseFailed as problem:
                seen += f"; not registered again: {problem}"
            d.restarts.append((now, seen))


def restarts_since(d: Deployment, since: float) -> list[str]:
    return [seen for when, seen in d.restarts if when >= since]


def trigger_holder(d: Deployment, trigger_id: int) -> int | None:
    """
    The job id of the triggerer running a trigger: the trigger table's ``triggerer_id``, read
    from the metadata database (the REST API shows it for a deferred task's trigger, not for
    an asset watcher's).
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(d.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], poolclass=NullPool)
    try:
        with engine.connect() as connection:
            holder = connection.execute(
                text("SELECT triggerer_id FROM trigger WHERE id = :id"), {"id": trigger_id}
            ).scalar()
    finally:
        engine.dispose()
    return None if holder is None else int(holder)


def watcher_events(d: Deployment, asset_id: int) -> list[tuple[float, list[str]]]:
    """The asset's events, oldest first: (when Airflow recorded it, the item ids in its payload)."""
    events = d.api.call("GET", "assets/events", asset_id=asset_id, order_by="timestamp", limit=100)["asset_events"]
    return [
        (parse_time(event["timestamp"]), [item["id"] for item in event["extra"]["payload"]["work_items"]])
        for event in events
    ]


def case_celery_asset_watcher(d: Deployment) -> str:
    """
    The asset watcher of ``deployment_asset_watcher`` (queue 39) with two triggerers: 30 held
    items completed in three batches of 10. Once a run has reported the first batch and its
    watermark is surely stored, the second is completed and, as soon as its event is in the
    metadata database, the triggerer running the watcher (the trigger table's
    ``triggerer_id``) is SIGKILLed: inside the window in which that event's watermark is not
    stored yet. The third is completed at once, while no triggerer runs the watcher; the
    other triggerer takes it over after Airflow's health-check threshold and resumes from the
    stored watermark.

    Asserted (Airflow 3.3): the new runs together report exactly the items of the asset's new
    events (no event without its run); each of the 30 items at least once (none lost across
    the crash); an item twice only if the event that first reported it was recorded at most
    ``STORE_DELAY`` + one poll interval + 1 s (the store's round trip) before the kill, and
    never three times: the first batch (stored) and the third (first reported after the kill)
    exactly once. No triggerer polled the queue between the kill and the health-check
    threshold, so the third batch was completed while none ran the watcher. Before 3.3
    (watermark in memory) no triggerer is killed, and each item is reported exactly once.
    """
    from airflow_provider_aa.triggers.automation_anywhere import STORE_DELAY

    em, api = d.emulator, d.api
    window = STORE_DELAY + WATCHER_POLL + 1.0
    # Case c4-takeover leaves one triggerer: the watcher needs another to take it over.
    restarted = [name for name in ("triggerer-a", "triggerer-b") if not d.component(name).alive()]
    for name in restarted:
        start_triggerer(d, name)
    assets = api.call("GET", "assets", uri_pattern=f"queues/{CASE_QUEUES[WATCHED_QUEUE]}")["assets"]
    check(len(assets) == 1 and len(assets[0]["watchers"]) == 1, f"the watched asset and its watcher: {assets}")
    asset_id, trigger_id = assets[0]["id"], assets[0]["watchers"][0]["trigger_id"]

    def live_holder() -> int | None:
        holder = trigger_holder(d, trigger_id)
        return holder if holder in live_triggerer_jobs(d) else None

    wait_for(
        "a live triggerer to run the watcher and poll queue 39",
        lambda: live_holder() and watcher_polls(d, time.time() - 2 * WATCHER_POLL - 1),
        d.remaining(120),
        1.0,
    )
    events_before = len(watcher_events(d, asset_id))
    runs_before = {run["dag_run_id"] for run in watcher_runs(d)}
    reported_before = Counter(watcher_reported(d))
    added = add_held_watched_items(d, 30)
    batches = [added[:10], added[10:20], added[20:]]

    def new_events() -> list[tuple[float, list[str]]]:
        return watcher_events(d, asset_id)[events_before:]

    def new_reports() -> Counter[str]:
        return Counter(watcher_reported(d)) - reported_before

    def first_events() -> dict[str, float]:
        """Each item's first event: when Airflow recorded it."""
        first: dict[str, float] = {}
        for when, ids in new_events():
            for item_id in ids:
                first.setdefault(item_id, when)
        return first

    em.release(WATCHED_QUEUE, batches[0])
    wait_for(
        "a run reporting batch 1",
        lambda: watcher_runs_done(d) and set(batches[0]) <= set(new_reports()),
        d.remaining(120),
        1.0,
    )
    kill = stored_cursor()
    if not kill:
        em.release(WATCHED_QUEUE, batches[1])
        em.release(WATCHED_QUEUE, batches[2])
    else:
        # Batch 1's watermark is stored at the first poll once its event is STORE_DELAY old.
        stored_by = max(when for item_id, when in first_events().items() if item_id in batches[0]) + window
        time.sleep(max(0.0, stored_by + 1.0 - time.time()))
        holder = live_holder()
        check(holder is not None, "no live triggerer runs the watcher")
        victim = d.triggerer_jobs[holder]
        survivor = next(name for name in ("triggerer-a", "triggerer-b") if name != victim)
        survivor_job = max(job for job, name in d.triggerer_jobs.items() if name == survivor)
        proc = d.component(victim)
        em.release(WATCHED_QUEUE, batches[1])
        recorded = wait_for(
            "batch 2's event recorded",
            lambda: (lambda first: first if set(batches[1]) <= set(first) else None)(first_events()),
            d.remaining(60),
            0.2,
        )
        Processes.stop(proc, signal.SIGKILL, grace=5)
        killed_at = time.time()
        check(not proc.alive(), f"{victim} survived SIGKILL")
        em.release(WATCHED_QUEUE, batches[2])
        kill_after = killed_at - max(recorded[item_id] for item_id in batches[1])
        wait_for(
            f"{survivor} to take the watcher over",
            lambda: trigger_holder(d, trigger_id) == survivor_job,
            d.remaining(120),
            1.0,
        )
        taken_after = time.time() - killed_at
        # Polls ending within a second of the kill may be the victim's, answered as it died.
        first_poll = wait_for(
            f"{survivor} to poll queue 39",
            lambda: min((e["t"] for e in watcher_polls(d, killed_at + 1)), default=0.0),
            d.remaining(60),
            0.5,
        )

    def all_reported() -> bool:
        if not watcher_runs_done(d):
            return False
        reports = new_reports()
        return set(added) <= set(reports) and reports == Counter(i for _, ids in new_events() for i in ids)

    try:
        wait_for("runs reporting every item of every event", all_reported, d.remaining(180), 1.0)
    except CaseFailed as problem:
        reports, events = new_reports(), Counter(i for _, ids in new_events() for i in ids)
        raise CaseFailed(
            f"{problem}: never reported {sorted(set(added) - set(reports), key=int)}; in events but not reported "
            f"{dict(events - reports)}; reported but in no event {dict(reports - events)}"
        ) from None
    seen = new_reports()
    events = new_events()
    runs = [run for run in watcher_runs(d) if run["dag_run_id"] not in runs_before]
    check(set(seen) == set(added), f"runs reported items the case did not complete: {sorted(set(seen) - set(added))}")
    repeated = {item_id: count for item_id, count in seen.items() if count > 1}
    if not kill:
        check(not repeated, f"items reported more than once without a crash: {repeated}")
        return (
            f"30 items completed in 3 batches: {len(events)} events, {len(runs)} runs, each item exactly once "
            "(Airflow before 3.3: no triggerer kill, the watermark is in memory)"
        )
    ages = {item_id: killed_at - first_events()[item_id] for item_id in repeated}
    outside = {
        item_id: (repeated[item_id], round(age, 1))
        for item_id, age in ages.items()
        if not (0 <= age <= window and repeated[item_id] == 2)
    }
    check(
        not outside,
        f"items reported again outside the documented window (twice at most, first event at most {window:g} s "
        f"before the kill; item: (times, seconds from its first event to the kill)): {outside}",
    )
    silent = first_poll - killed_at
    check(
        silent >= TRIGGERER_HEALTH_CHECK_THRESHOLD - TRIGGERER_HEARTBEAT,
        f"queue 39 polled {silent:.0f} s after the kill: the killed triggerer's watcher still ran",
    )
    d.measures["asset-watcher"] = {
        "events": len(events),
        "runs": len(runs),
        "repeated": len(repeated),
        "kill_after_event_s": round(kill_after, 1),
        "takeover_s": round(taken_after, 1),
        "first_poll_s": round(silent, 1),
    }
    spread = sorted({f"{age:.1f}" for age in ages.values()}, key=float)
    again = (
        f"{len(repeated)} twice (batch 2's, first recorded {'-'.join(spread[:: max(1, len(spread) - 1)])} s "
        f"before the kill; window {window:g} s)"
        if repeated
        else "none twice"
    )
    return (
        f"{'started ' + ' and '.join(restarted) + ' again; ' if restarted else ''}watcher on {victim}, SIGKILLed "
        f"{kill_after:.1f} s after batch 2's event was recorded; batch 3 completed while no triggerer ran it; "
        f"{survivor} held it {taken_after:.0f} s after the kill, first poll at {silent:.0f} s; {len(events)} events, "
        f"{len(runs)} runs: all 30 items reported, {again}, batches 1 and 3 once"
    )


def case_celery_mapped(d: Deployment) -> str:
    """
    50 mapped adds at once on both Celery workers: each item added once, each instance run
    once. Its connection shares the session through the host's session cache: the 50 task
    processes log in once (again only if the token lapsed between them), and none logs out.
    """
    before = time.time()
    text = mapped_adds(d, "deployment_celery_mapped", 36, "mapped_user", session_cache=True)
    logouts = d.emulator.requests(user="mapped_user", path_end="/authentication/logout", since=before)
    refreshes = d.emulator.requests(user="mapped_user", path_end="/authentication/token", since=before)
    check(not logouts, f"{len(logouts)} task processes logged out of the shared session")
    d.measures["deployment_celery_mapped"]["worker_refreshes"] = len(refreshes)
    return f"{text}, {len(refreshes)} renewals, 0 logouts"


def case_celery_mapped_variables(d: Deployment) -> str:
    """
    The same with the progress in Variables (Airflow 3.1/3.2's task state): while the
    instances run (each add held 3 s in the Control Room), every instance's progress Variable
    is listed in an index Variable (the shared index of old lost entries to concurrent
    writers); at the end no Variable of theirs is left.
    """
    dag_id = "deployment_celery_mapped_variables"
    d.emulator.control(
        "POST",
        "faults",
        {"kind": "latency", "seconds": 3.0, "method": "POST", "path": r"/queues/38/workitems$", "count": 50},
    )
    seen: dict[str, set[str]] = {"progress": set(), "unindexed": set()}

    def variables() -> dict[str, Any]:
        found: dict[str, Any] = {}
        for _ in range(50):
            page = d.api.call("GET", "variables", variable_key_pattern=dag_id, limit=100, offset=len(found))
            found.update({v["key"]: v["value"] for v in page["variables"]})
            if not page["variables"] or len(found) >= page["total_entries"]:
                break
        return found

    def watch(run_id: str) -> None:
        progress_prefix = f"airflow_provider_aa.add_progress.{dag_id}.add.{run_id}."
        while d.api.run_state(dag_id, run_id) not in ("success", "failed"):
            # Headers first, then the indexes: an instance registers before it writes its header
            # and deletes its header before it unregisters, so a header still there after the
            # indexes were read must be in one of them.
            headers = {k for k in variables() if k.startswith(progress_prefix) and ".part" not in k}
            indexed: set[str] = set()
            index = f"airflow_provider_aa.index.{dag_id}.add"
            for key, value in variables().items():
                if key == index or key.startswith(f"{index}."):  # one index per task, or per map index
                    indexed |= set(json.loads(value))
            seen["progress"] |= headers
            for key in headers - indexed:
                with contextlib.suppress(CaseFailed):  # 404: done meanwhile
                    d.api.call("GET", f"variables/{q(key)}")
                    seen["unindexed"].add(key)
            time.sleep(1.0)

    text = mapped_adds(d, dag_id, 38, "variables_user", watch)
    left = sorted(variables())
    check(
        not seen["unindexed"],
        f"progress Variables missing from every index while running: {sorted(seen['unindexed'])[:5]}",
    )
    check(len(seen["progress"]) >= 8, f"only {len(seen['progress'])} progress Variables seen while running")
    leftover = [key for key in left if ".add_progress." in key]
    check(not leftover, f"progress Variables left after the run: {leftover[:5]}")
    return (
        f"{text}; progress in Variables: {len(seen['progress'])} instances seen in flight, each listed in its "
        f"map index's index, none left after"
    )


def mapped_adds(
    d: Deployment,
    dag_id: str,
    queue_id: int,
    user: str,
    watch: Callable[[str], None] | None = None,
    *,
    session_cache: bool = False,
) -> str:
    em, api = d.emulator, d.api
    before = time.time()
    run_id = d.trigger(dag_id)
    if watch is not None:
        watch(run_id)
    state = api.wait_run(dag_id, run_id, d.remaining(300))
    tis = api.task_instances(dag_id, run_id)
    check(state == "success" and states(tis)["success"] == 50, f"run {state}: {dict(states(tis))}")
    retried = check_retries(d, dag_id, run_id, tis)
    numbers = Counter(item["json"]["n"] for item in em.items(queue_id))
    duplicates = sum(count - 1 for count in numbers.values() if count > 1)
    missing = len(set(range(50)) - set(numbers))
    check(
        duplicates == 0 and missing == 0, f"{sum(numbers.values())} items: {duplicates} duplicates, {missing} missing"
    )
    # Which worker ran which instance: the workloads each Celery worker logged it executed.
    executed: dict[str, list[int]] = {}
    workload = re.compile(rf"dag_id='{dag_id}', run_id='" + re.escape(run_id) + r"'.*?map_index=(-?\d+)")
    for name in ("worker-a", "worker-b"):
        text = "\n".join(proc.log.read_text(errors="replace") for proc in d.procs.procs if proc.name == name)
        executed[name] = [
            int(match.group(1))
            for line in text.splitlines()
            if "Executing workload" in line
            for match in [workload.search(line)]
            if match
        ]
    runs = Counter(n for numbers_run in executed.values() for n in numbers_run)
    check(
        runs == Counter({ti["map_index"]: ti["try_number"] for ti in tis}),
        f"instances run {dict(runs)} times by the workers, not once per try",
    )
    check(all(executed.values()), f"one worker ran none: {[(n, len(v)) for n, v in executed.items()]}")
    logins = em.logins(user=user, agent="workers", status=200, since=before)
    d.measures[dag_id] = {"instances": 50, "worker_logins": len(logins), "session_cache": session_cache}
    if session_cache:
        # One login, then one more at most per token lifetime: only a shared token that lapsed
        # because no task renewed it in time (no task started meanwhile) needs another.
        most = 1 + int((time.time() - before) // TOKEN_LIFETIME)
        check(len(logins) <= most, f"{len(logins)} worker logins for 50 task processes sharing a session (most {most})")
    return (
        f"50/50 mapped adds success ({retried} retried after Airflow's stale-event race), run by "
        f"{', '.join(f'{name} {len(v)}' for name, v in executed.items())}; 50 items, 0 duplicates, 0 missing; "
        f"worker logins {len(logins)} "
        + ("(the host's session cache: one session for all)" if session_cache else "(one per task process)")
    )


# -- the run ----------------------------------------------------------------------------


def build(
    args: argparse.Namespace, procs: Processes, home: Path, pgdir: Path, redisdir: Path, started: float
) -> Deployment:
    db_url, pg_version = start_postgres(procs, pgdir)
    celery = args.executor == "celery"
    broker_url, broker_password, redis_version = start_redis(procs, redisdir) if celery else ("", "", "")
    seed = home / "seed.json"
    passwords = make_seed(seed)
    info = home / "emulator.json"
    procs.start(
        "emulator",
        [
            sys.executable,
            str(HERE / "emulator_server.py"),
            "--seed",
            str(seed),
            "--info-file",
            str(info),
            "--token-lifetime",
            str(TOKEN_LIFETIME),
        ],
        {**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    wait_for("the emulator", lambda: info.exists() and info.stat().st_size > 0, 30, 0.1)
    endpoints = json.loads(info.read_text())
    em = Emulator(endpoints["url"], endpoints["harness_url"])
    # A pre-issued token that outlives the run (as an administrator hands out), while every
    # token issued by logins and renewals lives TOKEN_LIFETIME seconds.
    em.control("POST", "config", {"token_lifetime": 1800})
    pre_issued = em.control("POST", "tokens", {"username": "token_user"})["token"]
    em.control("POST", "config", {"token_lifetime": TOKEN_LIFETIME})
    passwords["bot_runner"] = "Emulator-Passw0rd!"
    passwords["token_user"] = "Token-Passw0rd!"
    passwords["single_user"] = "Single-Passw0rd!"

    from cryptography.fernet import Fernet

    dags = home / "dags"
    dags.mkdir()
    for dag_file in [*EXAMPLE_DAGS.glob("*.py"), *TEST_DAGS.glob("*.py")]:
        (dags / dag_file.name).symlink_to(dag_file)
    admin_password = secrets.token_urlsafe(12)
    (home / "passwords.json").write_text(json.dumps({ADMIN: admin_password}))
    api_port = free_port()
    multi = {"multiple_login": True}
    runtime_dir = home / "run"  # the session cache's base folder (XDG_RUNTIME_DIR), private
    runtime_dir.mkdir(mode=0o700)
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "XDG_RUNTIME_DIR": str(runtime_dir),
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor" if celery else "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(args.parallelism),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "256",
            # Airflow 3.3.2 fails a deferred task whose trigger fired before the scheduler handled
            # the executor's event of the deferring try (apache/airflow#72716, #71580; fixed for the
            # "scheduled" state only): one retry absorbs it. Cases count the tries that needed one.
            "AIRFLOW__CORE__DEFAULT_TASK_RETRIES": "1",
            "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "1",
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db_url,
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__API__WORKERS": "2",
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(24),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(24),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            # A killed worker's task is failed (and retried) after 20 s without heartbeats.
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "2",
            "AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL": "3",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": str(TRIGGERER_HEARTBEAT),
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": str(TRIGGERER_HEALTH_CHECK_THRESHOLD),
            # The DAG files do not change during the run: parse them once.
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AA_DEPLOYMENT_EXAMPLE_DAGS": str(EXAMPLE_DAGS),
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "AIRFLOW_CONN_AUTOMATION_ANYWHERE_DEFAULT": connection_env(
                em.url, "bot_runner", "password", password="Emulator-Passw0rd!", **multi
            ),
            "AIRFLOW_CONN_AA_API_KEY": connection_env(
                em.url, "api_user", "api_key", api_key="EMUAPIKEY0Qx7Rt2Lm9Vb4Nc8Hs3Kd6Wp1Zf5Gj8"
            ),
            "AIRFLOW_CONN_AA_TOKEN": connection_env(em.url, None, "token", token=pre_issued),
            "AIRFLOW_CONN_AA_FANOUT": connection_env(
                em.url, "fanout_user", "password", password=passwords["fanout_user"], **multi
            ),
            "AIRFLOW_CONN_AA_KILL": connection_env(
                em.url, "kill_user", "password", password=passwords["kill_user"], timeout=10, **multi
            ),
            "AIRFLOW_CONN_AA_RESTART": connection_env(
                em.url, "restart_user", "password", password=passwords["restart_user"], **multi
            ),
            "AIRFLOW_CONN_AA_DEPLOY": connection_env(
                em.url, "deploy_user", "password", password=passwords["deploy_user"], timeout=20, **multi
            ),
            "AIRFLOW_CONN_AA_WATCH": connection_env(
                em.url, "watch_user", "password", password=passwords["watch_user"], **multi
            ),
            # The connection's default: single-session logins.
            "AIRFLOW_CONN_AA_SINGLE_SESSION": connection_env(
                em.url, "single_session_user", "password", password=passwords["single_session_user"]
            ),
            # The workers share one session through the host's session cache (both Celery workers
            # run on this machine as one OS user: one cache, in the deployment's own folder).
            "AIRFLOW_CONN_AA_MAPPED": connection_env(
                em.url, "mapped_user", "password", password=passwords["mapped_user"], session_cache=True, **multi
            ),
            "AIRFLOW_CONN_AA_MAPPED_VARIABLES": connection_env(
                em.url, "variables_user", "password", password=passwords["variables_user"], **multi
            ),
            "AIRFLOW_CONN_AA_TAKEOVER": connection_env(
                em.url, "takeover_user", "password", password=passwords["takeover_user"], **multi
            ),
            "AA_DEPLOYMENT_CELERY_WAITS": str(args.waits),
        }
    )
    if celery:
        passwords["Redis (the broker)"] = broker_password
        env.update(
            {
                "AIRFLOW__CELERY__BROKER_URL": broker_url,
                # Celery's task results in the metadata database (SQLAlchemy through Celery's "db+").
                "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{db_url}",
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(CELERY_CONCURRENCY),
                # Sending to the broker on 2 busy cores takes longer than the default 1 s at times.
                "AIRFLOW__CELERY__OPERATION_TIMEOUT": "10",
                # Eight task processes and two triggerers starting at once keep the API server's
                # two workers busy for more than the default 5 s per Execution API call: a task
                # whose start timed out is failed before it ran (and retried).
                "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "30",
            }
        )
    migrate = subprocess.run([str(AIRFLOW), "db", "migrate"], env=env, capture_output=True, text=True, timeout=300)
    if migrate.returncode:
        raise SystemExit(f"airflow db migrate failed:\n{migrate.stdout[-3000:]}\n{migrate.stderr[-3000:]}")
    deployment = Deployment(
        args,
        procs,
        home,
        env,
        Api(f"http://127.0.0.1:{api_port}", admin_password),
        em,
        passwords,
        pre_issued,
        started,
        started + args.budget,
    )
    deployment.executor = env["AIRFLOW__CORE__EXECUTOR"]
    deployment.start_component("api-server", ["api-server", "--workers", "2"])
    for name in ("scheduler", "dag-processor"):
        deployment.start_component(name, [name])
    if celery:
        # Two triggerers, each with a log server port of its own; the second starts once the
        # first is registered, so that each one's job id is known (case celery-takeover).
        deployment.start_component(
            "triggerer-a", ["triggerer"], AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=str(free_port())
        )
        for name in ("worker-a", "worker-b"):
            deployment.start_worker(name)
    else:
        deployment.start_component("triggerer", ["triggerer"])

    def healthy() -> bool:
        for proc in procs.procs:
            if not proc.alive():
                raise SystemExit(f"{proc.name} exited with {proc.process.returncode}:\n{proc.tail()}")
        try:
            health = http("GET", f"{deployment.api.base}/api/v2/monitor/health", timeout=5)
        except (CaseFailed, OSError):
            return False
        return all(
            (health.get(part) or {}).get("status") == "healthy"
            for part in ("metadatabase", "scheduler", "triggerer", "dag_processor")
        )

    wait_for("Airflow's components to report healthy", healthy, 180, 1.0)
    deployment.api.sign_in()
    if celery:
        first = wait_for("triggerer-a to register", lambda: live_triggerer_jobs(deployment), 60, 0.5)
        deployment.triggerer_jobs = {first[0]: "triggerer-a"}
        start_triggerer(deployment, "triggerer-b")

        def workers_ready() -> bool:
            for name in ("worker-a", "worker-b"):
                proc = deployment.component(name)
                if not proc.alive():
                    raise SystemExit(f"{name} exited with {proc.process.returncode}:\n{proc.tail()}")
            return all(
                f"{name}@" in text and " ready." in text
                for name in ("worker-a", "worker-b")
                for text in [deployment.component(name).log.read_text(errors="replace")]
            )

        wait_for("both Celery workers ready", workers_ready, 120, 1.0)
    expected = {
        *EXAMPLE_IDS,
        *(f"{dag_id}__{mode}" for dag_id in EXAMPLE_IDS for mode in ("api_key", "token")),
        *(f"deployment_reschedule__{mode}" for mode in MODES),
        "deployment_fanout",
        "deployment_kill_add",
        "deployment_triggerer_restart",
        "deployment_rotation",
        "deployment_deploy_kill",
        "deployment_asset_watcher",
        SINGLE_SESSION_DAG,
        "deployment_celery_fanout",
        "deployment_celery_takeover",
        "deployment_celery_mapped",
        "deployment_celery_mapped_variables",
    }

    def parsed() -> bool:
        dags_seen = {dag["dag_id"] for dag in deployment.api.call("GET", "dags", limit=100)["dags"]}
        errors = deployment.api.call("GET", "importErrors")["import_errors"]
        if errors:
            raise SystemExit(f"DAG import errors: {json.dumps(errors)[:3000]}")
        return expected <= dags_seen

    wait_for(f"the {len(expected)} DAGs to be parsed", parsed, 120, 1.0)
    components = (
        f"scheduler with CeleryExecutor, 2 Celery workers x{CELERY_CONCURRENCY}, dag-processor, 2 triggerers), "
        f"{pg_version} (metadata and results), {redis_version} (broker)"
        if celery
        else f"scheduler with LocalExecutor x{args.parallelism}, dag-processor, triggerer), {pg_version}"
    )
    print(
        f"deployment up in {time.monotonic() - started:.0f} s: Airflow {airflow_version()} (api-server, "
        f"{components}, emulator {em.url}",
        flush=True,
    )
    return deployment


def airflow_version() -> str:
    from importlib.metadata import version

    return version("apache-airflow-core")


#: Set when the run is interrupted: case threads then stop reporting.
STOPPING = threading.Event()

CASES: dict[str, Callable[[Deployment], str]] = {
    "1-examples": case_examples,
    "2-fanout": case_fanout,
    "3-kill-add": case_kill_add,
    "4-triggerer-restart": case_triggerer_restart,
    "5-rotation": case_rotation,
    "6-secrets": case_secrets,
    "7-deploy-kill": case_deploy_kill,
    "8-single-session": case_single_session,
    "9-asset-watcher": case_asset_watcher,
}
#: Cases in the same phase run at the same time (their users, queues and faults are their own).
PHASES = (
    ("1-examples", "5-rotation"),
    ("2-fanout", "8-single-session"),
    ("3-kill-add", "7-deploy-kill", "4-triggerer-restart"),
    # Alone: it kills the triggerer, which the other cases' deferred waits would notice.
    ("9-asset-watcher",),
    ("6-secrets",),
)
#: The Celery leg (``--executor celery``): the same kinds of cases with two Celery workers and
#: two triggerers. A case that kills a Celery worker kills every task on it (another case's
#: too), so those run alone, each followed by the worker started again.
CELERY_CASES: dict[str, Callable[[Deployment], str]] = {
    "c1-fanout": case_celery_fanout,
    "c2-mapped": case_celery_mapped,
    "c2-mapped-variables": case_celery_mapped_variables,
    "c3-rotation": case_rotation,
    "c4-takeover": case_celery_takeover,
    "c5-kill-add": restarting_killed_workers(case_kill_add),
    "c6-deploy-kill": restarting_killed_workers(case_deploy_kill),
    "c7-secrets": case_secrets,
    "c8-asset-watcher": case_celery_asset_watcher,
}
CELERY_PHASES = (
    ("c1-fanout", "c2-mapped", "c2-mapped-variables", "c3-rotation"),
    ("c4-takeover",),
    # After c4: it starts c4's killed triggerer again, then kills the one running the watcher.
    ("c8-asset-watcher",),
    ("c5-kill-add",),
    ("c6-deploy-kill",),
    ("c7-secrets",),
)


def run_case(deployment: Deployment, name: str, results: dict[str, tuple[bool, str]], lock: threading.Lock) -> None:
    began, began_at = time.monotonic(), time.time()
    try:
        ok, text = True, (CELERY_CASES if deployment.executor == "CeleryExecutor" else CASES)[name](deployment)
    except CaseFailed as problem:
        ok, text = False, str(problem)
    except Exception as problem:  # a bug here, or an API answer of an unexpected shape
        ok, text = False, f"{type(problem).__name__}: {problem}"
    if restarted := restarts_since(deployment, began_at):
        text += f"; while it ran, the liveness probe: {'; '.join(restarted)}"
    line = f"{'PASS' if ok else 'FAIL'} {name} ({time.monotonic() - began:.0f} s): {text}"
    if STOPPING.is_set():
        return  # the run was interrupted: its processes are going away under the case
    with lock:
        results[name] = (ok, line)
        print(line, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--budget", type=float, help="seconds for the whole run (default 570; 1080 with --executor celery)"
    )
    parser.add_argument("--parallelism", type=int, default=8, help="LocalExecutor worker processes (default 8)")
    parser.add_argument("--keep", action="store_true", help="keep AIRFLOW_HOME and the database folder")
    parser.add_argument(
        "--executor",
        choices=("local", "celery"),
        default="local",
        help="local: LocalExecutor, one triggerer (cases 1-9); celery: CeleryExecutor with Redis, two Celery "
        "workers and two triggerers (cases c1-c8)",
    )
    parser.add_argument(
        "--waits", type=int, default=CELERY_WAITS, help=f"deferred sensors of case c1-fanout (default {CELERY_WAITS})"
    )
    parser.add_argument("--measures", type=Path, help="write what the cases measured to this JSON file")
    parser.add_argument(
        "--only", action="append", choices=sorted([*CASES, *CELERY_CASES]), help="run only these cases (repeatable)"
    )
    args = parser.parse_args()
    if args.budget is None:
        args.budget = 1080.0 if args.executor == "celery" else 570.0
    started = time.monotonic()

    def interrupted(signum: int, _frame: Any) -> None:
        STOPPING.set()
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    become_subreaper()
    home = Path(tempfile.mkdtemp(prefix="aa-deployment-"))
    pgdir = Path(tempfile.mkdtemp(prefix="aa-deployment-pg-"))
    os.chmod(pgdir, 0o755)
    redisdir = Path(tempfile.mkdtemp(prefix="aa-deployment-redis-"))
    os.chmod(redisdir, 0o755)
    (home / "components").mkdir()
    procs = Processes(home / "components")
    results: dict[str, tuple[bool, str]] = {}
    lock = threading.Lock()
    deployment = None
    probe_stop = threading.Event()
    try:
        deployment = build(args, procs, home, pgdir, redisdir, started)
        if args.executor == "celery":
            threading.Thread(target=probe_triggerers, args=(deployment, probe_stop), daemon=True).start()
        for phase in CELERY_PHASES if args.executor == "celery" else PHASES:
            chosen = [name for name in phase if not args.only or name in args.only]
            threads = [
                threading.Thread(target=run_case, args=(deployment, name, results, lock), daemon=True)
                for name in chosen
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=max(1.0, deployment.deadline - time.monotonic() + 30))
            for name in chosen:
                if name not in results:
                    with lock:
                        results[name] = (False, f"FAIL {name}: did not finish within the run's budget")
                        print(results[name][1], flush=True)
    except KeyboardInterrupt as stop:
        STOPPING.set()
        print(f"interrupted ({stop})", file=sys.stderr)
        results.setdefault("interrupted", (False, "interrupted"))
    except (SystemExit, CaseFailed, Exception) as problem:
        print(f"FAIL deployment: {problem}", flush=True)
        results.setdefault("deployment", (False, str(problem)))
    finally:
        probe_stop.set()
        # Cleaning up is not to be interrupted by a second Ctrl-C or SIGTERM.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        failed = [name for name, (ok, _) in results.items() if not ok]
        if failed:
            for proc in procs.procs:
                print(
                    f"--- {proc.name} ({'running' if proc.alive() else f'exit {proc.process.returncode}'}), last lines of {proc.log}:\n{proc.tail(15)}",
                    file=sys.stderr,
                )
        procs.stop_all(last=("emulator", "redis", "postgres"))
        orphans = reap_orphans()
        if orphans:
            print(f"ended {orphans} orphaned process(es) of the deployment", flush=True)
        keep = args.keep or bool(failed)
        if keep:
            print(f"kept: AIRFLOW_HOME {home}, database {pgdir}, broker {redisdir}", flush=True)
        else:
            for folder in (home, pgdir, redisdir):
                shutil.rmtree(folder, ignore_errors=True)
        if deployment is not None and args.measures:
            args.measures.write_text(json.dumps(deployment.measures, indent=1))
    passed = sum(ok for ok, _ in results.values())
    print(f"deployment test took {time.monotonic() - started:.0f} s", flush=True)
    print(f"deployment: {passed} passed, {len(results) - passed} failed", flush=True)
    return 0 if results and passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
