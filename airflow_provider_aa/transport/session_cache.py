"""
The session cache of one worker host: the task processes of a host share one Control Room
session per connection instead of logging in once each (connection extra ``session_cache``).

Each Celery or LocalExecutor task runs in a process of its own, so a session kept in the
process ends with the task: 1,000 short tasks are 1,000 logins and 1,000 logouts. With the
cache, the first task of a host logs in and writes the token to a file; the next tasks read
it, use it, and renew it when it is due, and none logs out (the session lapses at its expiry
once the host goes idle).

Where and how:

- A folder private to the worker's OS user on local, memory-backed storage:
  ``$XDG_RUNTIME_DIR`` when it is set, else ``/dev/shm``, else the temporary folder, each with
  a folder ``airflow-provider-automation-anywhere-<uid>`` (``0700``). A folder that is a
  symlink, another user's, or open to others is not used: the hook warns and logs in as
  without the cache.
- One file per connection (``0600``), named by a SHA-256 of the Control Room URL, the auth
  type, the user and the password or API key, so that a rotated secret is another file, never
  a stale session. It holds the token and its times, never the password or the API key.
- An exclusive ``flock`` on the connection's lock file while a process logs in or renews, so
  that one logs in and the others read its token; a lock held longer than
  :data:`LOCK_WAIT` seconds (a frozen process) is given up on: the process logs in itself.
- Never in Airflow's metadata database, XCom or a log, and never seen by another host: the
  triggerer, which holds one session for all its waits already, does not use it.

The cost: a bearer token on the host's local storage, readable by that OS user's other
processes, which can read the connection's password already. Hence opt-in.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import math
import os
import stat
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from airflow_provider_aa.control_room.auth import TokenTimes
from airflow_provider_aa.control_room.exchange import Operation
from airflow_provider_aa.control_room.session import ControlRoomSession
from airflow_provider_aa.control_room.settings import ConnectionSettings

#: Longest wait for another process's login or renewal before logging in without the cache.
LOCK_WAIT = 60.0
#: How often a waiting process tries the lock again.
_LOCK_POLL = 0.05
#: Largest cache file read (a token is a few kB).
_MAX_FILE = 64 * 1024
_PRIVATE_FOLDER = 0o700
_PRIVATE_FILE = 0o600


class UnsafeCacheFolder(Exception):
    """The cache folder cannot be trusted or made; the message says why."""


def cache_folder() -> Path:
    """
    This OS user's cache folder, made when missing.

    :raises UnsafeCacheFolder: it is a symlink, not a folder, another user's, or open to others.
    """
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    base = Path(runtime) if runtime and Path(runtime).is_dir() else Path("/dev/shm")
    if not base.is_dir():
        base = Path(tempfile.gettempdir())
    folder = base / f"airflow-provider-automation-anywhere-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=_PRIVATE_FOLDER)
    found = os.lstat(folder)
    if not stat.S_ISDIR(found.st_mode):
        raise UnsafeCacheFolder(f"{folder} is not a folder (a symlink or a file)")
    if found.st_uid != os.getuid():
        raise UnsafeCacheFolder(f"{folder} belongs to another user (uid {found.st_uid})")
    if found.st_mode & 0o077:
        raise UnsafeCacheFolder(f"{folder} is open to other users (mode {stat.S_IMODE(found.st_mode):o})")
    return folder


def cache_key(settings: ConnectionSettings) -> str:
    """The connection's file name: one per URL, auth type, user and secret."""
    secret = settings.api_key if settings.auth_type == "api_key" else settings.password
    material = json.dumps([settings.base_url, settings.auth_type, settings.username, secret])
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()


class SessionCache:
    """
    One connection's token file in ``folder`` (see the module), and its lock.

    :param settings: the connection; its key names the files.
    :param folder: a folder checked by :func:`cache_folder`.
    """

    def __init__(self, settings: ConnectionSettings, folder: Path) -> None:
        key = cache_key(settings)
        self.path = folder / f"{key}.json"
        self._lock_path = folder / f"{key}.lock"

    @contextlib.contextmanager
    def locked(self, wait: float = LOCK_WAIT) -> Iterator[bool]:
        """Hold the connection's lock; ``False`` when it could not be taken within ``wait`` seconds."""
        descriptor = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, _PRIVATE_FILE)
        try:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        yield False
                        return
                    time.sleep(_LOCK_POLL)
            try:
                yield True
            finally:
                fcntl.flock(descriptor, fcntl.LOCK_UN)
        finally:
            os.close(descriptor)

    def read(self) -> tuple[str, TokenTimes] | None:
        """The cached token and its times; ``None`` when there is none or the file is not ours as written."""
        try:
            descriptor = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return None
        try:
            found = os.fstat(descriptor)
            if found.st_uid != os.getuid() or found.st_mode & 0o077 or found.st_size > _MAX_FILE:
                return None
            with os.fdopen(descriptor, "rb", closefd=False) as file:
                content = json.loads(file.read(_MAX_FILE))
        except (OSError, ValueError):
            return None
        finally:
            os.close(descriptor)
        return _entry(content)

    def write(self, token: str, times: TokenTimes) -> None:
        """Replace the cached token at once (a reader sees the old file or the new one, never half)."""
        content = json.dumps(
            {
                "token": token,
                "received_at": times.received_at,
                "renew_at": times.renew_at,
                "expires_at": times.expires_at,
                "judged_by": times.judged_by,
            }
        ).encode()
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, _PRIVATE_FILE)
        try:
            with os.fdopen(descriptor, "wb", closefd=False) as file:
                file.write(content)
        finally:
            os.close(descriptor)
        os.replace(temporary, self.path)


def _entry(content: object) -> tuple[str, TokenTimes] | None:
    if not isinstance(content, dict):
        return None
    token, judged_by = content.get("token"), content.get("judged_by")
    times = [content.get(name) for name in ("received_at", "renew_at", "expires_at")]
    if not (isinstance(token, str) and token and isinstance(judged_by, str)):
        return None
    if not all(
        isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) for value in times
    ):
        return None
    received_at, renew_at, expires_at = (float(value) for value in times if isinstance(value, (int, float)))
    return token, TokenTimes(received_at, renew_at, expires_at, judged_by)


class CachedAuthenticator:
    """
    A session's authenticator that first looks in the host's session cache: a fresh token there
    (one that another task process received, not the one just rejected) is adopted; else the
    session logs in or renews, and its token is written for the next process.

    Serves the drivers' :class:`~airflow_provider_aa.control_room.exchange.Authenticate`
    actions in place of the session (see ``exchange.Authenticator``).
    """

    def __init__(self, session: ControlRoomSession, cache: SessionCache) -> None:
        self.session = session
        self.cache = cache

    def secrets(self) -> Iterable[str]:
        return self.session.secrets()

    def authenticate(self, rejected: str | None) -> Operation[None]:
        if self.session.token(rejected) is not None:
            return
        with self.cache.locked() as held:
            shared = self.cache.read() if held else None
            if shared is not None and shared[0] != rejected:
                # Fresh: used as it is. Due for renewal: renewed below, one session for the host.
                yield from self.session.adopt(*shared)
                if self.session.token(rejected) is not None:
                    return
            yield from self.session.authenticate(rejected)
            current = self.session.token()
            if held and current is not None:
                self.cache.write(*current)
