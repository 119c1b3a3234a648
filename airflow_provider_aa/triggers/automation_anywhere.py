"""
Deferrable waiting: triggers that poll work item statuses and bot runs in the triggerer.

Transport: ``httpx.AsyncClient`` (installed with Airflow) on the triggerer's event loop. The
alternative — the sync ``requests`` transport in a thread per call — would need a thread per
concurrent poll and a thread-safe way to share one token among thousands of triggers; the
async client shares one connection pool and one :class:`ControlRoomSession` naturally.
Everything the Control Room means (requests, answers, statuses, errors, retries, renewal) is
the same protocol code the sync hook runs.

Sharing, per event loop (one triggerer process runs one loop):

- one :class:`AsyncControlRoomClient` per connection id: one token for all triggers, renewed
  once, not once per trigger;
- per queue, status lookups of all triggers polling within ``LOOKUP_WINDOW`` seconds are
  merged into ``or``-filtered list requests of 100 ids each; polls are aligned to multiples
  of the poke interval on the wall clock so that they do meet;
- while any trigger waits, the token is renewed when due even between polls, so that a poll
  interval longer than the renewal margin never meets an expired token (which a pre-issued
  token could not survive).
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import AsyncIterator, Sequence
from typing import Any, NamedTuple

from airflow.sdk import BaseHook
from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_aa.airflow_compat import amask_secret
from airflow_provider_aa.control_room.bots import BotRunWait, read_bot_runs
from airflow_provider_aa.control_room.errors import AutomationAnywhereError, FatalError, LoginRefusedError
from airflow_provider_aa.control_room.exchange import ApiRequest, ApiResponse, Operation, TransportFailure, adrive
from airflow_provider_aa.control_room.listing import lookup
from airflow_provider_aa.control_room.session import ControlRoomSession
from airflow_provider_aa.control_room.settings import ConnectionSettings, settings_of
from airflow_provider_aa.control_room.statuses import UnknownStatusWarnings, WorkItemWait
from airflow_provider_aa.control_room.work_items import PAGE_LENGTH
from airflow_provider_aa.transport.httpx_transport import HttpxTransport

_log = logging.getLogger(__name__)

#: Status lookups of one queue arriving within this many seconds share requests.
LOOKUP_WINDOW = 0.2
#: A connection is read again after this many seconds, so that a rotated password or a new
#: host reaches waiting triggers before their next login.
CONNECTION_REFRESH = 60.0
#: The shortest sleep of the token keeper, whatever the token's times say.
MIN_KEEPER_SLEEP = 0.1
#: A reading that began before the deadline may run this many seconds past it.
READING_GRACE = 2.0


class AsyncControlRoomClient:
    """A Control Room session over ``httpx``, shared by every trigger of one connection."""

    def __init__(self, session: ControlRoomSession) -> None:
        self.session = session
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
                await asyncio.sleep(max(MIN_KEEPER_SLEEP, 1.0 if wait is None else min(wait, 60.0)))
                continue
            try:
                await self.run(self.session.renew())
            except AutomationAnywhereError:
                return  # the next poll meets the same problem and reports it as an event
            await asyncio.sleep(MIN_KEEPER_SLEEP)

    async def run(self, operation: Operation[Any]) -> Any:
        return await adrive(
            operation,
            send=self._send,
            sleep=asyncio.sleep,
            mask=amask_secret,
            authenticator=self.session,
            lock=self._auth_lock,
        )

    async def close(self) -> None:
        """Log out (when this client logged in) and close its connections; never raises."""
        if self._keeper is not None:
            self._keeper.cancel()
        try:
            await self.run(self.session.logout())
        except AutomationAnywhereError:
            pass  # the session ends with its token's lifetime anyway
        await self._http.aclose()

    async def request_json(self, request: ApiRequest) -> Any:
        return await self.run(self.session.request_json(request))

    async def lookup(self, queue_id: str, work_item_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Items by id (ids the queue does not hold are absent), batched with other callers."""
        batcher = self._batchers.get(queue_id)
        if batcher is None:
            batcher = self._batchers[queue_id] = _LookupBatcher(self, queue_id)
        return await batcher.lookup(work_item_ids)

    async def _send(self, request: ApiRequest) -> ApiResponse | TransportFailure:
        return await self._http.send(request)


class _LookupBatcher:
    """
    Merges concurrent lookups of one queue into as few list requests as possible: ids wait
    at most ``LOOKUP_WINDOW`` seconds for company, and go at once when they fill a request
    (100 ids) — a busy event loop must not split batches that could have been full.
    """

    def __init__(self, client: AsyncControlRoomClient, queue_id: str) -> None:
        self._client = client
        self._queue_id = queue_id
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
            self._timer = loop.call_later(LOOKUP_WINDOW, self._send_waiting)
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
                *(self._client.run(lookup(session, self._queue_id, chunk)) for chunk in chunks)
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


class _ClientRegistry:
    """
    The clients of one event loop (one triggerer process): one per distinct connection
    *content*, so that all triggers of a connection share one token, and a changed
    connection (rotated password, new host) gets a new session instead of the old values
    being used for the life of the process.

    A connection is read at most once per ``CONNECTION_REFRESH`` seconds, however many
    triggers use it, and again at once when a login was refused with its values.
    """

    def __init__(self) -> None:
        self._reads: dict[str, tuple[float, asyncio.Task[ConnectionSettings]]] = {}
        self._current: dict[str, AsyncControlRoomClient] = {}

    async def client(self, conn_id: str, *, reread: bool = False) -> AsyncControlRoomClient:
        settings = await self._settings(conn_id, reread=reread)
        client = self._current.get(conn_id)
        if client is None or client.session.settings != settings:
            if client is not None:
                client.retire()
            client = self._current[conn_id] = AsyncControlRoomClient(ControlRoomSession(settings))
            for warning in (settings.plain_http_warning, *settings.warnings):
                if warning:
                    _log.warning("Connection %s: %s", conn_id, warning)
        return client

    async def _settings(self, conn_id: str, *, reread: bool) -> ConnectionSettings:
        read = self._reads.get(conn_id)
        now = time.monotonic()
        stale = read is None or now - read[0] >= CONNECTION_REFRESH or (read[1].done() and read[1].exception())
        if reread and read is not None and read[1].done():
            stale = True
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


#: One registry per event loop; a loop's clients go away with the loop.
_registries: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _ClientRegistry] = weakref.WeakKeyDictionary()


async def shared_client(conn_id: str, *, reread: bool = False) -> AsyncControlRoomClient:
    """
    The client for ``conn_id`` on the running loop, for the connection's current content.

    :param reread: read the connection again now (after a refused login), not only when
        the last reading is ``CONNECTION_REFRESH`` seconds old.
    """
    registry = _registries.setdefault(asyncio.get_running_loop(), _ClientRegistry())
    return await registry.client(conn_id, reread=reread)


class _Pending(NamedTuple):
    """A poll that did not end the wait: what to log, and the message if time runs out now."""

    progress: str
    timeout_message: str


class _PollingTrigger(BaseTrigger):
    """
    Poll the Control Room through the connection's shared client until :meth:`_poll` gives
    an event or the deadline passes; every failure becomes an ``error`` event.

    Polls fall on multiples of the interval on the wall clock (see :func:`_until_next_tick`).
    """

    def __init__(
        self,
        *,
        automation_anywhere_conn_id: str,
        deadline: float,
        poke_interval: float,
        exponential_backoff: bool,
        max_poke_interval: float,
    ) -> None:
        super().__init__()
        self.automation_anywhere_conn_id = automation_anywhere_conn_id
        self.deadline = float(deadline)
        self.poke_interval = float(poke_interval)
        self.exponential_backoff = bool(exponential_backoff)
        self.max_poke_interval = float(max_poke_interval)

    def _serialize(self, **kwargs: Any) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "automation_anywhere_conn_id": self.automation_anywhere_conn_id,
                **kwargs,
                "deadline": self.deadline,
                "poke_interval": self.poke_interval,
                "exponential_backoff": self.exponential_backoff,
                "max_poke_interval": self.max_poke_interval,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            event = await self._wait()
        except FatalError as problem:
            event = {"status": "error", "message": str(problem), "fatal": True}
        except AutomationAnywhereError as problem:
            event = {"status": "error", "message": str(problem)}
        except Exception as problem:  # the triggerer must get an event, never a silent hang
            event = {"status": "error", "message": f"{type(problem).__name__}: {problem}"}
        yield TriggerEvent(event)

    async def _wait(self) -> dict[str, Any]:
        interval = self.poke_interval
        last: _Pending | None = None
        client: AsyncControlRoomClient | None = None
        try:
            while True:
                # Each round asks for the connection's current client: a changed connection
                # (rotated password, new host) is picked up between readings.
                current = await shared_client(self.automation_anywhere_conn_id)
                if current is not client:
                    current.hold()
                    if client is not None:
                        client.release()
                    client = current
                try:
                    # The deadline bounds a reading too: a slow or dripping Control Room must
                    # not hold the wait much past it.
                    budget = max(self.deadline - time.time(), 0.0) + READING_GRACE
                    outcome = await asyncio.wait_for(self._poll_with(client), budget)
                except asyncio.TimeoutError:
                    unanswered = "the Control Room had not answered the last reading when the deadline passed."
                    message = f"{last.timeout_message} ({unanswered})" if last else f"Timed out: {unanswered}"
                    return {"status": "timeout", "message": message}
                if not isinstance(outcome, _Pending):
                    return outcome
                if last is None or outcome.progress != last.progress:
                    # Only changes: 10,000 waiting triggers must not log 10,000 lines a round.
                    self.log.info(outcome.progress)
                last = outcome
                remaining = self.deadline - time.time()
                if remaining <= 0:
                    return {"status": "timeout", "message": outcome.timeout_message}
                await asyncio.sleep(min(_until_next_tick(interval), remaining))
                if self.exponential_backoff:
                    interval = min(interval * 2, self.max_poke_interval)
        finally:
            if client is not None:
                client.release()

    async def _poll_with(self, client: AsyncControlRoomClient) -> dict[str, Any] | _Pending:
        """
        One reading. A refused login is checked against the connection as it is now: when
        it changed meanwhile (a rotated password), the reading is taken again with it;
        otherwise the refusal ends the wait, without another attempt.
        """
        try:
            return await self._poll(client)
        except LoginRefusedError:
            fresh = await shared_client(self.automation_anywhere_conn_id, reread=True)
            if fresh is client:
                raise
            fresh.hold()
            try:
                return await self._poll(fresh)
            finally:
                fresh.release()

    async def _poll(self, client: AsyncControlRoomClient) -> dict[str, Any] | _Pending:
        """One reading: the event that ends the wait, or what is still pending."""
        raise NotImplementedError


class AutomationAnywhereWorkItemTrigger(_PollingTrigger):
    """
    Poll work items until none is pending, one fails, one is missing, or the deadline passes.

    :param automation_anywhere_conn_id: connection of type ``automation_anywhere``.
    :param queue_id: validated queue id (digits).
    :param work_item_ids: validated work item ids (digit strings).
    :param pending_statuses: statuses that mean "keep waiting".
    :param failure_statuses: statuses that end the wait as a failure.
    :param deadline: wall-clock time (epoch seconds) after which a timeout event is sent.
    :param poke_interval: seconds between polls.
    :param exponential_backoff: double the interval after each poll, up to ``max_poke_interval``.
    :param max_poke_interval: the longest interval with backoff.

    Events: ``{"status": "done", "items": {id: work item}, "work_item_ids": [...]}`` (the
    caller judges them, exactly as a poke would), ``{"status": "timeout", "message": ...}``, or
    ``{"status": "error", "message": ...}``.
    """

    def __init__(
        self,
        *,
        automation_anywhere_conn_id: str,
        queue_id: str,
        work_item_ids: list[str],
        pending_statuses: list[str],
        failure_statuses: list[str],
        deadline: float,
        poke_interval: float = 60.0,
        exponential_backoff: bool = False,
        max_poke_interval: float = 3600.0,
    ) -> None:
        super().__init__(
            automation_anywhere_conn_id=automation_anywhere_conn_id,
            deadline=deadline,
            poke_interval=poke_interval,
            exponential_backoff=exponential_backoff,
            max_poke_interval=max_poke_interval,
        )
        self.queue_id = queue_id
        self.work_item_ids = list(work_item_ids)
        self.pending_statuses = list(pending_statuses)
        self.failure_statuses = list(failure_statuses)
        self._wait_on = WorkItemWait(
            self.queue_id, tuple(self.work_item_ids), self.pending_statuses, self.failure_statuses
        )
        self._unknown_statuses = UnknownStatusWarnings(self.log, "Work item")

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return self._serialize(
            queue_id=self.queue_id,
            work_item_ids=self.work_item_ids,
            pending_statuses=self.pending_statuses,
            failure_statuses=self.failure_statuses,
        )

    async def _poll(self, client: AsyncControlRoomClient) -> dict[str, Any] | _Pending:
        items = await client.lookup(self.queue_id, self.work_item_ids)
        verdict = self._wait_on.judge(items)
        self._unknown_statuses.warn(verdict.unknown)
        if verdict.over:
            return {
                "status": "done",
                "outcome": verdict.outcome,
                "message": verdict.message,
                "items": items,
                "work_item_ids": self.work_item_ids,
            }
        return _Pending(
            verdict.message,
            f"Timed out waiting for work item(s) in queue {self.queue_id} to leave the statuses "
            f"{', '.join(self.pending_statuses)}: {verdict.message}",
        )


class AutomationAnywhereBotRunTrigger(_PollingTrigger):
    """
    Poll a bot deployment's runs until they completed, one failed, the wait policy gives up
    (no activity record after the grace period, a run paused or unknown too long), or the
    deadline passes. Judged by ``control_room.bots.BotRunWait``, as a poke is.

    :param automation_anywhere_conn_id: connection of type ``automation_anywhere``.
    :param wait: the wait's policy and clocks, ``BotRunWait.to_json()``.
    :param deadline: wall-clock time (epoch seconds) after which a timeout event is sent.
    :param poke_interval: seconds between polls.
    :param exponential_backoff: double the interval after each poll, up to ``max_poke_interval``.
    :param max_poke_interval: the longest interval with backoff.

    Events: ``{"status": "done", "outcome": "completed" | "failed", "message": ...,
    "deployment_id": ..., "runs": [BotRun.to_json(), ...]}`` (outputs still typed),
    ``{"status": "timeout", "message": ...}``, or ``{"status": "error", "message": ...}``.
    """

    def __init__(
        self,
        *,
        automation_anywhere_conn_id: str,
        wait: dict[str, Any],
        deadline: float,
        poke_interval: float = 60.0,
        exponential_backoff: bool = False,
        max_poke_interval: float = 3600.0,
    ) -> None:
        super().__init__(
            automation_anywhere_conn_id=automation_anywhere_conn_id,
            deadline=deadline,
            poke_interval=poke_interval,
            exponential_backoff=exponential_backoff,
            max_poke_interval=max_poke_interval,
        )
        self.wait = dict(wait)
        self._state = BotRunWait.from_json(self.wait)
        self._unknown_statuses = UnknownStatusWarnings(self.log, "Bot run")

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return self._serialize(wait=self.wait)

    async def _poll(self, client: AsyncControlRoomClient) -> dict[str, Any] | _Pending:
        deployment_id = self._state.deployment_id
        runs = await client.run(read_bot_runs(client.session, deployment_id))
        verdict = self._state.judge(runs, time.time())
        self._unknown_statuses.warn(verdict.unknown)
        if verdict.outcome != "waiting":
            return {
                "status": "done",
                "outcome": verdict.outcome,
                "message": verdict.message,
                "deployment_id": deployment_id,
                "runs": [run.to_json() for run in runs],
            }
        return _Pending(verdict.message, f"Timed out waiting for bot deployment {deployment_id}. {verdict.message}")


def _until_next_tick(interval: float) -> float:
    """
    Seconds until the next multiple of ``interval`` on the wall clock.

    Triggers with the same interval thus poll at the same instants, whenever their previous
    answer arrived, and their lookups meet in one batch instead of trickling in.
    """
    wait = interval - time.time() % interval
    return wait + interval if wait < LOOKUP_WINDOW else wait
