"""
Bots: deploy one, follow its runs, read their outputs; typed bot variables; the wait policy.

A deployment (``POST /v4/automations/deploy``, ``/v3`` on Control Rooms without v4) starts
one run per run-as user (an API task: one per execution, see :class:`HeadlessRequest`); each
run is an activity record (``POST /v3/activity/list``
filtered by ``deploymentId``) that may appear a few seconds after the deployment. Output
variables come from ``GET /v3/activity/execution/{id}`` (``botOutVariables.values``).

Bot variables travel typed: ``{"type": "STRING", "string": "x"}``, ``NUMBER``/``number``,
``BOOLEAN``/``boolean``, ``LIST``/``list``, ``DICTIONARY``/``dictionary``,
``DATETIME``/``string``. Numbers and booleans are sent as text (``"12.5"``, ``"true"``), as
Automation Anywhere's examples do; answers are read whether they carry text or JSON values.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from airflow_provider_aa.control_room.errors import (
    ApiTasksUnavailableError,
    AutomationAnywhereError,
    DeploymentUnknownError,
    DeployRefusedError,
    InvalidInputError,
)
from airflow_provider_aa.control_room.exchange import ApiRequest, Operation
from airflow_provider_aa.control_room.listing import PageCursor, read_page
from airflow_provider_aa.control_room.work_items import PAGE_LENGTH, path_text_id, validate_id, validate_ids

if TYPE_CHECKING:
    from airflow_provider_aa.control_room.session import ControlRoomSession

#: Newest first: v4 (Automation 360 v.30+); v3 where v4 answers 404.
DEPLOY_VERSIONS = ("v4", "v3")
#: v4's ``unattendedRequest.deviceUsageType`` that runs on the pools' devices; the others are
#: ``PREFER_DEFAULT_DEVICE`` and ``RUN_ONLY_ON_DEFAULT_DEVICE`` (the three values of the deploy
#: API, as github.com/Luan7805/n8n-nodes-automation-anywhere offers them). On v3 the flag is
#: ``overrideDefaultDevice: true``, as PixieBrix sends it whenever ``poolIds`` is not empty
#: (pixiebrix/pixiebrix-extension, src/contrib/automationanywhere/aaApi.ts).
POOL_DEVICE_USAGE = "RUN_ON_POOL_DEVICES"

#: Deployed or running: keep waiting.
BOT_RUN_WAITING_STATUSES = ("DEPLOYED", "QUEUED", "PENDING_EXECUTION", "RUNNING", "UPDATE")
#: The run finished successfully.
BOT_RUN_SUCCESS_STATUSES = ("COMPLETED",)
#: The run failed: the task fails with the run's message.
BOT_RUN_FAILURE_STATUSES = ("DEPLOY_FAILED", "RUN_FAILED", "RUN_ABORTED", "RUN_TIMED_OUT")
#: Paused by a person or the bot: waited on for at most ``paused_timeout``.
BOT_RUN_PAUSED_STATUS = "RUN_PAUSED"
#: The Control Room lost the device: waited on for at most ``unknown_timeout``.
BOT_RUN_UNKNOWN_STATUS = "UNKNOWN"
#: Waiting for a device (one of the waiting statuses): waited on for at most ``pending_timeout``.
BOT_RUN_PENDING_STATUS = "PENDING_EXECUTION"

KNOWN_BOT_RUN_STATUSES = frozenset(
    BOT_RUN_WAITING_STATUSES
    + BOT_RUN_SUCCESS_STATUSES
    + BOT_RUN_FAILURE_STATUSES
    + (BOT_RUN_PAUSED_STATUS, BOT_RUN_UNKNOWN_STATUS)
)

_DEPLOYMENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}")
_BOT_INPUT_TYPES = "str, int, float, bool, datetime, list or dict"


# -- bot variables --------------------------------------------------------------------------


def to_bot_input(values: Any, field: str = "bot_input") -> dict[str, dict[str, Any]]:
    """
    Plain Python values → the Control Room's typed ``botInput``.

    ``str`` → STRING, ``int``/``float`` → NUMBER, ``bool`` → BOOLEAN, ``datetime`` →
    DATETIME (ISO 8601), ``list``/``tuple`` → LIST, ``dict`` → DICTIONARY; nested freely.
    ``None`` gives no input.

    :raises InvalidInputError: naming the variable (and the position inside it) whose value
        cannot be sent: ``None``, NaN, other types, names that are not non-empty strings.
    """
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise InvalidInputError(f"{field} must be a dict of bot variable names to values, got {type(values).__name__}.")
    typed = {}
    for name, value in values.items():
        if not isinstance(name, str) or not name.strip():
            raise InvalidInputError(f"{field} has a variable name that is not a non-empty string: {name!r}.")
        typed[name] = _typed(value, f"{field}[{name!r}]")
    return typed


def _typed(value: Any, where: str) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"type": "BOOLEAN", "boolean": "true" if value else "false"}
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise InvalidInputError(f"{where} is {value!r}: a bot NUMBER must be finite.")
        return {"type": "NUMBER", "number": str(value)}
    if isinstance(value, str):
        return {"type": "STRING", "string": value}
    if isinstance(value, datetime):
        return {"type": "DATETIME", "string": bot_datetime(value, where)}
    if isinstance(value, Mapping):
        entries = []
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInputError(f"{where} has a key that is not a string: {key!r}.")
            entries.append({"key": key, "value": _typed(item, f"{where}[{key!r}]")})
        return {"type": "DICTIONARY", "dictionary": entries}
    if isinstance(value, (list, tuple)):
        return {"type": "LIST", "list": [_typed(item, f"{where}[{index}]") for index, item in enumerate(value)]}
    raise InvalidInputError(f"{where} is a {type(value).__name__}: bot input values must be {_BOT_INPUT_TYPES}.")


def bot_datetime(value: datetime, where: str = "value") -> str:
    """
    A ``datetime`` as a bot DATETIME in the form Automation Anywhere documents: ISO 8601
    with the offset and, for a named zone (``ZoneInfo``, pendulum's), the zone id in
    brackets: ``2022-04-07T00:15:00-06:00[America/Denver]``. A fixed offset
    (``timezone.utc``, ``timezone(timedelta(hours=1))``) has no zone id and goes as plain
    ISO 8601 with its offset, which the bracketed format also reads (the brackets are
    optional in Java's ``ISO_ZONED_DATE_TIME``).

    :raises InvalidInputError: for a naive ``datetime``: which instant it means is unknown.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInputError(
            f"{where} is a datetime without a time zone: a bot DATETIME is an instant, so give it a tzinfo "
            "(e.g. datetime(..., tzinfo=ZoneInfo('Europe/Berlin')) or a pendulum datetime)."
        )
    zone = value.tzinfo.key if isinstance(value.tzinfo, ZoneInfo) else None
    return value.isoformat() + (f"[{zone}]" if zone else "")


def from_bot_values(values: Any) -> dict[str, Any]:
    """
    The Control Room's typed variables (``botOutVariables.values``) → plain Python values.

    STRING → ``str``; NUMBER → ``int`` when whole, else ``float`` (empty → ``None``);
    BOOLEAN → ``bool``; LIST → ``list``; DICTIONARY → ``dict``; DATETIME → ``datetime``
    (the text when it is not ISO 8601); TABLE → a list of ``{column: value}`` rows. A type
    this provider does not know is kept as it came.
    """
    if not isinstance(values, Mapping):
        return {}
    return {str(name): _plain(value) for name, value in values.items()}


def _plain(value: Any) -> Any:
    if not isinstance(value, Mapping):
        return value
    kind = str(value.get("type") or "").upper()
    if kind == "STRING":
        return str(value.get("string") or "")
    if kind == "NUMBER":
        return _number(value.get("number"))
    if kind == "BOOLEAN":
        flag = value.get("boolean")
        return flag if isinstance(flag, bool) else str(flag).strip().lower() == "true"
    if kind == "LIST":
        return [_plain(item) for item in value.get("list") or []]
    if kind == "DICTIONARY":
        entries = value.get("dictionary") or []
        if isinstance(entries, Mapping):
            return {str(key): _plain(item) for key, item in entries.items()}
        return {str(entry.get("key")): _plain(entry.get("value")) for entry in entries if isinstance(entry, Mapping)}
    if kind == "DATETIME":
        return _instant(value.get("string") or value.get("datetime"))
    if kind == "TABLE":
        return _table(value.get("table"))
    return dict(value)


def _number(value: Any) -> int | float | str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip()
    if not text:
        return None
    try:
        return int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
    except ValueError:
        return text  # not a number after all: keep what the Control Room sent


def _instant(value: Any) -> datetime | str | None:
    if value in (None, ""):
        return None
    # Both forms: plain ISO 8601, and Java's "...+01:00[Europe/Berlin]" that AA documents.
    text, _, zone = str(value).strip().partition("[")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    try:
        # In its named zone when Python knows it (AA's own example "[USA/New York]" is no IANA id).
        named = ZoneInfo(zone.removesuffix("]")) if zone.endswith("]") and moment.tzinfo else None
    except (ValueError, OSError, ZoneInfoNotFoundError):  # OSError: "America" is a folder, or too long
        named = None
    return moment.astimezone(named) if named else moment


def _table(table: Any) -> list[dict[str, Any]]:
    if not isinstance(table, Mapping):
        return []
    columns = [str(column.get("name")) for column in table.get("schema") or [] if isinstance(column, Mapping)]
    rows = [row.get("values") or [] for row in table.get("rows") or [] if isinstance(row, Mapping)]
    return [{column: _plain(cell) for column, cell in zip(columns, row)} for row in rows]


# -- deploying --------------------------------------------------------------------------------


#: The most executions one API task deploy asks for. The Control Room's own limit is not
#: documented (unconfirmed); this bound keeps a typo from starting thousands of runs.
MAX_API_TASK_EXECUTIONS = 100


@dataclass(frozen=True)
class HeadlessRequest:
    """
    An API task's deploy (v4 ``headlessRequest``): ``number_of_executions`` runs in the
    Control Room's cloud, without a device; ``queue_on_slots_exhaustion``: wait for a free
    slot of the tenant's API task concurrency instead of being refused;
    ``shared_run_as_user_id``: the run-as user whose context the runs get (the Control Room's
    default when ``None``).

    The body is the one PixieBrix sends (pixiebrix/pixiebrix-extension,
    src/contrib/automationanywhere/aaApi.ts, ``runApiTask``) and AA's "API Task on-demand
    endpoint" page shows; see docs/control-room-api.md for what is unconfirmed.
    """

    number_of_executions: int = 1
    queue_on_slots_exhaustion: bool = False
    shared_run_as_user_id: str | None = None

    @classmethod
    def validate(
        cls, number_of_executions: Any = 1, queue_on_slots_exhaustion: Any = False, shared_run_as_user_id: Any = None
    ) -> HeadlessRequest:
        """:raises InvalidInputError: naming the first bad field, before anything is sent."""
        if (
            isinstance(number_of_executions, bool)
            or not isinstance(number_of_executions, int)
            or not 1 <= number_of_executions <= MAX_API_TASK_EXECUTIONS
        ):
            raise InvalidInputError(
                f"number_of_executions must be a whole number from 1 to {MAX_API_TASK_EXECUTIONS}, "
                f"got {number_of_executions!r}."
            )
        if not isinstance(queue_on_slots_exhaustion, bool):
            raise InvalidInputError(
                f"queue_on_slots_exhaustion must be True or False, got {queue_on_slots_exhaustion!r}."
            )
        shared = None if shared_run_as_user_id is None else validate_id(shared_run_as_user_id, "shared_run_as_user_id")
        return cls(number_of_executions, queue_on_slots_exhaustion, shared)

    def body(self) -> dict[str, Any]:
        request: dict[str, Any] = {
            "numberOfExecutions": self.number_of_executions,
            "queueOnSlotsExhaustion": self.queue_on_slots_exhaustion,
        }
        if self.shared_run_as_user_id is not None:
            request["sharedRunAsUserId"] = int(self.shared_run_as_user_id)
        return request


@dataclass(frozen=True)
class BotDeployment:
    """
    A validated deployment: ids as digit strings, the input already typed. A task bot runs
    once per run-as user; an API task (``headless``) ``number_of_executions`` times.
    """

    bot_id: str
    run_as_user_ids: list[str]
    pool_ids: list[str]
    bot_input: dict[str, dict[str, Any]]
    headless: HeadlessRequest | None = None

    @classmethod
    def validate(cls, bot_id: Any, run_as_user_ids: Any, pool_ids: Any = None, bot_input: Any = None) -> BotDeployment:
        """A task bot's deployment. :raises InvalidInputError: naming the first bad field, before anything is sent."""
        return cls(
            bot_id=validate_id(bot_id, "bot_id"),
            run_as_user_ids=validate_ids(run_as_user_ids, "run_as_user_ids"),
            pool_ids=[] if pool_ids in (None, []) else validate_ids(pool_ids, "pool_ids"),
            bot_input=to_bot_input(bot_input),
        )

    @classmethod
    def api_task(cls, bot_id: Any, headless: HeadlessRequest, bot_input: Any = None) -> BotDeployment:
        """An API task's deployment. :raises InvalidInputError: naming the first bad field."""
        return cls(validate_id(bot_id, "bot_id"), [], [], to_bot_input(bot_input), headless)

    @property
    def runs_expected(self) -> int:
        """How many runs (activity records) the deployment starts."""
        return self.headless.number_of_executions if self.headless else len(self.run_as_user_ids)

    def describe(self) -> str:
        """What runs, for messages: ``bot 501 for run-as user(s) 29, 30`` or ``API task 701 (2 executions)``."""
        if self.headless:
            return f"API task {self.bot_id} ({self.headless.number_of_executions} execution(s))"
        return f"bot {self.bot_id} for run-as user(s) {', '.join(self.run_as_user_ids)}"

    def request(self, version: str, automation_name: str | None = None) -> ApiRequest:
        """
        The deploy request of API ``version`` (``v4`` or ``v3``; an API task only ``v4``);
        never re-sent blindly.

        With ``pool_ids`` it also says to use them (``deviceUsageType`` on v4,
        ``overrideDefaultDevice`` on v3), else the Control Room runs on the run-as users'
        default devices and ignores the pools; and ``numOfRunAsUsersToUse`` is every listed
        user, keeping one run per run-as user. ``automation_name`` names the deployment
        (v4's ``automationName``; v3 has no such field), which its activity records show.
        An API task sends ``executionType: RUN_NOW`` and ``headlessRequest`` instead of
        ``unattendedRequest``.
        """
        if version == "v4":
            body: dict[str, Any] = {"botId": int(self.bot_id)}
            if automation_name:
                body["automationName"] = automation_name
            if self.headless:
                body["executionType"] = "RUN_NOW"
                body["headlessRequest"] = self.headless.body()
            else:
                body["unattendedRequest"] = {
                    "runAsUserIds": self._users(),
                    **self._pools(deviceUsageType=POOL_DEVICE_USAGE),
                }
        elif self.headless:
            raise ValueError("An API task deploys only through /v4/automations/deploy.")
        else:
            body = {
                "fileId": int(self.bot_id),
                "runAsUserIds": self._users(),
                **self._pools(overrideDefaultDevice=True),
            }
        if self.bot_input:
            body["botInput"] = self.bot_input
        return ApiRequest("POST", f"/{version}/automations/deploy", body, replay_safe=False)

    def _users(self) -> list[int]:
        return [int(user_id) for user_id in self.run_as_user_ids]

    def _pools(self, **use_pools: Any) -> dict[str, Any]:
        """The pools, every run-as user used, and the version's flag that says to run on them."""
        if not self.pool_ids:
            return {}
        return {
            "poolIds": [int(pool_id) for pool_id in self.pool_ids],
            "numOfRunAsUsersToUse": len(self.run_as_user_ids),
            **use_pools,
        }

    def fingerprint(self) -> str:
        """Identifies this deployment's input, so that saved state is only reused for it."""
        canonical = json.dumps(self.request("v4").json, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class DeployApi:
    """Which deploy API version the Control Room answers: unknown until one answered; v4 first."""

    known: str | None = None

    def versions(self) -> tuple[str, ...]:
        return (self.known,) if self.known else DEPLOY_VERSIONS


def deploy(
    session: ControlRoomSession,
    deployment: BotDeployment,
    automation_name: str | None = None,
    api: DeployApi | None = None,
) -> Operation[str]:
    """
    Deploy through the newest API the Control Room has; return the ``deploymentId``.

    A 404 from v4 (an older Control Room) leads to the v3 call, and ``api`` remembers the
    version that answered, so later deploys go straight to it. A deploy whose answer is
    lost is not re-sent (``AmbiguousOutcomeError``): the bot might run twice. A unique
    ``automation_name`` (see :func:`find_deployment`) lets its deployment be found then.

    An API task goes to v4 only: where v4 answers 404, or the Control Room is known to have
    only v3, nothing is deployed.

    :raises DeployRefusedError: on 412, no device or run-as user can take the deploy.
    :raises ApiTasksUnavailableError: an API task, and the Control Room has no v4 deploy.
    """
    api = api or DeployApi()
    versions, attempt = api.versions(), 0
    if deployment.headless:
        if versions[0] != DEPLOY_VERSIONS[0]:
            raise ApiTasksUnavailableError.of(deployment, f"this Control Room deploys on /{versions[0]} only")
        versions = versions[:1]
    while True:
        request = deployment.request(versions[attempt], automation_name)
        try:
            answer = yield from session.request_json(request)
        except AutomationAnywhereError as refused:
            if refused.status is not None and 400 <= refused.status < 500 and refused.status != 404:
                api.known = versions[attempt]  # the call exists here, it refused this deploy
            if refused.status == 412:
                raise DeployRefusedError.of(deployment, refused) from None
            attempt += 1
            if refused.status == 404 and deployment.headless:
                raise ApiTasksUnavailableError.of(
                    deployment,
                    f"POST /v4/automations/deploy answered 404 (no such API here, or no file {deployment.bot_id}: "
                    "see the Control Room's answer)",
                    refused,
                ) from None
            if refused.status != 404 or attempt == len(versions):
                raise
            continue
        api.known = versions[attempt]
        deployment_id = answer.get("deploymentId") if isinstance(answer, dict) else None
        if (
            isinstance(deployment_id, bool)
            or not isinstance(deployment_id, (str, int))
            or not str(deployment_id).strip()
        ):
            raise AutomationAnywhereError(
                "The Control Room's deploy answer carries no deploymentId.", method=request.method, path=request.path
            )
        return str(deployment_id).strip()


def validate_automation_name(value: Any) -> str | None:
    """:raises InvalidInputError: unless ``value`` is ``None`` or a name of 1 to 255 characters."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 255 or not value.isprintable():
        raise InvalidInputError(f"automation_name must be printable text of 1 to 255 characters, got {value!r}.")
    return value


def validate_deployment_id(value: Any, field: str = "deployment_id") -> str:
    """:raises InvalidInputError: unless ``value`` looks like a deployment id (e.g. a UUID)."""
    text = value.strip() if isinstance(value, str) else None
    if not text or not _DEPLOYMENT_ID.fullmatch(text):
        raise InvalidInputError(f"{field} must be the deploymentId returned by a deploy (e.g. a UUID), got {value!r}.")
    return text


# -- following runs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BotRun:
    """
    One run of a deployment (one per run-as user), as its activity record shows it.

    ``outputs`` are the typed output variables, ``None`` until they have been read.
    """

    execution_id: str
    status: str
    message: str = ""
    outputs: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "execution_id": self.execution_id,
            "status": self.status,
            "message": self.message,
            "outputs": self.outputs,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> BotRun:
        return cls(
            str(value["execution_id"]), str(value["status"]), str(value.get("message") or ""), value.get("outputs")
        )


def activity_request(deployment_id: str) -> ApiRequest:
    body = {
        "filter": {"operator": "eq", "field": "deploymentId", "value": deployment_id},
        "page": {"offset": 0, "length": PAGE_LENGTH},
    }
    return ApiRequest("POST", "/v3/activity/list", body)


def execution_request(execution_id: str) -> ApiRequest:
    return ApiRequest("GET", f"/v3/activity/execution/{path_text_id(execution_id, 'execution id')}")


def read_runs(answer: Any, request: ApiRequest, deployment_id: str) -> list[BotRun]:
    """
    The deployment's runs from an activity list answer. Records of other deployments are
    dropped, in case a Control Room ignores the filter; records without a ``deploymentId``
    are kept (the filter chose them). Stopping trusts only records that show the id.
    """
    records = answer.get("list") if isinstance(answer, dict) else None
    if not isinstance(records, list) or not all(isinstance(record, dict) and "id" in record for record in records):
        raise AutomationAnywhereError(
            "The Control Room's answer has no 'list' of activity records with ids.",
            method=request.method,
            path=request.path,
        )
    return [
        BotRun(
            execution_id=str(record["id"]),
            status=str(record.get("status") or "").strip().upper(),
            message=str(record.get("message") or ""),
            outputs=_output_values(record) if "botOutVariables" in record else None,
        )
        for record in records
        if str(record.get("deploymentId") or deployment_id) == deployment_id
    ]


def _output_values(record: Any) -> dict[str, Any]:
    variables = record.get("botOutVariables") if isinstance(record, dict) else None
    values = variables.get("values") if isinstance(variables, dict) else None
    return dict(values) if isinstance(values, dict) else {}


def read_bot_runs(session: ControlRoomSession, deployment_id: str) -> Operation[list[BotRun]]:
    """
    The runs of a deployment; once all have completed, with their output variables (one
    execution read per run, unless the activity record already carried them).
    """
    request = activity_request(deployment_id)
    runs = read_runs((yield from session.request_json(request)), request, deployment_id)
    if not runs or any(run.status not in BOT_RUN_SUCCESS_STATUSES for run in runs):
        return runs
    finished = []
    for run in runs:
        if run.outputs is None:
            answer = yield from session.request_json(execution_request(run.execution_id))
            run = replace(run, outputs=_output_values(answer))
        finished.append(run)
    return finished


#: How far before a deploy was sent its activity records are looked for: the Control
#: Room's clock is only known to the second (``Date`` header) and stamps records on arrival.
DEPLOY_LOOKBACK = 60.0
#: The same when the Control Room's clock could not be learned: it may be far off ours.
DEPLOY_LOOKBACK_UNKNOWN_CLOCK = 24 * 3600.0


def find_deployment(
    session: ControlRoomSession, deployment: BotDeployment, sent_at: float, automation_name: str | None
) -> Operation[str | None]:
    """
    The ``deploymentId`` of a deploy of ``deployment`` named ``automation_name`` (sent at
    ``sent_at``, our clock) whose answer was lost: the one deployment whose activity records
    since then (on the Control Room's clock, learned from its ``Date`` headers) carry that
    ``automationName``. A run of the same bot for the same run-as users is not enough:
    another task may have deployed it a second earlier, and taking it would return that
    task's outputs while our input never ran. (An API task has no run-as users: any run of
    it since then is a candidate.) ``None`` when the bot has no such run since then. (That
    activity records show v4's ``automationName`` is what the deploy answer and the emulator
    show; where a Control Room does not, this fails rather than guess.)

    :raises DeploymentUnknownError: such runs since then, none named ``automation_name``
        (another task's, ours not listed yet, a v3 deploy that carries no name, or a Control
        Room whose records do not show it); it names them.
    """
    users = set(deployment.run_as_user_ids)
    named: set[str] = set()
    candidates: set[str] = set()
    cursor = PageCursor(bot_activity_request(deployment.bot_id))
    while not cursor.done:
        records = yield from read_page(session, cursor)
        # Read after the first answer: a fresh session (a retry's) learns the Control Room's
        # clock from that answer or its login, and would otherwise look back a whole day.
        shown = session.control_room_time(sent_at)
        since = shown - DEPLOY_LOOKBACK if shown is not None else sent_at - DEPLOY_LOOKBACK_UNKNOWN_CLOCK
        for record in records:
            created = parse_instant(record.get("createdOn"))
            if created is not None and created < since:
                cursor.done = True  # newest first: the rest is older still
            elif not record.get("deploymentId"):
                continue
            elif automation_name and record.get("automationName") == automation_name:
                named.add(str(record["deploymentId"]))
            elif deployment.headless or str(record.get("userId")) in users:
                candidates.add(str(record["deploymentId"]))
    if len(named) == 1:
        return named.pop()
    if named or candidates:
        why = f"its deploy was named {automation_name!r}" if automation_name else "its deploy carried no name"
        raise DeploymentUnknownError(
            f"Runs of {deployment.describe()} appeared as deployment(s) {', '.join(sorted(named | candidates))} "
            "since this task sent its deploy, and none of "
            f"them can be told to be this task's ({why}): they may be other tasks' runs, this task's may not be "
            "listed yet, or the Control Room does not show the name (a v3 deploy sends none)."
        )
    return None


def bot_activity_request(bot_id: str) -> ApiRequest:
    """The first page of a bot's activity records, newest first."""
    body = {
        "filter": {"operator": "eq", "field": "fileId", "value": bot_id},
        "sort": [{"field": "createdOn", "direction": "desc"}],
        "page": {"offset": 0, "length": PAGE_LENGTH},
    }
    return ApiRequest("POST", "/v3/activity/list", body)


def parse_instant(value: Any) -> float | None:
    """An ISO 8601 instant as epoch seconds; without a zone it is UTC (the Control Room's)."""
    text = str(value or "").strip()
    if not text:
        return None
    try:
        # Control Rooms write up to 9 fractional digits; Python reads 6.
        moment = datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def bot_run_result(deployment_id: str, runs: Sequence[BotRun]) -> dict[str, Any]:
    """
    What a finished wait returns: ``{"deployment_id", "status", "outputs", "runs"}`` with
    plain output values. ``outputs`` are the first run's; ``runs`` lists every run (one per
    run-as user) as ``{"execution_id", "status", "message", "outputs"}``.
    """
    listed = [{**run.to_json(), "outputs": from_bot_values(run.outputs)} for run in runs]
    return {
        "deployment_id": deployment_id,
        "status": runs[0].status if runs else "",
        "outputs": listed[0]["outputs"] if listed else {},
        "runs": listed,
    }


# -- the wait policy --------------------------------------------------------------------------


@dataclass(frozen=True)
class BotRunPolicy:
    """
    How long a wait tolerates a missing or stuck run (seconds).

    ``activity_grace_period``: no activity record yet is normal this long after the wait
    began (the Control Room writes it a few seconds after the deployment); then the wait
    fails. ``paused_timeout`` / ``unknown_timeout`` / ``pending_timeout``: a run continuously
    ``RUN_PAUSED`` / ``UNKNOWN`` (device lost) / ``PENDING_EXECUTION`` this long fails the
    wait; ``None`` waits until the task's own timeout.

    ``pending_timeout`` (default an hour): a run legitimately stays ``PENDING_EXECUTION``
    only while its device finishes the runs queued before it, but Control Rooms have been
    seen to leave runs there after the bot finished (pixiebrix-extension #4504), which
    without a deadline waits as long as the task may (forever without ``execution_timeout``).
    """

    activity_grace_period: float = 60.0
    paused_timeout: float | None = 3600.0
    unknown_timeout: float | None = 600.0
    pending_timeout: float | None = 3600.0

    def __post_init__(self) -> None:
        for name in ("activity_grace_period", "paused_timeout", "unknown_timeout", "pending_timeout"):
            value = getattr(self, name)
            if value is None and name != "activity_grace_period":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                allowed = "a number of seconds >= 0" + ("" if name == "activity_grace_period" else ", or None")
                raise InvalidInputError(f"{name} must be {allowed}, got {value!r}.")


@dataclass(frozen=True)
class BotRunVerdict:
    """
    Where a deployment stands: ``waiting``, ``completed`` or ``failed``. ``message`` says
    why (the failure, or what is awaited); ``unknown`` maps execution ids to statuses
    this provider does not know (they keep the wait going, never taken for success).
    """

    outcome: Literal["waiting", "completed", "failed"]
    message: str
    unknown: dict[str, str] = field(default_factory=dict)


@dataclass
class BotRunCheck:
    """
    One wait on a deployment: the policy and its clocks (epoch seconds), JSON-serialisable
    so that a rescheduled poke or a trigger carries on where the last reading stopped.

    ``started_at``: the first reading (the grace period counts from it). ``held_since``:
    ``"<execution id>:<status>"`` → when a run was first seen paused, unknown or pending.
    ``expected_runs``: how many runs the deployment starts (an API task's executions),
    when known: fewer listed keep the wait going, as the Control Room may list them late;
    ``None`` takes the runs listed as all of them.
    """

    deployment_id: str
    policy: BotRunPolicy = field(default_factory=BotRunPolicy)
    started_at: float | None = None
    held_since: dict[str, float] = field(default_factory=dict)
    expected_runs: int | None = None

    def judge(self, runs: Sequence[BotRun], now: float) -> BotRunVerdict:
        """Classify one reading taken at ``now``; updates the clocks."""
        if self.started_at is None:
            self.started_at = now
        if not runs:
            waited = now - self.started_at
            grace = self.policy.activity_grace_period
            if waited >= grace:
                return BotRunVerdict(
                    "failed",
                    f"The Control Room shows no run of deployment {self.deployment_id} {waited:.0f} s after the "
                    f"wait began (activity_grace_period={grace:g} s): check the deployment id, and that the "
                    "connection's user has the permission \"View everyone's activity\".",
                )
            return BotRunVerdict("waiting", f"No activity record of deployment {self.deployment_id} yet.")
        failed = [run for run in runs if run.status in BOT_RUN_FAILURE_STATUSES]
        if failed:
            lines = [f"Bot deployment {self.deployment_id}: {len(failed)} of {len(runs)} run(s) failed:"]
            lines += [
                f"  run {run.execution_id}: status {run.status}: {run.message or '(no message)'}" for run in failed
            ]
            return BotRunVerdict("failed", "\n".join(lines))
        stuck = self._held_too_long(runs, now)
        if stuck:
            return BotRunVerdict("failed", stuck)
        if self.expected_runs is not None and len(runs) < self.expected_runs:
            return BotRunVerdict(
                "waiting",
                f"Bot deployment {self.deployment_id}: {len(runs)} of {self.expected_runs} run(s) listed so far.",
            )
        if all(run.status in BOT_RUN_SUCCESS_STATUSES for run in runs):
            return BotRunVerdict("completed", f"Bot deployment {self.deployment_id}: all {len(runs)} run(s) completed.")
        unknown = {run.execution_id: run.status for run in runs if run.status not in KNOWN_BOT_RUN_STATUSES}
        statuses = ", ".join(f"{run.execution_id}={run.status}" for run in runs)
        return BotRunVerdict("waiting", f"Bot deployment {self.deployment_id} still running: {statuses}.", unknown)

    def _held_too_long(self, runs: Sequence[BotRun], now: float) -> str:
        """The failure of a run paused, unknown or pending longer than the policy allows, else ``""``."""
        limits = {
            BOT_RUN_PAUSED_STATUS: (
                "paused_timeout",
                self.policy.paused_timeout,
                "resume or stop it in the Control Room",
            ),
            BOT_RUN_UNKNOWN_STATUS: (
                "unknown_timeout",
                self.policy.unknown_timeout,
                "the Control Room lost its device",
            ),
            BOT_RUN_PENDING_STATUS: (
                "pending_timeout",
                self.policy.pending_timeout,
                "its device never took it, or the bot finished and the Control Room did not record it: "
                "check the run and its device in the Control Room",
            ),
        }
        held = {f"{run.execution_id}:{run.status}": run for run in runs if run.status in limits}
        self.held_since = {key: self.held_since.get(key, now) for key in held}
        for key, run in held.items():
            name, limit, hint = limits[run.status]
            held_for = now - self.held_since[key]
            if limit is not None and held_for >= limit:
                message = f" Message: {run.message}" if run.message else ""
                return (
                    f"Bot deployment {self.deployment_id}: run {run.execution_id} has been {run.status} for "
                    f"{held_for:.0f} s ({name}={limit:g} s): {hint}.{message}"
                )
        return ""

    def to_json(self) -> dict[str, Any]:
        return {
            "deployment_id": self.deployment_id,
            "activity_grace_period": self.policy.activity_grace_period,
            "paused_timeout": self.policy.paused_timeout,
            "unknown_timeout": self.policy.unknown_timeout,
            "pending_timeout": self.policy.pending_timeout,
            "started_at": self.started_at,
            "held_since": dict(self.held_since),
            "expected_runs": self.expected_runs,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> BotRunCheck:
        policy = BotRunPolicy(
            value["activity_grace_period"],
            value["paused_timeout"],
            value["unknown_timeout"],
            # A trigger serialized before pending_timeout existed gets the default.
            value.get("pending_timeout", BotRunPolicy.pending_timeout),
        )
        return cls(
            value["deployment_id"],
            policy,
            value.get("started_at"),
            dict(value.get("held_since") or {}),
            value.get("expected_runs"),  # None in a trigger serialized before it existed
        )
