"""
Deferrable waiting: triggers that poll work item statuses and bot runs in the triggerer.

Every trigger of a connection shares one Control Room session through
:class:`~airflow_provider_aa.triggers.clients.TriggerClients` (one token, batched status
look-ups). Polls fall on multiples of the poke interval on the wall clock, so that triggers
with the same interval poll together and their look-ups meet in one request of 100 ids.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, NamedTuple

from airflow.sdk.log import redact
from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_aa.control_room.bots import BotRunWait, read_bot_runs
from airflow_provider_aa.control_room.errors import AutomationAnywhereError, FatalError, LoginRefusedError
from airflow_provider_aa.control_room.statuses import UnknownStatusWarnings, WorkItemWait
from airflow_provider_aa.triggers.clients import LOOKUP_WINDOW, AsyncControlRoomClient, TriggerClients
from airflow_provider_aa.triggers.stop_on_kill import (
    STOP_TIMEOUT,
    TRIGGERER_CALLS_ON_KILL,
    ended_by_user,
    stop_deployment_runs,
)

__all__ = ["AutomationAnywhereBotRunTrigger", "AutomationAnywhereWorkItemTrigger"]

#: A reading that began before the deadline may run this many seconds past it.
READING_GRACE = 2.0


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
    """

    def __init__(
        self,
        *,
        automation_anywhere_conn_id: str,
        deadline: float,
        poke_interval: float,
        exponential_backoff: bool,
        max_poke_interval: float,
        clients: TriggerClients | None = None,
    ) -> None:
        super().__init__()
        self.clients = clients
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
        if "message" in event:
            # Masked here, where the triggerer's secrets are known: the worker that resumes
            # the task (and the metadata database the event is stored in) has never seen
            # the tokens this process was issued, so it could not mask one echoed back.
            event["message"] = redact(event["message"])
        yield TriggerEvent(event)

    async def _wait(self) -> dict[str, Any]:
        clients = self.clients or TriggerClients.of_running_loop()
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
                    budget = max(self.deadline - clients.clock(), 0.0) + READING_GRACE
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
                remaining = self.deadline - now
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
    :param deadline: wall-clock time (epoch seconds) after which a timeout event is sent.
    :param poke_interval: seconds between polls.
    :param exponential_backoff: double the interval after each poll, up to ``max_poke_interval``.
    :param max_poke_interval: the longest interval with backoff.
    :param clients: the Control Room clients to use (default: the running loop's; not serialized).

    Events: ``{"status": "done", "items": {id: item}, "work_item_ids": [...], "queue_id"}``, the
    items in the wait's shape (``WorkItemWait.result``; the caller judges them, exactly as a
    poke would), ``{"status": "timeout", "message": ...}``, or
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
        return_full_items: bool = False,
        poke_interval: float = 60.0,
        exponential_backoff: bool = False,
        max_poke_interval: float = 3600.0,
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
        self.queue_id = queue_id
        self.work_item_ids = list(work_item_ids)
        self.pending_statuses = list(pending_statuses)
        self.failure_statuses = list(failure_statuses)
        self.return_full_items = bool(return_full_items)
        self._wait_on = WorkItemWait(
            self.queue_id,
            tuple(self.work_item_ids),
            self.pending_statuses,
            self.failure_statuses,
            self.return_full_items,
        )
        self._unknown_statuses = UnknownStatusWarnings(self.log, "Work item")

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return self._serialize(
            queue_id=self.queue_id,
            work_item_ids=self.work_item_ids,
            pending_statuses=self.pending_statuses,
            failure_statuses=self.failure_statuses,
            return_full_items=self.return_full_items,
        )

    async def _poll(self, client: AsyncControlRoomClient, now: float) -> dict[str, Any] | _Pending:
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
    deadline passes. Judged by ``control_room.bots.BotRunWait``, as a poke is.

    :param automation_anywhere_conn_id: connection of type ``automation_anywhere``.
    :param wait: the wait's policy and clocks, ``BotRunWait.to_json()``.
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
        self._state = BotRunWait.from_json(self.wait)
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
        await stop_deployment_runs(clients, self.automation_anywhere_conn_id, self._state.deployment_id, self.log)

    async def _poll(self, client: AsyncControlRoomClient, now: float) -> dict[str, Any] | _Pending:
        deployment_id = self._state.deployment_id
        runs = await client.run_operation(read_bot_runs(client.session, deployment_id))
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
