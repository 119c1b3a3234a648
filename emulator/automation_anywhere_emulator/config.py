"""The emulator's run-time settings and the seed data it starts from."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from automation_anywhere_emulator.tokens import TOKEN_CLAIMS

_DURATION_FIELDS = ("token_lifetime", "pickup_delay", "work_delay", "activity_delay")
_BOOL_FIELDS = (
    "numeric_ids",
    "auth_v1_enabled",
    "auth_v2_enabled",
    "pause_bot",
    "deploy_v4_enabled",
    "wlm_v4_enabled",
    "ignore_offset",
    "ignore_filter",
    "refuse_time_filters",
    "activity_deployment_ids",
    "stop_takes_deployment_ids",
    "roles_v2_enabled",
    "roles_v1_enabled",
    "wlm_v3_enabled",
    "wlm_v2_enabled",
    "deploy_v3_enabled",
    "activity_v3_enabled",
    "wlm_v3_update_deprecated",
    "strict",
)

#: Largest duration and clock offset (seconds): ten years.
MAX_SECONDS = 10 * 366 * 86400.0
#: Largest ``bot_rate`` (items per second).
MAX_BOT_RATE = 1e9
#: Largest rate of a ``busy_queues`` entry (items per second).
MAX_BUSY_RATE = 100_000.0
#: Largest ``page_cap``.
MAX_PAGE_CAP = 10**9
#: Largest ``history_runs``.
MAX_HISTORY_RUNS = 1_000_000
#: Largest ``api_task_slots``.
MAX_API_TASK_SLOTS = 10_000
#: The values of ``add_answer_shape``.
ADD_ANSWER_SHAPES = ("list", "workItems", "item")


@dataclass(frozen=True)
class EmulatorConfig:
    """
    Settings that can change while the emulator runs (see ``ControlRoomEmulator.configure``).

    ``token_lifetime``: seconds a new JWT stays valid. ``token_claims``: what its claims say of
    its times: ``"iat_exp"`` (``iat`` and ``exp``, the default), ``"exp_only"`` (no ``iat``, as
    some gateways and older Control Rooms issue them) or ``"exp_equals_iat"`` (``exp`` equal to
    ``iat``); the token lives ``token_lifetime`` whatever its claims say. ``pickup_delay`` / ``work_delay``:
    seconds the emulated bot waits before taking a NEW item / before finishing an ACTIVE one.
    ``numeric_ids``: numeric work item and queue fields as JSON numbers instead of strings.
    ``auth_v1_enabled`` / ``auth_v2_enabled``: whether login and refresh answer on
    ``/v1/...`` / ``/v2/...``. ``pause_bot``: keep items NEW. ``bot_rate``: items per
    second the bot can take, ``None`` for no limit. Deployed bots go ``DEPLOYED → RUNNING``
    after ``pickup_delay`` and finish ``work_delay`` later; ``activity_delay``: seconds
    before a run's activity record is listed. ``deploy_v4_enabled``: whether
    ``/v4/automations/deploy`` answers (off: 404, as on Control Rooms with only v3), and with
    it API tasks (headless deploys). ``api_task_slots``: how many API task runs the tenant
    runs at once (its API task concurrency); a deploy that needs more is refused, or with
    ``queueOnSlotsExhaustion`` its runs wait ``QUEUED`` for a slot (see :mod:`.deployments`).
    ``wlm_v4_enabled``: whether the single-item work queue calls answer on ``/v4/wlm/...``
    (get queue, get and update work item; off: 404, as before Automation 360 v.34).
    ``clock_offset``: seconds the Control Room's clock is ahead of this machine's (negative:
    behind). It moves every time the Control Room shows or judges: timestamps in answers,
    token ``iat``/``exp`` and their expiry, the ``Date`` header. Delays and lifetimes stay
    durations. Changed while running, it moves the clock from then on (see :mod:`.clock`).

    What real deployments do to "exactly once" adds:

    - ``busy_queues``: queue id (text, e.g. ``"20"``) → items per second that other
      producers add to that queue, from the moment the setting is made. Their items have
      ``json`` ``{"producer": "other", "n": <k>}`` (``k`` counts from 1 per queue, across
      rate changes, until ``reset``), are created by user 90 (:data:`.models.OTHER_PRODUCER`,
      no seeded user), take ids in creation order among everybody's items, and the emulated
      bot works them like any other. A rate of 0 or a removed key stops a queue's producer;
      a changed rate starts over from the change.
    - ``page_cap``: list endpoints (work items, queues, activity) return at most that many
      records per page whatever was asked, as real Control Rooms cap pages below the
      ``length`` asked; ``page.total`` and ``page.totalFilter`` stay truthful. ``None``: no
      cap beyond the grammar's own (see :mod:`.filters`).
    - ``ignore_offset``: list endpoints answer as if ``page.offset`` were 0 (a broken server
      or proxy), so every page is the first one.
    - ``ignore_filter``: list endpoints answer as if there were no ``filter`` (a Control Room
      that does not filter on a field, e.g. on an activity record's time fields): every record,
      sorted and paged as asked.
    - ``refuse_time_filters``: list endpoints answer a filter on a time field (``modifiedOn``,
      ``updatedOn``, ``createdOn``, ...; :data:`.filters.TIME_FIELDS`) with 400 ``BAD_REQUEST``,
      as a Control Room may (no AA page documents a filter on an activity record's time
      fields); sorting on them still works.
    - ``activity_deployment_ids``: off, deployed runs' activity records carry no
      ``deploymentId`` (a Control Room whose records lack it); filtering on it still works.
    - ``stop_takes_deployment_ids``: ``/v3/activity/manage``'s ``stop_executions.execution_ids``
      takes deployment ids (each stops that deployment's unfinished runs), as one production
      client (leoporfi/sam) sends them, and an activity record id is refused in
      ``manage_action_errors``; off (the default): activity record ids, which the provider
      sends. Which a Control Room takes is unconfirmed.

    ``history_runs``: bot runs the activity history holds from before the setting took
    effect, over the two days before, all finished, each with an audit log entry (see
    :mod:`.history`); set or changed, the history is made anew ending at that moment; 0 (the
    default): none, the activity list shows deployed runs only and the audit log is empty.

    ``add_answer_shape``: how an add of work items is answered, as Control Rooms differ:
    ``"list"`` (``{"list": [...]}``, the default), ``"workItems"`` (``{"workItems": [...]}``)
    or ``"item"`` (the created item itself when one was added; a list otherwise).

    ``roles_v2_enabled`` / ``roles_v1_enabled``: whether the role calls of the User Management
    API answer on ``/v2/usermanagement/...`` / ``/v1/usermanagement/...`` (off: 404, as on a
    Control Room without the v2 paths, which only a public script uses, or without v1, the
    documented one; see :mod:`.roles`).

    ``wlm_v3_enabled`` / ``wlm_v2_enabled``: whether the work queue calls (queue list, get queue,
    add, list, get, update and delete work items) answer on ``/v3/wlm/...`` (Automation 360) /
    ``/v2/wlm/...`` (11.x; off by default); off: 404. ``deploy_v3_enabled``: whether
    ``/v3/automations/deploy`` answers; ``activity_v3_enabled``: whether ``/v3/activity/...``
    (list, execution, manage) answers (both off: 404, as on 11.x, which has neither).
    ``wlm_v3_update_deprecated``: the work item update on ``/v3/wlm`` still answers, with a
    ``Deprecation: true`` header (AA deprecates it from v.34; the header is the emulator's
    mark, so that a client's use of it shows).

    ``strict``: refuse with 400 ``BAD_REQUEST`` every request body field, filter field and
    header that the project's Control Room API reference does not document (see
    :mod:`.strict`).

    A Control Room version's values come from :meth:`for_profile` (see :mod:`.profiles`);
    ``EmulatorConfig()`` itself serves every version of every API.

    Durations are seconds from 0 to ten years (``token_lifetime`` above 0), ``clock_offset``
    at most ten years either way, ``bot_rate`` above 0 and at most 1e9, ``busy_queues``
    rates from 0 to 100000 (keys whole numbers, as text or int; an unknown queue raises
    ``ValueError`` when the setting is applied), ``page_cap`` a whole number from 1 to
    10**9; other values raise ``ValueError`` or ``TypeError``.
    """

    token_lifetime: float = 1200.0
    token_claims: str = "iat_exp"
    pickup_delay: float = 1.0
    work_delay: float = 1.0
    numeric_ids: bool = False
    auth_v1_enabled: bool = True
    auth_v2_enabled: bool = True
    pause_bot: bool = False
    bot_rate: float | None = None
    activity_delay: float = 1.0
    deploy_v4_enabled: bool = True
    api_task_slots: int = 2
    wlm_v4_enabled: bool = True
    clock_offset: float = 0.0
    busy_queues: dict[str, float] = field(default_factory=dict)
    page_cap: int | None = None
    ignore_offset: bool = False
    ignore_filter: bool = False
    refuse_time_filters: bool = False
    activity_deployment_ids: bool = True
    stop_takes_deployment_ids: bool = False
    add_answer_shape: str = "list"
    roles_v2_enabled: bool = True
    roles_v1_enabled: bool = True
    history_runs: int = 0
    wlm_v3_enabled: bool = True
    wlm_v2_enabled: bool = False
    deploy_v3_enabled: bool = True
    activity_v3_enabled: bool = True
    wlm_v3_update_deprecated: bool = True
    strict: bool = False

    @classmethod
    def for_profile(cls, name: str, **changes: Any) -> EmulatorConfig:
        """
        The settings of the Control Room version ``name`` (see :mod:`.profiles`), then
        ``changes``; an unknown profile raises ``ValueError``, an unknown setting ``TypeError``.
        """
        from automation_anywhere_emulator.profiles import profile

        return cls().replace(**profile(name).settings).replace(**changes)

    def __post_init__(self) -> None:
        for name in _DURATION_FIELDS:
            check_number(name, getattr(self, name), 0, MAX_SECONDS)
        if self.token_lifetime <= 0:
            raise ValueError("token_lifetime must be greater than 0")
        check_number("clock_offset", self.clock_offset, -MAX_SECONDS, MAX_SECONDS)
        for name in _BOOL_FIELDS:
            if not isinstance(getattr(self, name), bool):
                raise TypeError(f"{name} must be true or false, not {getattr(self, name)!r}")
        if self.bot_rate is not None:
            check_number("bot_rate", self.bot_rate, 0, MAX_BOT_RATE)
            if self.bot_rate <= 0:
                raise ValueError("bot_rate must be greater than 0, or None for no limit")
        if self.page_cap is not None:
            check_number("page_cap", self.page_cap, 1, MAX_PAGE_CAP, whole=True)
        check_number("history_runs", self.history_runs, 0, MAX_HISTORY_RUNS, whole=True)
        check_number("api_task_slots", self.api_task_slots, 0, MAX_API_TASK_SLOTS, whole=True)
        if self.token_claims not in TOKEN_CLAIMS:
            raise ValueError(f"token_claims must be one of {', '.join(TOKEN_CLAIMS)}, not {self.token_claims!r}")
        if self.add_answer_shape not in ADD_ANSWER_SHAPES:
            raise ValueError(
                f"add_answer_shape must be one of {', '.join(ADD_ANSWER_SHAPES)}, not {self.add_answer_shape!r}"
            )
        # A copy with text keys: JSON-able, and the caller's dict can change without moving it.
        object.__setattr__(self, "busy_queues", _busy_queues(self.busy_queues))

    def replace(self, **changes: Any) -> EmulatorConfig:
        """A copy with ``changes`` applied; an unknown name raises ``TypeError``."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise TypeError(f"unknown emulator setting(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _busy_queues(value: Any) -> dict[str, float]:
    if not isinstance(value, Mapping):
        raise TypeError(f"busy_queues must be an object of queue id → items per second, not {value!r}")
    rates = {}
    for queue_id, rate in value.items():
        key = str(queue_id) if isinstance(queue_id, (int, str)) and not isinstance(queue_id, bool) else ""
        if not (key.isascii() and key.isdigit() and len(key) <= 19):
            raise ValueError(f"busy_queues: {queue_id!r} is not a queue id")
        check_number(f"busy_queues[{key}]", rate, 0, MAX_BUSY_RATE)
        rates[str(int(key))] = rate
    return rates


def check_number(name: str, value: Any, low: float, high: float, *, whole: bool = False) -> None:
    """
    A JSON number (not a bool; an int if ``whole``) from ``low`` to ``high``, else
    ``TypeError`` (wrong type) or ``ValueError`` (out of range) naming ``name``.
    """
    if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)):
        raise TypeError(f"{name} must be a {'whole ' if whole else ''}number, not {value!r}")
    # Compare before any float(): an int of hundreds of digits overflows a float, NaN compares false.
    if not (isinstance(value, int) or math.isfinite(value)) or not low <= value <= high:
        raise ValueError(f"{name} must be from {_bound(low)} to {_bound(high)}, not {_short(value)}")


def _bound(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _short(value: float) -> str:
    """``value`` for an error message: huge ints shortened (and not converted whole: str() has a digit limit)."""
    if isinstance(value, int) and abs(value) >= 10**30:
        return f"an integer of about {value.bit_length() * 3 // 10} digits"
    return repr(value)


def load_seed(source: Mapping[str, Any] | str | Path | None = None) -> dict[str, Any]:
    """
    The seed document: users, queues, login credentials per auth mode and the bot's identity.

    ``source`` is a mapping, a path to a JSON file, or ``None`` for ``default_seed.json``.
    """
    if source is None:
        text = resources.files(__package__).joinpath("default_seed.json").read_text("utf-8")
        seed = json.loads(text)
    elif isinstance(source, Mapping):
        seed = copy.deepcopy(dict(source))
    else:
        seed = json.loads(Path(source).read_text("utf-8"))
    missing = [key for key in ("users", "queues") if not isinstance(seed.get(key), list)]
    if missing:
        raise ValueError(f"the emulator seed needs a list of {' and '.join(missing)}")
    return seed
