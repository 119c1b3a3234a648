"""
Bots, their deployments and runs (activity records), and the typed bot variables.

Lazy and deterministic like the work queue bot (:mod:`.bot_runner`): a run's timeline is
fixed when it is deployed, and its status is read off the clock at each request:

- ``DEPLOYED`` from the deployment, ``RUNNING`` after ``pickup_delay`` seconds, and the
  outcome (:func:`run_outcome`) ``work_delay`` seconds later;
- the activity record exists from the start but is listed only ``activity_delay`` seconds
  after the deployment, as a Control Room writes it a few seconds late; its
  ``automationName`` is the deploy's (v4 ``automationName``), else the bot's name;
- a run stopped through ``/v3/activity/manage`` ends ``RUN_ABORTED`` at that moment;
- a completed run's output variables (``botOutVariables.values``) are the bot's seeded
  ``outputs`` plus every input variable echoed back unchanged (a variable can be both input
  and output in Automation Anywhere).

API tasks (seeded ``"apiTask": true``) deploy only through v4 with ``executionType``
``RUN_NOW`` and ``headlessRequest`` (:func:`headless_request`, checked strictly); a task bot
takes ``unattendedRequest`` (or v3) only. Each of ``numberOfExecutions`` runs is an activity
record without a device, its ``userId`` the ``sharedRunAsUserId`` (none without it). The
tenant runs ``api_task_slots`` API task runs at once (:class:`ApiTaskSlots`): a deploy
whose runs find no free slot is refused with 409 ``API_TASK_SLOTS_EXHAUSTED``, or, with
``queueOnSlotsExhaustion: true``, its runs show ``QUEUED`` until a slot frees (first come,
first served), then run as above. What a real Control Room answers when slots are exhausted
is unconfirmed (see docs/control-room-api.md).
"""

from __future__ import annotations

import copy
import heapq
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from automation_anywhere_emulator.clock import ControlRoomClock
from automation_anywhere_emulator.models import as_long, instant
from automation_anywhere_emulator.responses import bad_request

STATUS_PREFIX = "STATUS:"
#: The one ``executionType`` of a headless (API task) deploy that the emulator knows.
RUN_NOW = "RUN_NOW"
#: The most ``numberOfExecutions`` one headless deploy may ask for (the emulator's bound).
MAX_EXECUTIONS = 1000
_HEADLESS_FIELDS = frozenset({"numberOfExecutions", "queueOnSlotsExhaustion", "sharedRunAsUserId"})
#: v4's ``unattendedRequest.deviceUsageType`` values; the last runs on the pools' devices.
DEVICE_USAGE_TYPES = ("PREFER_DEFAULT_DEVICE", "RUN_ONLY_ON_DEFAULT_DEVICE", "RUN_ON_POOL_DEVICES")
POOL_DEVICE_USAGE = "RUN_ON_POOL_DEVICES"
FAILURE_STATUSES = frozenset({"DEPLOY_FAILED", "RUN_FAILED", "RUN_ABORTED", "RUN_TIMED_OUT"})
#: The message of a run stopped through ``/v3/activity/manage`` (the emulator's wording).
STOPPED_MESSAGE = "Stopped by a user of the Control Room"
#: Typed variables: the value key of each type.
VALUE_KEYS = {
    "STRING": "string",
    "NUMBER": "number",
    "BOOLEAN": "boolean",
    "LIST": "list",
    "DICTIONARY": "dictionary",
    "DATETIME": "string",
}


@dataclass(frozen=True)
class Bot:
    """
    A bot in the public repository; ``outcome``/``message``: how its runs end by default;
    ``api_task``: an API task (a headless bot), not a task bot.
    """

    id: int
    name: str
    path: str
    outcome: str
    message: str
    outputs: dict[str, Any]
    api_task: bool = False

    @classmethod
    def from_seed(cls, entry: Mapping[str, Any]) -> Bot:
        name = str(entry["name"])
        return cls(
            id=int(entry["id"]),
            name=name,
            path=str(entry.get("path", f"Automation Anywhere/Bots/{name}")),
            outcome=str(entry.get("outcome", "COMPLETED")),
            message=str(entry.get("message", "")),
            outputs=dict(entry.get("outputs") or {}),
            api_task=entry.get("apiTask") is True,
        )


@dataclass(frozen=True)
class RunOutcome:
    status: str
    message: str = ""


def run_outcome(bot: Bot, bot_input: Mapping[str, Any]) -> RunOutcome:
    """
    How a run ends, first rule that applies, from the top-level STRING inputs:

    1. a value ``STATUS:<X>`` → status ``X`` (e.g. ``RUN_FAILED``, ``RUN_PAUSED``,
       ``UNKNOWN``, ``PENDING_EXECUTION`` — a run left pending after the bot finished, as
       Control Rooms have been seen to do —, or one nobody knows), with a message for failures;
    2. a value containing ``FAIL`` → ``RUN_FAILED``, message "Emulated bot failure: <name>
       contains FAIL";
    3. otherwise the bot's seeded ``outcome`` and ``message`` (default ``COMPLETED``).
    """
    strings = {name: value.get("string") for name, value in bot_input.items() if value.get("type") == "STRING"}
    for name, text in strings.items():
        if isinstance(text, str) and text.startswith(STATUS_PREFIX) and text[len(STATUS_PREFIX) :].strip():
            status = text[len(STATUS_PREFIX) :].strip()
            message = f"Emulated bot set status {status}: {name} is {text}" if status in FAILURE_STATUSES else ""
            return RunOutcome(status, message)
    for name, text in strings.items():
        if isinstance(text, str) and "FAIL" in text:
            return RunOutcome("RUN_FAILED", f"Emulated bot failure: {name} contains FAIL")
    return RunOutcome(bot.outcome, bot.message)


@dataclass
class BotRun:
    """
    One run of a deployment for one run-as user. Times are epoch seconds: ``created_on`` on
    the Control Room's clock (as shown), the timeline ``*_at`` on the emulator's base clock
    (see :mod:`.clock`).
    """

    id: str
    deployment_id: str
    automation_name: str
    bot: Bot
    run_as_user_id: int | None
    deployed_by: int
    bot_input: dict[str, Any]
    created_on: float
    deployed_at: float
    visible_at: float
    running_at: float
    finished_at: float
    outcome: RunOutcome
    device_id: int | None  # None: an API task's run, in the cloud
    queued_until: float = -math.inf  # an API task's run waits QUEUED for a slot until then

    def status(self, now: float) -> str:
        if now >= self.finished_at:  # first: a run stopped before a device picked it up ends too
            return self.outcome.status
        if now < self.queued_until:
            return "QUEUED"
        if now < self.running_at:
            return "DEPLOYED"
        return "RUNNING"

    def stop(self, now: float) -> bool:
        """
        Stop the run at base time ``now``: it ends ``RUN_ABORTED`` then (the status a stopped
        run shows is unconfirmed); ``False`` when it had already finished.
        """
        if now >= self.finished_at:
            return False
        if now < self.running_at:
            self.running_at = self.queued_until = math.inf  # no device picked it up: it never starts
        self.finished_at = now
        self.outcome = RunOutcome("RUN_ABORTED", STOPPED_MESSAGE)
        return True

    def record(self, now: float, numeric_ids: bool, clock: ControlRoomClock) -> dict[str, Any]:
        """The activity record as ``/v3/activity/list`` shows it at base time ``now`` (no output variables)."""
        status = self.status(now)
        finished = now >= self.finished_at

        def shown(moment: float) -> str:
            return instant(clock.shown(moment))

        running = now >= self.running_at

        return {
            "id": self.id,
            "deploymentId": self.deployment_id,
            "automationName": self.automation_name,
            "fileId": _number(self.bot.id, numeric_ids),
            "fileName": self.bot.name,
            "filePath": self.bot.path,
            "type": "RUN",
            "status": status,
            "message": self.outcome.message if finished else "",
            "userId": _number(self.run_as_user_id, numeric_ids) if self.run_as_user_id is not None else "",
            "deviceId": _number(self.device_id, numeric_ids) if self.device_id is not None else "",
            "progress": 100 if finished else 0,
            "createdBy": _number(self.deployed_by, numeric_ids),
            "createdOn": instant(self.created_on),
            "startDateTime": shown(self.running_at) if running else "",
            "endDateTime": shown(self.finished_at) if finished else "",
            "modifiedOn": shown(self.finished_at) if finished else instant(clock.now() if running else self.created_on),
        }

    def execution(self, now: float, numeric_ids: bool, clock: ControlRoomClock) -> dict[str, Any]:
        """``/v3/activity/execution/{id}``: the record plus output variables once completed."""
        values = {}
        if self.status(now) == "COMPLETED":
            values = {**copy.deepcopy(self.bot.outputs), **copy.deepcopy(self.bot_input)}
        return {**self.record(now, numeric_ids, clock), "botOutVariables": {"values": values}}


def _number(value: int, numeric_ids: bool) -> int | str:
    return value if numeric_ids else str(value)


@dataclass(frozen=True)
class HeadlessRequest:
    """A checked ``headlessRequest``."""

    executions: int
    queue: bool
    shared_run_as_user_id: int | None


def headless_request(body: Mapping[str, Any], bot: Bot) -> HeadlessRequest:
    """
    The API task part of a v4 deploy, checked strictly (400 naming the field): the bot is an
    API task, ``executionType`` is ``RUN_NOW``, ``headlessRequest`` holds only
    ``numberOfExecutions`` (a whole number from 1), ``queueOnSlotsExhaustion`` (true or
    false, default false) and ``sharedRunAsUserId`` (an id, optional), and no
    ``unattendedRequest`` comes with it.
    """
    if not bot.api_task:
        raise bad_request(f"File {bot.id} is a task bot: deploy it with unattendedRequest, not headlessRequest")
    if "unattendedRequest" in body:
        raise bad_request("Give unattendedRequest (a task bot) or headlessRequest (an API task), not both")
    if body.get("executionType") != RUN_NOW:
        raise bad_request(f"executionType must be {RUN_NOW} for an API task, not {body.get('executionType')!r}")
    request = body["headlessRequest"]
    if not isinstance(request, dict):
        raise bad_request("headlessRequest must be an object with numberOfExecutions")
    unknown = sorted(set(request) - _HEADLESS_FIELDS)
    if unknown:
        raise bad_request(f"headlessRequest has unknown field(s): {', '.join(unknown)}")
    executions = request.get("numberOfExecutions")
    if isinstance(executions, bool) or not isinstance(executions, int) or not 1 <= executions <= MAX_EXECUTIONS:
        raise bad_request(f"headlessRequest.numberOfExecutions must be a whole number from 1 to {MAX_EXECUTIONS}")
    queue = request.get("queueOnSlotsExhaustion", False)
    if not isinstance(queue, bool):
        raise bad_request("headlessRequest.queueOnSlotsExhaustion must be true or false")
    shared = request.get("sharedRunAsUserId")
    shared_id = None if shared is None else whole_number(shared, "headlessRequest.sharedRunAsUserId")
    return HeadlessRequest(executions, queue, shared_id)


class ApiTaskSlots:
    """
    When each of the tenant's ``slots`` API task slots is next free, from the runs not
    finished at base time ``now``: each slot's last run is among the latest finishing ones,
    as runs take the earliest free slot and all take as long.
    """

    def __init__(self, slots: int, now: float, unfinished: list[float]) -> None:
        busy = sorted(unfinished)[-slots:] if slots else []
        self._free_at = [now] * (slots - len(busy)) + busy
        heapq.heapify(self._free_at)
        self._now = now

    def take(self, duration: float) -> float | None:
        """The base time a new run starts (``now`` when a slot is free); ``None`` without slots."""
        if not self._free_at:
            return None
        start = max(heapq.heappop(self._free_at), self._now)
        heapq.heappush(self._free_at, start + duration)
        return start


def whole_number(value: Any, field: str) -> int:
    """A positive id given as a JSON number or a string of digits; 400 otherwise."""
    number = as_long(value, field)
    if number is None or number <= 0:
        raise bad_request(f"{field} must be a positive id, not {value!r}")
    return number


def id_list(value: Any, field: str, *, required: bool) -> list[int]:
    if value is None and not required:
        return []
    if not isinstance(value, list) or (required and not value):
        raise bad_request(f"{field} must be a {'non-empty ' if required else ''}list of ids")
    return [whole_number(item, f"{field}[{index}]") for index, item in enumerate(value)]


def uses_pools(target: Mapping[str, Any], version: int, where: str) -> bool:
    """
    Whether a deploy asks to run on its ``poolIds``: v4's ``deviceUsageType`` is
    ``RUN_ON_POOL_DEVICES``, v3's ``overrideDefaultDevice`` is true. Otherwise the runs take
    the run-as users' default devices and the pools are ignored, as on a real Control Room.
    """
    if version == 4:
        usage = target.get("deviceUsageType")
        if usage is not None and usage not in DEVICE_USAGE_TYPES:
            raise bad_request(f"{where}deviceUsageType must be one of {', '.join(DEVICE_USAGE_TYPES)}")
        return usage == POOL_DEVICE_USAGE
    flag = target.get("overrideDefaultDevice", False)
    if not isinstance(flag, bool):
        raise bad_request("overrideDefaultDevice must be true or false")
    return flag


def users_to_use(target: Mapping[str, Any], users: list[int], where: str) -> list[int]:
    """The first ``numOfRunAsUsersToUse`` run-as users (all without it)."""
    if target.get("numOfRunAsUsersToUse") is None:
        return users
    return users[: whole_number(target["numOfRunAsUsersToUse"], f"{where}numOfRunAsUsersToUse")]


def check_bot_input(value: Any) -> dict[str, Any]:
    """``botInput`` must be typed variables; 400 naming the first variable that is not."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request("botInput must be an object of typed variables")
    for name, variable in value.items():
        _check_typed(variable, f"botInput.{name}")
    return copy.deepcopy(value)


def _check_typed(variable: Any, where: str) -> None:
    kind = variable.get("type") if isinstance(variable, dict) else None
    if kind not in VALUE_KEYS:
        raise bad_request(f"{where} must be a typed variable with a type of {', '.join(VALUE_KEYS)}")
    key = VALUE_KEYS[kind]
    if key not in variable:
        raise bad_request(f"{where} of type {kind} needs the key {key!r}")
    content = variable[key]
    if kind == "NUMBER" and not _is_number(content):
        raise bad_request(f"{where}: {content!r} is not a number")
    if kind == "BOOLEAN" and content not in (True, False, "true", "false"):
        raise bad_request(f"{where}: {content!r} is not true or false")
    if kind == "STRING" and not isinstance(content, str):
        raise bad_request(f"{where}: a STRING needs text")
    if kind == "DATETIME" and not _is_instant(content):
        raise bad_request(f"{where}: {content!r} is not an ISO 8601 date and time")
    if kind == "LIST":
        if not isinstance(content, list):
            raise bad_request(f"{where}: a LIST needs a list")
        for index, item in enumerate(content):
            _check_typed(item, f"{where}[{index}]")
    if kind == "DICTIONARY":
        if not isinstance(content, list):
            raise bad_request(f"{where}: a DICTIONARY needs a list of {{key, value}} entries")
        for index, entry in enumerate(content):
            if not isinstance(entry, dict) or not isinstance(entry.get("key"), str) or "value" not in entry:
                raise bad_request(f"{where}[{index}] must be {{key, value}}")
            _check_typed(entry["value"], f"{where}.{entry['key']}")


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _is_instant(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    # AA's documented form carries the zone id in brackets: "2022-04-07T00:15:00-06:00[America/Denver]".
    text, bracket, zone = value.partition("[")
    if bracket and not (zone.endswith("]") and len(zone) > 1):
        return False
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True
