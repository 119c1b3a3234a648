"""
The triggerer's Control Room clients, shared by every trigger of one event loop.

Transport: ``httpx.AsyncClient`` (installed with Airflow) on the triggerer's event loop. The
alternative — the sync ``requests`` transport in a thread per call — would need a thread per
concurrent poll and a thread-safe way to share one token among thousands of triggers; the
async client shares one connection pool and one :class:`ControlRoomSession` naturally.
Everything the Control Room means (requests, answers, statuses, errors, retries, renewal) is
the same protocol code the sync hook runs.

Sharing, per event loop (one triggerer process runs one loop; see :class:`TriggerClients`):

- one :class:`AsyncControlRoomClient` per connection content: one token for all triggers,
  renewed once, not once per trigger;
- per queue, status lookups of all triggers polling within ``LOOKUP_WINDOW`` seconds are
  merged into ``or``-filtered list requests of 100 ids each;
- while any trigger waits, the token is renewed when due even between polls, so that a poll
  interval longer than the renewal margin never meets an expired token (which a pre-issued
  token could not survive).
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar

from airflow.providers.common.compat.sdk import BaseHook
from airflow.sdk.log import mask_secret
from asgiref.sync import sync_to_async

from airflow_provider_aa.control_room.bots import BotRun, read_bot_runs
from airflow_provider_aa.control_room.errors import AutomationAnywhereError
from airflow_provider_aa.control_room.exchange import ApiRequest, ApiResponse, Operation, TransportFailure, adrive
from airflow_provider_aa.control_room.listing import lookup
from airflow_provider_aa.control_room.names import bot_id_of, queue_id_of
from airflow_provider_aa.control_room.session import ControlRoomSession
from airflow_provider_aa.control_room.settings import ConnectionSettings, settings_of
from airflow_provider_aa.control_room.stopping import stop_runs
from airflow_provider_aa.control_room.watching import Changes, WatchedRecords, Watermark, read_changes
from airflow_provider_aa.control_room.work_items import PAGE_LENGTH
from airflow_provider_aa.transport.httpx_transport import HttpxTransport
from airflow_provider_aa.version_compat import AIRFLOW_V_3_3_PLUS

if AIRFLOW_V_3_3_PLUS:
    from airflow.sdk.log import amask_secret
else:

    async def amask_secret(secret: str, name: str | None = None) -> None:  # type: ignore[misc]
        """
        Mask in this process and tell the supervisor (Airflow before 3.3 has no async masker).
        Telling it is a blocking call on the supervisor's channel: made off the event loop.
        Without a supervisor (outside a triggerer) nothing blocks, and the token is masked
        before any other coroutine runs, as 3.3's masker does.
        """
        from airflow.sdk.execution_time import task_runner

        if getattr(task_runner, "SUPERVISOR_COMMS", None) is None:
            mask_secret(secret, name)
        else:
            await sync_to_async(mask_secret)(secret, name)


_log = logging.getLogger(__name__)

#: Status lookups of one queue arriving within this many seconds share requests.
LOOKUP_WINDOW = 0.2
#: A connection is read again after this many seconds, so that a rotated password or a new
#: host reaches waiting triggers before their next login.
CONNECTION_REFRESH = 60.0
#: The shortest sleep of the token keeper, whatever the token's times say.
MIN_KEEPER_SLEEP = 0.1


class AsyncControlRoomClient:
    """
    A Control Room session over ``httpx``, shared by every trigger of one connection.

    :param session: the session (its clock times token renewals).
    :param sleep: how the token keeper and retries wait (``asyncio.sleep``; tests pass a
        sleep on a fake clock).
    :param lookup_window: real seconds a status look-up waits for others to share its request.
    """

    def __init__(
        self,
        session: ControlRoomSession,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        lookup_window: float = LOOKUP_WINDOW,
    ) -> None:
        self.session = session
        self._sleep = sleep
        self._lookup_window = lookup_window
        self._http = HttpxTransport(session.settings)
        self._auth_lock = asyncio.Lock()
        self._batchers: dict[str, _LookupBatcher] = {}
        self._waiters = 0
        self._keeper: asyncio.Task[None] | None = None
        self._retired = False
        self._closing: asyncio.Future[None] | None = None

    def hold(self) -> None:
        """A trigger starts waiting with this client: the token is kept fresh meanwhile."""
        self._waiters += 1
        if self._keeper is None or self._keeper.done():
            self._keeper = asyncio.create_task(self._keep_token_fresh())

    def release(self) -> None:
        """A trigger stopped waiting with this client (see :meth:`hold`)."""
        self._waiters -= 1
        if self._retired and not self._waiters:
            self._close_soon()

    def retire(self) -> None:
        """The connection changed: close this client once its last waiting trigger moved on."""
        self._retired = True
        if not self._waiters:
            self._close_soon()

    def _close_soon(self) -> None:
        if self._closing is None:
            # Kept in an attribute: the loop holds only a weak reference to a task.
            self._closing = asyncio.ensure_future(self.close())

    async def _keep_token_fresh(self) -> None:
        while self._waiters:
            wait = self.session.seconds_until_renewal()
            if wait is None or wait > 0:
                # The floor keeps a token that looks due at once from spinning the loop.
                await self._sleep(max(MIN_KEEPER_SLEEP, 1.0 if wait is None else min(wait, 60.0)))
                continue
            try:
                await self.run_operation(self.session.renew())
            except AutomationAnywhereError:
                return  # the next poll meets the same problem and reports it as an event
            await self._sleep(MIN_KEEPER_SLEEP)

    async def run_operation(self, operation: Operation[Any]) -> Any:
        return await adrive(
            operation,
            send=self._send,
            sleep=self._sleep,
            mask=amask_secret,
            authenticator=self.session,
            lock=self._auth_lock,
        )

    async def close(self) -> None:
        """Log out (when this client logged in) and close its connections; never raises."""
        if self._keeper is not None:
            self._keeper.cancel()
        try:
            await self.run_operation(self.session.logout())
        except AutomationAnywhereError:
            pass  # the session ends with its token's lifetime anyway
        await self._http.aclose()

    async def _request_json(self, request: ApiRequest) -> Any:
        return await self.run_operation(self.session.request_json(request))

    async def read_bot_runs(self, deployment_id: str) -> list[BotRun]:
        """The deployment's runs as its activity records show them (one list request)."""
        runs: list[BotRun] = await self.run_operation(read_bot_runs(self.session, deployment_id))
        return runs

    async def stop_runs(self, deployment_id: str) -> list[str]:
        """
        Stop the deployment's unfinished runs; the execution ids asked to stop.

        :raises StopRefusedError: some runs were not stopped (their ids in ``not_stopped``).
        """
        stopped: list[str] = await self.run_operation(stop_runs(self.session, deployment_id))
        return stopped

    async def queue_id_of(self, queue_name: str) -> str:
        """The id of the work queue named ``queue_name`` (one list request)."""
        queue_id: str = await self.run_operation(queue_id_of(self.session, queue_name))
        return queue_id

    async def bot_id_of(self, bot_path: str) -> str:
        """The id of the bot at ``bot_path`` in the public workspace."""
        bot_id: str = await self.run_operation(bot_id_of(self.session, bot_path))
        return bot_id

    async def read_changes(self, watched: WatchedRecords, watermark: Watermark) -> Changes:
        """The watched records changed since ``watermark`` (an asset watcher's poll)."""
        changes: Changes = await self.run_operation(read_changes(self.session, watched, watermark))
        return changes

    async def control_room_time(self, now: float, probe: ApiRequest) -> float | None:
        """
        The Control Room's time at the local ``now``, learned from the ``Date`` of its answers;
        when no answer has shown it yet, ``probe`` (a read) is sent first.
        """
        if self.session.control_room_time(now) is None:
            await self._request_json(probe)
        return self.session.control_room_time(now)

    @property
    def base_url(self) -> str:
        """The Control Room's URL (for links to its pages; never with credentials)."""
        return self.session.settings.base_url

    async def lookup(self, queue_id: str, work_item_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Items by id (ids the queue does not hold are absent), batched with other callers."""
        batcher = self._batchers.get(queue_id)
        if batcher is None:
            batcher = self._batchers[queue_id] = _LookupBatcher(self, queue_id, self._lookup_window)
        return await batcher.lookup(work_item_ids)

    async def _send(self, request: ApiRequest) -> ApiResponse | TransportFailure:
        return await self._http.send(request)


class _LookupBatcher:
    """
    Merges concurrent lookups of one queue into as few list requests as possible: ids wait
    at most ``window`` seconds for company, and go at once when they fill a request
    (100 ids) — a busy event loop must not split batches that could have been full.
    """

    def __init__(self, client: AsyncControlRoomClient, queue_id: str, window: float) -> None:
        self._client = client
        self._queue_id = queue_id
        self._window = window
        self._waiting: list[tuple[Sequence[str], asyncio.Future[dict[str, dict[str, Any]]]]] = []
        self._waiting_ids: dict[str, None] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._sending: set[asyncio.Task[None]] = set()

    async def lookup(self, work_item_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[dict[str, dict[str, Any]]] = loop.create_future()
        self._waiting.append((work_item_ids, answer))
        self._waiting_ids.update(dict.fromkeys(work_item_ids))
        if len(self._waiting_ids) >= PAGE_LENGTH:
            self._send_waiting()
        elif self._timer is None:
            self._timer = loop.call_later(self._window, self._send_waiting)
        return await answer

    def _send_waiting(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        waiting, ids = self._waiting, list(self._waiting_ids)
        self._waiting, self._waiting_ids = [], {}
        if waiting:
            task = asyncio.ensure_future(self._send(waiting, ids))
            self._sending.add(task)  # a reference, so the task is not collected mid-way
            task.add_done_callback(self._sending.discard)

    async def _send(
        self, waiting: list[tuple[Sequence[str], asyncio.Future[dict[str, dict[str, Any]]]]], ids: list[str]
    ) -> None:
        session = self._client.session
        try:
            chunks = [ids[start : start + PAGE_LENGTH] for start in range(0, len(ids), PAGE_LENGTH)]
            answers = await asyncio.gather(
                *(self._client.run_operation(lookup(session, self._queue_id, chunk)) for chunk in chunks)
            )
            found = {item_id: item for answer in answers for item_id, item in answer.items()}
        except Exception as problem:
            for _, answer in waiting:
                if not answer.done():
                    answer.set_exception(problem)
            return
        for asked, answer in waiting:
            if not answer.done():
                answer.set_result({item_id: found[item_id] for item_id in asked if item_id in found})


class TriggerClients:
    """
    The Control Room clients of one event loop: one per distinct connection *content*, so
    that all triggers of a connection share one token, and a changed connection (rotated
    password, new host) gets a new session instead of the old values being used for the life
    of the process.

    A connection is read at most once per ``connection_refresh`` seconds, however many
    triggers use it, and again at once when a login was refused with its values.

    **Owner and lifecycle.** The event loop owns it: the triggerer runs every trigger of its
    process on one loop, and :meth:`of_running_loop` gives that loop's instance, created on
    first use and dropped with the loop. A client lives while triggers hold it; a client whose
    connection changed logs out once its last trigger has moved on; the others end with the
    loop (their tokens expire). Tests (and any other owner) create their own and pass it to
    triggers.

    :param clock: wall-clock seconds: deadlines, poll ticks, token renewal, connection reads.
    :param sleep: how triggers, token keepers and retries wait; a fake one runs a wait of
        hours in no time, together with a fake ``clock``.
    :param connection_refresh: seconds after which a connection is read again.
    :param lookup_window: real seconds a status look-up waits for others to share its request.
    """

    _per_loop: ClassVar[weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, TriggerClients]] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        connection_refresh: float = CONNECTION_REFRESH,
        lookup_window: float = LOOKUP_WINDOW,
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self.connection_refresh = connection_refresh
        self.lookup_window = lookup_window
        self._reads: dict[str, tuple[float, asyncio.Task[ConnectionSettings]]] = {}
        self._current: dict[str, AsyncControlRoomClient] = {}

    @classmethod
    def of_running_loop(cls) -> TriggerClients:
        """The instance of the running event loop (the triggerer's)."""
        return cls._per_loop.setdefault(asyncio.get_running_loop(), cls())

    async def client(self, conn_id: str, *, reread: bool = False) -> AsyncControlRoomClient:
        """
        The client for ``conn_id``'s current content.

        :param reread: read the connection again now (after a refused login), not only when
            the last reading is ``connection_refresh`` seconds old.
        """
        settings = await self._settings(conn_id, reread=reread)
        client = self._current.get(conn_id)
        if client is None or client.session.settings != settings:
            if client is not None:
                client.retire()
            session = ControlRoomSession(settings, clock=self.clock)
            client = self._current[conn_id] = AsyncControlRoomClient(
                session, sleep=self.sleep, lookup_window=self.lookup_window
            )
            for warning in (settings.plain_http_warning, *settings.warnings):
                if warning:
                    _log.warning("Connection %s: %s", conn_id, warning)
        return client

    async def _settings(self, conn_id: str, *, reread: bool) -> ConnectionSettings:
        read = self._reads.get(conn_id)
        now = self.clock()
        stale = read is None or not 0 <= now - read[0] < self.connection_refresh
        stale = stale or bool(read and read[1].done() and (reread or read[1].exception()))
        if stale:
            read = self._reads[conn_id] = (now, asyncio.ensure_future(_read_settings(conn_id)))
        assert read is not None
        return await asyncio.shield(read[1])


async def _read_settings(conn_id: str) -> ConnectionSettings:
    conn = await BaseHook.aget_connection(conn_id)
    settings = settings_of(conn)
    for secret in settings.secrets:
        await amask_secret(secret)
    return settings
