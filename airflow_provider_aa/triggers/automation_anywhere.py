"""
Deferrable waiting: triggers that poll work item statuses and bot runs in the triggerer.

Every trigger of a connection shares one Control Room session through
:class:`~airflow_provider_aa.triggers.clients.TriggerClients` (one token, batched status
look-ups). Polls fall on multiples of the poke interval on the wall clock, so that triggers
with the same interval poll together and their look-ups meet in one request of 100 ids.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from airflow.sdk.log import redact
from airflow.triggers.base import BaseEventTrigger, BaseTrigger, TriggerEvent

from airflow_provider_aa.control_room.bots import BotRunCheck
from airflow_provider_aa.control_room.errors import (
    AutomationAnywhereError,
    FatalError,
    InvalidInputError,
    LoginRefusedError,
)
from airflow_provider_aa.control_room.names import path_folders, validate_name
from airflow_provider_aa.control_room.statuses import UnknownStatusWarnings, WorkItemCheck
from airflow_provider_aa.control_room.watching import (
    Changes,
    WatchedRecords,
    Watermark,
    validate_statuses,
)
from airflow_provider_aa.control_room.work_items import validate_id
from airflow_provider_aa.tasks.errors import check_id_or_name
from airflow_provider_aa.triggers.clients import LOOKUP_WINDOW, AsyncControlRoomClient, TriggerClients
from airflow_provider_aa.triggers.stop_on_kill import (
    STOP_TIMEOUT,
    TRIGGERER_CALLS_ON_KILL,
    astop_runs_on_kill,
    ended_by_user,
)
from airflow_provider_aa.version_compat import AIRFLOW_V_3_3_PLUS

__all__ = [
    "AutomationAnywhereBotRunEventTrigger",
    "AutomationAnywhereBotRunTrigger",
    "AutomationAnywhereWorkItemEventTrigger",
    "AutomationAnywhereWorkItemTrigger",
]

#: A reading that began before the deadline may run this many seconds past it.
READING_GRACE = 2.0

#: A sensor started in the triggerer gives Airflow a trigger timeout this much longer than
#: its ``timeout``, and its trigger ends the wait this long before Airflow's timeout: the
#: trigger's own timeout (skipped with ``soft_fail``, its message in the task log) comes
#: first, instead of Airflow's, which resumes the task on a worker only to fail it.
END_MARGIN = 30.0


class _Pending(NamedTuple):
    """A poll that did not end the wait: what to log, and the message if time runs out now."""

    progress: str
    timeout_message: str


class _PollingTrigger(BaseTrigger):
    """
    Poll the Control Room through the connection's shared client until :meth:`_poll` gives
    an event or the deadline passes; every failure becomes an ``error`` event.

    Polls fall on multiples of the interval on the wall clock (see :func:`until_next_tick`).

    ``clients`` is not serialized: in the triggerer the running loop's
    :class:`TriggerClients` serves every trigger; tests pass their own (with a fake clock).

    ``deadline`` is epoch seconds; ``None`` (a task started in the triggerer, whose start
    is not known when the trigger's arguments are made): ``timeout`` seconds from the
    trigger's start, or :data:`END_MARGIN` before the timeout Airflow gave the trigger
    (``timeout_after``, which a triggerer taking the trigger over keeps).
    """

    def __init__(
        self,
        *,
        automation_anywhere_conn_id: str,
        deadline: float | None,
        poke_interval: float,
        exponential_backoff: bool,
        max_poke_interval: float,
        timeout: float | None = None,
        clients: TriggerClients | None = None,
    ) -> None:
        super().__init__()
        if deadline is None and timeout is None:
            raise InvalidInputError("A trigger needs a deadline or a timeout.")
        self.clients = clients
        self.automation_anywhere_conn_id = automation_anywhere_conn_id
        self.deadline = None if deadline is None else float(deadline)
        self.timeout = None if timeout is None else float(timeout)
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
                **({} if self.timeout is None else {"timeout": self.timeout}),
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
        if "message" in event:
            # Masked here, where the triggerer's secrets are known: the worker that resumes
            # the task (and the metadata database the event is stored in) has never seen
            # the tokens this process was issued, so it could not mask one echoed back.
            event["message"] = redact(event["message"])
        yield TriggerEvent(event)

    def _deadline(self, now: float) -> float:
        if self.deadline is not None:
            return self.deadline
        timeout_after = getattr(self, "timeout_after", None)  # set by the triggerer
        if isinstance(timeout_after, datetime):
            return timeout_after.timestamp() - END_MARGIN
        assert self.timeout is not None
        return now + self.timeout

    async def _wait(self) -> dict[str, Any]:
        clients = self.clients or TriggerClients.of_running_loop()
        deadline = self._deadline(clients.clock())
        interval = self.poke_interval
        last: _Pending | None = None
        client: AsyncControlRoomClient | None = None
        try:
            while True:
                # Each round asks for the connection's current client: a changed connection
                # (rotated password, new host) is picked up between readings.
                current = await clients.client(self.automation_anywhere_conn_id)
                if current is not client:
                    current.hold()
                    if client is not None:
                        client.release()
                    client = current
                try:
                    # The deadline bounds a reading too: a slow or dripping Control Room must
                    # not hold the wait much past it.
                    budget = max(deadline - clients.clock(), 0.0) + READING_GRACE
                    outcome = await asyncio.wait_for(self._poll_with(clients, client), budget)
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
                now = clients.clock()
                remaining = deadline - now
                if remaining <= 0:
                    return {"status": "timeout", "message": outcome.timeout_message}
                await clients.sleep(min(until_next_tick(interval, now), remaining))
                if self.exponential_backoff:
                    interval = min(interval * 2, self.max_poke_interval)
        finally:
            if client is not None:
                client.release()

    async def _poll_with(self, clients: TriggerClients, client: AsyncControlRoomClient) -> dict[str, Any] | _Pending:
        """
        One reading. A refused login is checked against the connection as it is now: when
        it changed meanwhile (a rotated password), the reading is taken again with it;
        otherwise the refusal ends the wait, without another attempt.
        """
        try:
            return await self._poll(client, clients.clock())
        except LoginRefusedError:
            fresh = await clients.client(self.automation_anywhere_conn_id, reread=True)
            if fresh is client:
                raise
            fresh.hold()
            try:
                return await self._poll(fresh, clients.clock())
            finally:
                fresh.release()

    async def _poll(self, client: AsyncControlRoomClient, now: float) -> dict[str, Any] | _Pending:
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
    :param return_full_items: the event carries each item as the Control Room returned it,
        instead of ``{"id", "status", "result", "error"}`` with text cut to ``TEXT_LIMIT``
        (200) characters.
    :param deadline: wall-clock time (epoch seconds) after which a timeout event is sent;
        ``None`` with ``timeout``: see :class:`_PollingTrigger`.
    :param timeout: seconds the wait may take, when there is no ``deadline``.
    :param poke_interval: seconds between polls.
    :param exponential_backoff: double the interval after each poll, up to ``max_poke_interval``.
    :param max_poke_interval: the longest interval with backoff.
    :param start_from_trigger: the task started in the triggerer
        (``AutomationAnywhereWorkItemSensor(start_from_trigger=True)``): ``queue_id`` and
        ``work_item_ids`` are as the triggerer rendered them, checked when the trigger runs,
        and the wait ends the task from the triggerer (see below).
    :param json_fields: of ``queue_id`` and ``work_item_ids``, those rendered as JSON text
        (an upstream task's XCom), decoded before they are checked.
    :param soft_fail: started in the triggerer: a wait that fails ends the task skipped.
    :param fail_in_triggerer: started in the triggerer: a wait that fails for good (an item
        failed or missing, bad input, a refused login, the timeout) ends the task failed.
        ``False`` (a task with retries) resumes the task on a worker instead, which fails it
        without retries, as a sensor started on a worker does.
    :param clients: the Control Room clients to use (default: the running loop's; not serialized).

    Events: ``{"status": "done", "items": {id: item}, "work_item_ids": [...], "queue_id"}``, the
    items in the wait's shape (``WorkItemCheck.result``; the caller judges them, exactly as a
    poke would), ``{"status": "timeout", "message": ...}``, or
    ``{"status": "error", "message": ...}``. Started in the triggerer, the wait ends the task
    itself: it pushes the sensor's XComs (``return_value``: the items; the queue for its
    link) and sends ``TaskSuccessEvent``, or ``TaskSkippedEvent`` (``soft_fail``) or
    ``TaskFailedEvent`` after logging why. The event above goes to the task's
    ``execute_complete`` on a worker instead for a failure for good with
    ``fail_in_triggerer=False``, and for a success on Airflow before 3.3 (whose triggerer
    cannot push XComs).
    """

    def __init__(
        self,
        *,
        automation_anywhere_conn_id: str,
        queue_id: Any,
        work_item_ids: Any,
        pending_statuses: list[str],
        failure_statuses: list[str],
        deadline: float | None = None,
        return_full_items: bool = False,
        poke_interval: float = 60.0,
        exponential_backoff: bool = False,
        max_poke_interval: float = 3600.0,
        timeout: float | None = None,
        start_from_trigger: bool = False,
        json_fields: Sequence[str] = (),
        soft_fail: bool = False,
        fail_in_triggerer: bool = True,
        clients: TriggerClients | None = None,
    ) -> None:
        super().__init__(
            automation_anywhere_conn_id=automation_anywhere_conn_id,
            deadline=deadline,
            poke_interval=poke_interval,
            exponential_backoff=exponential_backoff,
            max_poke_interval=max_poke_interval,
            timeout=timeout,
            clients=clients,
        )
        # Started in the triggerer, the two are templates until the triggerer renders them
        # (after this constructor): they are checked when the trigger runs.
        self.queue_id = queue_id
        self.work_item_ids = work_item_ids
        self.pending_statuses = list(pending_statuses)
        self.failure_statuses = list(failure_statuses)
        self.return_full_items = bool(return_full_items)
        self.start_from_trigger = bool(start_from_trigger)
        self.json_fields = list(json_fields)
        self.soft_fail = bool(soft_fail)
        self.fail_in_triggerer = bool(fail_in_triggerer)
        self._wait_on: WorkItemCheck | None = None if self.start_from_trigger else self._check()
        self._unknown_statuses = UnknownStatusWarnings(self.log, "Work item")
        self._control_room_url = ""

    def _check(self) -> WorkItemCheck:
        return WorkItemCheck(
            self.queue_id,
            tuple(self.work_item_ids),
            self.pending_statuses,
            self.failure_statuses,
            self.return_full_items,
        )

    def serialize(self) -> tuple[str, dict[str, Any]]:
        started = (
            {
                "start_from_trigger": True,
                "json_fields": self.json_fields,
                "soft_fail": self.soft_fail,
                "fail_in_triggerer": self.fail_in_triggerer,
            }
            if self.start_from_trigger
            else {}
        )
        return self._serialize(
            queue_id=self.queue_id,
            work_item_ids=self.work_item_ids,
            pending_statuses=self.pending_statuses,
            failure_statuses=self.failure_statuses,
            return_full_items=self.return_full_items,
            **started,
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        async for event in super().run():
            yield await self._end_task(event.payload) if self.start_from_trigger else event

    async def _wait(self) -> dict[str, Any]:
        if self._wait_on is None:
            self._take_rendered_input()
            self._wait_on = self._check()
        return await super()._wait()

    def _take_rendered_input(self) -> None:
        """The rendered queue and ids, checked as the sensor checks them on a worker, before any request."""
        from airflow_provider_aa.control_room.work_items import validate_ids

        for field in self.json_fields:
            text = getattr(self, field)
            try:
                setattr(self, field, json.loads(text))
            except (TypeError, ValueError):
                raise InvalidInputError(f"{field} rendered as {text!r}, which is not JSON.") from None
        self.queue_id = validate_id(self.queue_id, "queue_id")
        self.work_item_ids = validate_ids(self.work_item_ids, "work_item_ids")

    async def _end_task(self, event: dict[str, Any]) -> TriggerEvent:
        """The event that ends the task started in the triggerer (see the class docstring)."""
        from airflow.triggers.base import TaskFailedEvent, TaskSkippedEvent, TaskSuccessEvent

        from airflow_provider_aa.links import QUEUE_XCOM_KEY

        if event["status"] == "done" and event["outcome"] == "done":
            # The XComs go through the Execution API, as a worker's do (and through the
            # deployment's XCom backend): Airflow 3.3 stores those of a TaskSuccessEvent as
            # JSON text, which a downstream task would pull as a string, not the items.
            if not AIRFLOW_V_3_3_PLUS:  # whose triggerer cannot push XComs: a worker does
                return TriggerEvent(event)
            await self._push_xcom("return_value", event["items"])
            await self._push_xcom(
                QUEUE_XCOM_KEY, {"control_room_url": self._control_room_url, "queue_id": self.queue_id}
            )
            self.log.info(event["message"])
            return TaskSuccessEvent()
        # Failed or missing items, a timeout and fatal errors fail a worker's sensor without
        # retries; other errors (the Control Room unreachable) may be retried.
        for_good = event["status"] != "error" or bool(event.get("fatal"))
        if for_good and not self.soft_fail and not self.fail_in_triggerer:
            return TriggerEvent(event)
        message = event["message"]
        if event["status"] == "error":
            message = f"Waiting for work items failed in the triggerer: {message}"
        self.log.error(message)
        return TaskSkippedEvent() if self.soft_fail else TaskFailedEvent()

    async def _push_xcom(self, key: str, value: Any) -> None:
        from airflow.providers.common.compat.sdk import XCom

        ti = self.task_instance
        assert ti is not None
        await XCom.aset(key, value, dag_id=ti.dag_id, task_id=ti.task_id, run_id=ti.run_id, map_index=ti.map_index)

    async def _poll(self, client: AsyncControlRoomClient, now: float) -> dict[str, Any] | _Pending:
        assert self._wait_on is not None
        if self.start_from_trigger:  # for the "Work queue" link, which the trigger pushes
            self._control_room_url = client.base_url
        items = await client.lookup(self.queue_id, self.work_item_ids)
        verdict = self._wait_on.judge(items)
        self._unknown_statuses.warn(verdict.unknown)
        if verdict.over:
            return {
                "status": "done",
                "outcome": verdict.outcome,
                "message": verdict.message,
                "items": self._wait_on.result(items),
                "work_item_ids": self.work_item_ids,
                "queue_id": self.queue_id,  # a task that named its queue resumes without a look-up
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
    deadline passes. Judged by ``control_room.bots.BotRunCheck``, as a poke is.

    :param automation_anywhere_conn_id: connection of type ``automation_anywhere``.
    :param wait: the wait's policy and clocks, ``BotRunCheck.to_json()``.
    :param deadline: wall-clock time (epoch seconds) after which a timeout event is sent.
    :param poke_interval: seconds between polls.
    :param exponential_backoff: double the interval after each poll, up to ``max_poke_interval``.
    :param max_poke_interval: the longest interval with backoff.
    :param stop_on_kill: when a user ends the deferred task (marks it failed or success,
        clears it), stop the deployment's unfinished runs; a triggerer that shuts down or
        restarts leaves them running (see :mod:`~airflow_provider_aa.triggers.stop_on_kill`).
    :param clients: the Control Room clients to use (default: the running loop's; not serialized).

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
        stop_on_kill: bool = True,
        clients: TriggerClients | None = None,
    ) -> None:
        super().__init__(
            automation_anywhere_conn_id=automation_anywhere_conn_id,
            deadline=deadline,
            poke_interval=poke_interval,
            exponential_backoff=exponential_backoff,
            max_poke_interval=max_poke_interval,
            clients=clients,
        )
        self.wait = dict(wait)
        self.stop_on_kill = bool(stop_on_kill)
        self._state = BotRunCheck.from_json(self.wait)
        self._unknown_statuses = UnknownStatusWarnings(self.log, "Bot run")

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return self._serialize(wait=self.wait, stop_on_kill=self.stop_on_kill)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            async for event in super().run():
                yield event
        except asyncio.CancelledError:
            # Before Airflow 3.3 no on_kill() comes: a user's action and a triggerer's
            # shutdown both cancel the trigger, told apart by the task instance's state.
            if self.stop_on_kill and not TRIGGERER_CALLS_ON_KILL:
                try:
                    await asyncio.wait_for(self._stop_if_ended_by_user(), STOP_TIMEOUT)
                except asyncio.TimeoutError:
                    self.log.warning(
                        "Gave up stopping the runs of bot deployment %s after %g s; they may still be running.",
                        self._state.deployment_id,
                        STOP_TIMEOUT,
                    )
            raise

    async def on_kill(self) -> None:
        """Airflow 3.3+, after a user ended the deferred task: with ``stop_on_kill``, stop the runs."""
        if self.stop_on_kill:
            await self._stop_runs()

    async def _stop_if_ended_by_user(self) -> None:
        if await ended_by_user(self.task_instance, self.log):
            await self._stop_runs()

    async def _stop_runs(self) -> None:
        clients = self.clients or TriggerClients.of_running_loop()
        await astop_runs_on_kill(clients, self.automation_anywhere_conn_id, self._state.deployment_id, self.log)

    async def _poll(self, client: AsyncControlRoomClient, now: float) -> dict[str, Any] | _Pending:
        deployment_id = self._state.deployment_id
        runs = await client.read_bot_runs(deployment_id)
        verdict = self._state.judge(runs, now)
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


def until_next_tick(interval: float, now: float) -> float:
    """
    Seconds from ``now`` until the next multiple of ``interval`` on the wall clock.

    Triggers with the same interval thus poll at the same instants, whenever their previous
    answer arrived, and their lookups meet in one batch instead of trickling in.
    """
    wait = interval - now % interval
    return wait + interval if wait < LOOKUP_WINDOW else wait


#: A watermark is stored once the events before it are this many seconds old: the triggerer
#: hands its events to the metadata database in its sync round (about a second), and a
#: watermark stored before that would let a killed triggerer lose them.
STORE_DELAY = 5.0


class _ChangeWatcher(BaseEventTrigger):
    """
    Poll the Control Room for records that reached one of ``statuses`` since a watermark,
    and fire one event per poll that found some (see :mod:`~airflow_provider_aa.control_room.watching`).

    The watermark lives in the triggerer's asset state store where Airflow has one (3.3 and
    later, one watched asset), else in memory; see ``docs/asset-watchers.md`` for what each
    guarantees. Failures are logged and the poll is tried again at the next tick: a watcher
    never fires for an error.
    """

    _kind = ""

    def __init__(
        self,
        *,
        statuses: Sequence[str],
        poll_interval: float,
        automation_anywhere_conn_id: str,
        clients: TriggerClients | None = None,
    ) -> None:
        super().__init__()
        self.statuses = list(validate_statuses(statuses))
        if isinstance(poll_interval, bool) or not isinstance(poll_interval, (int, float)) or not poll_interval > 0:
            raise InvalidInputError(f"poll_interval must be a positive number of seconds, got {poll_interval!r}.")
        self.poll_interval = poll_interval
        if not isinstance(automation_anywhere_conn_id, str) or not automation_anywhere_conn_id:
            raise InvalidInputError(
                f"automation_anywhere_conn_id must be a connection id, got {automation_anywhere_conn_id!r}."
            )
        self.automation_anywhere_conn_id = automation_anywhere_conn_id
        self.clients = clients
        self._memory_only = False

    def _identity(self) -> dict[str, Any]:
        """The kwargs naming what is watched: the store key's only input."""
        raise NotImplementedError

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                **self._identity(),
                "statuses": self.statuses,
                "poll_interval": self.poll_interval,
                "automation_anywhere_conn_id": self.automation_anywhere_conn_id,
            },
        )

    @property
    def store_key(self) -> str:
        """The watermark's key in the asset state store: the watched queue or bot alone."""
        return f"automation_anywhere.{self._kind}_watermark:" + json.dumps(self._identity(), sort_keys=True)

    async def _resolve(self, client: AsyncControlRoomClient) -> WatchedRecords:
        raise NotImplementedError

    def _event(self, watched: WatchedRecords, changes: Changes) -> dict[str, Any]:
        raise NotImplementedError

    async def run(self) -> AsyncIterator[TriggerEvent]:
        clients = self.clients or TriggerClients.of_running_loop()
        client: AsyncControlRoomClient | None = None
        watched: WatchedRecords | None = None
        watermark: Watermark | None = None
        loaded = False
        unstored: list[tuple[float, Watermark]] = []  # watermarks of events not yet STORE_DELAY old
        try:
            while True:
                current = await clients.client(self.automation_anywhere_conn_id)
                if current is not client:
                    current.hold()
                    if client is not None:
                        client.release()
                    client = current
                now = clients.clock()
                due = [mark for fired, mark in unstored if now - fired >= STORE_DELAY]
                if due:
                    try:
                        await self._store(due[-1])
                    except Exception:  # not stored: a restart repeats more, nothing is lost
                        self.log.exception("Watching %s: the watermark could not be stored", self._kind)
                    else:
                        unstored = [(fired, mark) for fired, mark in unstored if now - fired < STORE_DELAY]
                changes: Changes | None = None
                try:
                    if not loaded:
                        watermark, loaded = await self._load(), True
                    if watched is None:
                        watched = await self._resolve(client)
                    if watermark is None:
                        watermark = await self._start(client, watched, clients.clock())
                        await self._store(watermark)
                    changes = await client.read_changes(watched, watermark)
                except LoginRefusedError as problem:
                    # A rotated password reaches the next round through a re-read connection.
                    await clients.client(self.automation_anywhere_conn_id, reread=True)
                    self.log.error("Watching %s: %s", self._kind, redact(str(problem)))
                except AutomationAnywhereError as problem:
                    self.log.error("Watching %s: %s (tried again next poll)", self._kind, redact(str(problem)))
                except Exception:  # the asset state store failing, or a bug: a watcher must not end
                    self.log.exception("Watching %s failed (tried again next poll)", self._kind)
                if changes is not None and watched is not None:
                    watermark = changes.watermark
                    if changes.records:
                        yield TriggerEvent(self._event(watched, changes))
                        unstored.append((clients.clock(), watermark))
                    if changes.more:
                        continue  # the rest at once, in the next event
                await clients.sleep(until_next_tick(self.poll_interval, clients.clock()))
        finally:
            if client is not None:
                client.release()

    async def _start(self, client: AsyncControlRoomClient, watched: WatchedRecords, now: float) -> Watermark:
        """A first start: changes from now on (the Control Room's now, learned from the ``Date`` of its answers)."""
        shown = await client.control_room_time(now, watched.request(Watermark.at(now).since, length=1))
        return Watermark.at(now if shown is None else shown)

    async def _load(self) -> Watermark | None:
        store = getattr(self, "asset_state_store", None)
        if store is not None:
            try:
                if hasattr(store, "aget"):
                    stored = await store.aget(self.store_key, None)
                else:  # Airflow 3.3.0 and 3.3.1: the blocking accessors alone
                    stored = await asyncio.to_thread(store.get, self.store_key, None)
            except ValueError:  # several watched assets: Airflow keeps state per asset
                self._in_memory("the trigger watches several assets, and Airflow keeps their state apart")
                return None
            watermark = Watermark.from_json(stored)
            if stored is not None and watermark is None:
                self.log.warning("The stored watermark %r is not one; watching from now.", stored)
            return watermark
        self._in_memory(
            "the triggerer gave the trigger no asset state store (Airflow 3.3 gives one to a watcher of one asset)"
        )
        return None

    async def _store(self, watermark: Watermark) -> None:
        store = getattr(self, "asset_state_store", None)
        if store is None or self._memory_only:
            return
        if hasattr(store, "aset"):
            await store.aset(self.store_key, watermark.to_json())
        else:
            await asyncio.to_thread(store.set, self.store_key, watermark.to_json())

    def _in_memory(self, reason: str) -> None:
        self._memory_only = True
        self.log.warning(
            "Watching %s: the watermark is kept in memory, because %s: a triggerer restart may report "
            "again, or miss, the changes around the restart.",
            self._kind,
            reason,
        )


class AutomationAnywhereWorkItemEventTrigger(_ChangeWatcher):
    """
    Fire when work items of a queue reach one of ``statuses``: for asset watchers
    (``AssetWatcher(name=..., trigger=AutomationAnywhereWorkItemEventTrigger(...))``).

    Each event carries the items that reached one of the statuses since the last event, at
    most 100 (the next event, at once, carries the rest), oldest change first::

        {"queue_id": "20", "work_items": [{"id", "status", "result", "updatedOn"}, ...],
         "cursor": {"since": <updatedOn of the last item>, "seen": [ids changed at that instant]}}

    The first start reports changes from then on. What each Airflow version guarantees across
    a triggerer restart (ids let a consumer drop repeats): ``docs/asset-watchers.md``.

    :param queue_id: the queue's id; or
    :param queue_name: its name, looked up when the watcher starts.
    :param statuses: the statuses to report.
    :param poll_interval: seconds between polls (polls fall on multiples of it on the wall clock).
    :param automation_anywhere_conn_id: connection of type ``automation_anywhere``.
    :param clients: the Control Room clients to use (default: the running loop's; not serialized).
    :raises InvalidInputError: for bad parameters, when the trigger is made (the DAG is parsed).
    """

    _kind = "work_items"

    def __init__(
        self,
        *,
        queue_id: str | int | None = None,
        queue_name: str | None = None,
        statuses: Sequence[str] = ("COMPLETED", "FAILED"),
        poll_interval: float = 60,
        automation_anywhere_conn_id: str = "automation_anywhere_default",
        clients: TriggerClients | None = None,
    ) -> None:
        check_id_or_name("queue_id", queue_id, "queue_name", queue_name)
        self.queue_id = None if queue_id is None else validate_id(queue_id, "queue_id")
        self.queue_name = None if queue_name is None else validate_name(queue_name, "queue_name")
        super().__init__(
            statuses=statuses,
            poll_interval=poll_interval,
            automation_anywhere_conn_id=automation_anywhere_conn_id,
            clients=clients,
        )

    def _identity(self) -> dict[str, Any]:
        return {"queue_id": self.queue_id} if self.queue_id is not None else {"queue_name": self.queue_name}

    async def _resolve(self, client: AsyncControlRoomClient) -> WatchedRecords:
        queue_id = self.queue_id
        if queue_id is None:
            assert self.queue_name is not None
            queue_id = await client.queue_id_of(self.queue_name)
        return WatchedRecords.work_items(queue_id, self.statuses)

    def _event(self, watched: WatchedRecords, changes: Changes) -> dict[str, Any]:
        return {
            "queue_id": watched.queue_id,
            "work_items": [
                {
                    "id": str(item["id"]),
                    "status": item.get("status"),
                    "result": item.get("result"),
                    "updatedOn": item.get("updatedOn"),
                }
                for item in changes.records
            ],
            "cursor": changes.watermark.to_json(),
        }


class AutomationAnywhereBotRunEventTrigger(_ChangeWatcher):
    """
    Fire when runs of a bot reach one of ``statuses``: for asset watchers, as
    :class:`AutomationAnywhereWorkItemEventTrigger` for work items. Each event::

        {"bot_id": "7", "runs": [{"deployment_id", "status", "execution_id", "message", "modifiedOn"}, ...],
         "cursor": {"since": <modifiedOn of the last run>, "seen": [...]}}

    Runs are listed on ``POST /v3/activity/list`` filtered on ``fileId`` and ``modifiedOn``,
    which AA does not document (``docs/control-room-api.md``): a Control Room that refuses
    them is logged at every poll.

    :param bot_id: the bot's file id; or
    :param bot_path: its path in the public workspace, looked up when the watcher starts.
    :param statuses: the run statuses to report.
    :param poll_interval: seconds between polls.
    :param automation_anywhere_conn_id: connection of type ``automation_anywhere``.
    :param clients: the Control Room clients to use (default: the running loop's; not serialized).
    :raises InvalidInputError: for bad parameters, when the trigger is made (the DAG is parsed).
    """

    _kind = "bot_runs"

    def __init__(
        self,
        *,
        bot_id: str | int | None = None,
        bot_path: str | None = None,
        statuses: Sequence[str] = ("COMPLETED", "RUN_FAILED", "RUN_ABORTED", "RUN_TIMED_OUT", "DEPLOY_FAILED"),
        poll_interval: float = 60,
        automation_anywhere_conn_id: str = "automation_anywhere_default",
        clients: TriggerClients | None = None,
    ) -> None:
        check_id_or_name("bot_id", bot_id, "bot_path", bot_path)
        self.bot_id = None if bot_id is None else validate_id(bot_id, "bot_id")
        if bot_path is not None:
            path_folders(bot_path)
        self.bot_path = bot_path
        super().__init__(
            statuses=statuses,
            poll_interval=poll_interval,
            automation_anywhere_conn_id=automation_anywhere_conn_id,
            clients=clients,
        )

    def _identity(self) -> dict[str, Any]:
        return {"bot_id": self.bot_id} if self.bot_id is not None else {"bot_path": self.bot_path}

    async def _resolve(self, client: AsyncControlRoomClient) -> WatchedRecords:
        bot_id = self.bot_id
        if bot_id is None:
            assert self.bot_path is not None
            bot_id = await client.bot_id_of(self.bot_path)
        return WatchedRecords.bot_runs(bot_id, self.statuses)

    def _event(self, watched: WatchedRecords, changes: Changes) -> dict[str, Any]:
        return {
            "bot_id": watched.bot_id,
            "runs": [
                {
                    "deployment_id": run.get("deploymentId"),
                    "status": run.get("status"),
                    "execution_id": str(run["id"]),
                    "message": run.get("message"),
                    "modifiedOn": run.get("modifiedOn"),
                }
                for run in changes.records
            ],
            "cursor": changes.watermark.to_json(),
        }
