"""
The Control Room's past: bot runs finished before the emulator was asked, and the audit log.

Off by default (an empty history, so that nothing else sees runs it did not deploy). The
setting ``history_runs`` (:class:`.config.EmulatorConfig`) seeds that many runs, spread over
the :data:`HISTORY_DAYS` days before the moment it takes effect, all finished by then:

- bots, run-as users and devices are the seed's (``bots``, ``runAsUsers``, the bot's
  device), taken in turn; a run lasts 20 s to :data:`LONGEST_RUN` s and ends ``COMPLETED``,
  or ``RUN_FAILED`` (one in ten; half of a bot seeded to fail), now and then
  ``RUN_TIMED_OUT``; the same setting at the same moment gives the same runs;
- each run has an audit entry ``Bot deployed`` at its ``createdOn`` (fields of an entry:
  ``id``, ``createdOn``, ``createdBy``, ``userName``, ``activityType``, ``eventDescription``,
  ``objectName``, ``source``, ``status``, ``environmentName``, ``hostName``, ``detail`` —
  the emulator's choice; only ``id`` and ``createdOn`` are confirmed).

``POST /v3/activity/list`` lists these runs with the deployed ones (:mod:`.deployments`);
``POST /v1/audit/messages/list`` the audit log. Both take the list grammar of :mod:`.filters`,
whose time comparisons are by instant. A history of 100,000 runs stays fast for what exports
ask: a window on one time field (``ge``/``gt`` and ``lt``/``le`` operands of an ``and``)
sorted on that field (then ``id``) is answered by bisection, merged with the few deployed
runs; a filter with an ``eq`` (a run's ``deploymentId``, a bot's ``fileId``) reads only the
records an index by that field's value holds, and when it is the whole filter, sorted on one
field, and holds more than a page of records (a bot's newest first), they come in the order of
an index by the field sorted on, only the page's records are built, and the deployed runs are
merged in; any other request reads every record. Each index is built on first use, in one
reading of every record.
"""

from __future__ import annotations

import bisect
import random
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from automation_anywhere_emulator import filters
from automation_anywhere_emulator.clock import ControlRoomClock
from automation_anywhere_emulator.deployments import Bot
from automation_anywhere_emulator.models import instant

HISTORY_DAYS = 2
#: Longest run of the history (seconds); runs begin early enough to end before the anchor.
LONGEST_RUN = 900.0
#: Seconds between a run's deployment and its start on the device.
PICKUP = 5.0
_NAMESPACE = uuid.UUID("6f1c5a3e-2b7d-4e9a-9c1f-0a8b7d6e5f40")
#: Time fields of a history run, all set (every run has finished).
_TIME_FIELDS = ("createdOn", "startDateTime", "endDateTime", "modifiedOn")
#: Where a record sorts in a window: the time in nanoseconds, then the id as the list grammar sorts it.
Key = tuple[int, tuple[int, float, str]]
#: The records' sorting on one field: each record's group (the position of its sort key among
#: the distinct keys) by record number, and the distinct keys, ascending.
_Order = tuple[list[int], list[tuple[int, float, str]]]
#: How many of the orders asked last (a value's records sorted on a field) are kept.
_SORTED_KEPT = 16
#: Up to this many records of a value (a run's deployment) are built and sorted as they are:
#: no slower than a page's, and no index by the field sorted on is built for them.
_FEW = filters.MAX_PAGE_LENGTH


def _number(value: int, numeric_ids: bool) -> int | str:
    return value if numeric_ids else str(value)


@dataclass(frozen=True)
class PastRun:
    """A finished run of the history; times on the Control Room's clock (epoch seconds)."""

    number: int
    bot: Bot
    user_id: int
    device_id: int
    deployed_by: int
    created_on: float
    ended_on: float
    status: str
    message: str

    @property
    def id(self) -> str:
        return str(uuid.uuid5(_NAMESPACE, f"run-{self.number}"))

    def record(self, numeric_ids: bool) -> dict[str, Any]:
        """The activity record, as :meth:`.deployments.BotRun.record` shows a finished run."""
        return {
            "id": self.id,
            "deploymentId": str(uuid.uuid5(_NAMESPACE, f"deployment-{self.number}")),
            "automationName": self.bot.name,
            "fileId": _number(self.bot.id, numeric_ids),
            "fileName": self.bot.name,
            "filePath": self.bot.path,
            "type": "RUN",
            "status": self.status,
            "message": self.message,
            "userId": _number(self.user_id, numeric_ids),
            "deviceId": _number(self.device_id, numeric_ids),
            "progress": 100,
            "createdBy": _number(self.deployed_by, numeric_ids),
            "createdOn": instant(self.created_on),
            "startDateTime": instant(self.created_on + PICKUP),
            "endDateTime": instant(self.ended_on),
            "modifiedOn": instant(self.ended_on),
        }

    def audit(self, numeric_ids: bool, username: str) -> dict[str, Any]:
        """The audit entry of the run's deployment."""
        return {
            "id": _number(self.number, numeric_ids),
            "createdOn": instant(self.created_on),
            "createdBy": _number(self.deployed_by, numeric_ids),
            "userName": username,
            "activityType": "DEPLOY_BOT",
            "eventDescription": "Bot deployed",
            "objectName": self.bot.name,
            "source": "Automation",
            "status": "Successful",
            "environmentName": "Emulator",
            "hostName": "emulator.local",
            "detail": f"Bot {self.bot.path} deployed for run-as user {self.user_id}",
        }


class SortedRecords:
    """
    Records that never change, answered with the list grammar; windows on a time field
    are bisected in an index built on first use.
    """

    def __init__(self, count: int, record: Callable[[int, bool], dict[str, Any]], time_fields: Sequence[str]) -> None:
        self._count = count
        self._record = record
        self._time_fields = tuple(time_fields)
        self._indexes: dict[str, tuple[list[int], list[Key], list[int]]] = {}
        self._values: dict[tuple[str, bool], dict[tuple[str, Any], list[int]]] = {}
        self._orders: dict[tuple[str, bool], _Order] = {}
        self._sorted: OrderedDict[tuple[str, bool, tuple[str, Any], str, bool], tuple[list[int], list[int]]] = (
            OrderedDict()
        )

    def __len__(self) -> int:
        return self._count

    def records(self, numeric_ids: bool) -> list[dict[str, Any]]:
        return [self._record(number, numeric_ids) for number in range(self._count)]

    def answer(self, request: filters.ListQuery, others: list[dict[str, Any]], numeric_ids: bool) -> dict[str, Any]:
        """
        The answer to ``request`` over these records plus ``others`` (records that change,
        few): bisected when ``request`` is a window on an indexed time field sorted on it
        (then ``id``), from the indexes by value (and by the field sorted on) when it asks
        for one with ``eq``, else by matching every record.
        """
        field = _window_field(request)
        if field not in self._time_fields or not self._count:
            numbers = self._equal(request.condition, numeric_ids)
            leaf = _single_equal(request)
            if leaf is not None and numbers is not None and len(numbers) > _FEW:
                return self._equal_sorted(request, leaf, numbers, others, numeric_ids)
            if numbers is None:
                return filters.query_parsed(self.records(numeric_ids) + others, request)
            # Only the records an ``eq`` of the filter holds can match: the same answer.
            answer = filters.query_parsed([self._record(number, numeric_ids) for number in numbers] + others, request)
            answer["page"]["total"] = self._count + len(others)
            return answer
        nanos, keys, order = self._index(field, numeric_ids)
        low, high = _bounds(request.condition, nanos)
        condition = request.condition
        assert condition is not None  # a window
        live = [record for record in others if filters.matches(condition, record)]
        live_keys = sorted((_key(record, field), index) for index, record in enumerate(live))
        # Where each live record falls among the bisected ones: equal keys put the index's first.
        positions = [bisect.bisect_right(keys, key, low, high) - low + n for n, (key, _) in enumerate(live_keys)]
        shown = [live[index] for _, index in live_keys]
        page = self._merged(request, order, low, high, shown, positions, numeric_ids)
        return request.answer(page, self._count + len(others), high - low + len(live))

    def _equal_sorted(
        self,
        request: filters.ListQuery,
        leaf: dict[str, Any],
        numbers: list[int],
        others: list[dict[str, Any]],
        numeric_ids: bool,
    ) -> dict[str, Any]:
        """
        The answer to a filter that is one ``eq`` sorted on one field (a bot's records newest
        first): ``numbers``, the records the ``eq`` holds, in the order of an index by that
        field built on first use, merged with the live ``others`` that match; only the page's
        records are built.
        """
        field, descending = request.sort[0]
        self._build(numeric_ids, order=field)
        wanted = filters.equality_key(leaf["value"])
        distinct = self._orders[(field, numeric_ids)][1]
        stored, ascending_groups = self._sorted_numbers(leaf["field"], numeric_ids, wanted, numbers, field, descending)
        live = [record for record in others if filters.matches(leaf, record)]
        live.sort(key=lambda record: filters.sort_key(record, field), reverse=descending)  # stable, as query sorts
        # Where each live record falls among the stored ones: on equal keys the stored come
        # first (they come first in the list that is sorted stably, either way).
        positions = []
        for n, record in enumerate(live):
            key = filters.sort_key(record, field)
            if descending:  # the stored ones with keys at least this one's
                before = len(stored) - bisect.bisect_left(ascending_groups, bisect.bisect_left(distinct, key))
            else:  # those with keys at most this one's
                before = bisect.bisect_right(ascending_groups, bisect.bisect_right(distinct, key) - 1)
            positions.append(before + n)
        page = self._merged(request, stored, 0, len(stored), live, positions, numeric_ids)
        return request.answer(page, self._count + len(others), len(stored) + len(live))

    def _merged(
        self,
        request: filters.ListQuery,
        numbers: Sequence[int],
        low: int,
        high: int,
        live: list[dict[str, Any]],
        positions: list[int],
        numeric_ids: bool,
    ) -> list[dict[str, Any]]:
        """
        The page ``request`` asks for of the stored records ``numbers[low:high]`` (in order)
        with the ``live`` ones (in order) at their ``positions`` (ascending) among them.
        """
        taken = bisect.bisect_left(positions, request.offset)
        stored = low + request.offset - taken
        page: list[dict[str, Any]] = []
        for position in range(request.offset, min(request.offset + request.length, high - low + len(live))):
            if taken < len(live) and positions[taken] == position:
                page.append(live[taken])
                taken += 1
            else:
                page.append(self._record(numbers[stored], numeric_ids))
                stored += 1
        return page

    def _sorted_numbers(
        self,
        field: str,
        numeric_ids: bool,
        wanted: tuple[str, Any] | None,
        numbers: list[int],
        sort_field: str,
        descending: bool,
    ) -> tuple[list[int], list[int]]:
        """
        ``numbers`` (ascending: the records whose ``field`` is ``wanted``) in the order a
        stable sort on ``sort_field`` gives, and their groups (:meth:`_build`) ascending; the
        last few asked are kept.
        """
        cache_key = (field, numeric_ids, wanted or ("", None), sort_field, descending)
        kept = self._sorted.get(cache_key)
        if kept is None:
            groups = self._orders[(sort_field, numeric_ids)][0]
            ascending_groups = sorted(groups[number] for number in numbers)
            # The numbers ascend: sorting on the group alone keeps them ascending among equal keys.
            ordered = sorted(numbers, key=lambda number: -groups[number] if descending else groups[number])
            kept = self._sorted[cache_key] = (ordered, ascending_groups)
            while len(self._sorted) > _SORTED_KEPT:
                self._sorted.popitem(last=False)
        self._sorted.move_to_end(cache_key)
        return kept

    def _build(self, numeric_ids: bool, values: str | None = None, order: str | None = None) -> None:
        """
        Build what is missing in one reading of every record: the index by the ``eq`` key of
        the field ``values`` (the records' numbers, ascending, by key) and, for the field
        ``order``, each record's group (the position of its sort key among the records'
        distinct keys, ascending) and those keys.
        """
        if values is not None and (values, numeric_ids) in self._values:
            values = None
        if order is not None and (order, numeric_ids) in self._orders:
            order = None
        if values is None and order is None:
            return
        by_value: dict[tuple[str, Any], list[int]] = {}
        sort_keys = []
        for number in range(self._count):
            record = self._record(number, numeric_ids)
            if values is not None:
                value = filters.equality_key(filters.lookup(record, values))
                if value is not None:
                    by_value.setdefault(value, []).append(number)
            if order is not None:
                sort_keys.append(filters.sort_key(record, order))
        if values is not None:
            self._values[(values, numeric_ids)] = by_value
        if order is not None:
            distinct = sorted(set(sort_keys))
            group_of = {key: group for group, key in enumerate(distinct)}
            self._orders[(order, numeric_ids)] = ([group_of[key] for key in sort_keys], distinct)

    def _equal(self, condition: dict[str, Any] | None, numeric_ids: bool) -> list[int] | None:
        """
        The numbers of the records that an ``eq`` among ``condition``'s conjuncts holds (a
        bot run's ``deploymentId``, a bot's ``fileId``), from an index of that field built on
        first use; ``None`` when no conjunct is an ``eq``.
        """
        leaves = [] if condition is None else filters.conjuncts(condition)
        leaf = next((leaf for leaf in leaves if leaf["operator"] == "eq"), None)
        if leaf is None:
            return None
        self._build(numeric_ids, values=leaf["field"])
        wanted = filters.equality_key(leaf["value"])
        return self._values[(leaf["field"], numeric_ids)].get(wanted, []) if wanted is not None else []

    def _index(self, field: str, numeric_ids: bool) -> tuple[list[int], list[Key], list[int]]:
        """Nanoseconds of ``field``, ``(nanoseconds, id text)`` sort keys, and record numbers, in key order."""
        if field not in self._indexes:
            keyed = sorted((_key(self._record(number, numeric_ids), field), number) for number in range(self._count))
            self._indexes[field] = ([key[0] for key, _ in keyed], [key for key, _ in keyed], [n for _, n in keyed])
        return self._indexes[field]


def _key(record: dict[str, Any], field: str) -> Key:
    """Where ``record`` sorts: by the instant of ``field``, then by ``id`` as the list grammar sorts it."""
    value = record.get(field)
    nanos = filters.instant_nanoseconds(value) if isinstance(value, str) else None
    # Without the time (a run not finished) a record matches no window: never among the bisected ones.
    return (nanos if nanos is not None else -1, filters.sort_key(record, "id"))


_RANGE = ("ge", "gt", "le", "lt")


def _single_equal(request: filters.ListQuery) -> dict[str, Any] | None:
    """The filter of ``request`` when it is one ``eq`` (in nested ``and``s or not) and the sort one field."""
    leaves = [] if request.condition is None else filters.conjuncts(request.condition)
    if len(leaves) != 1 or leaves[0]["operator"] != "eq" or len(request.sort) != 1:
        return None
    return leaves[0]


def _window_field(request: filters.ListQuery) -> str | None:
    """
    The time field ``request`` is a window on (ranges on it, in nested ``and``s as an export's
    later pages send them), sorted on it ascending (then ``id``); else ``None``.
    """
    condition = request.condition
    if condition is None or any(descending for _, descending in request.sort):
        return None
    field = request.sort[0][0]
    if [name for name, _ in request.sort[1:]] not in ([], ["id"]):
        return None
    for leaf in filters.conjuncts(condition):
        value = leaf.get("value")
        if leaf["operator"] not in _RANGE or leaf.get("field") != field:
            return None
        if not isinstance(value, str) or filters.instant_nanoseconds(value) is None:
            return None
    return field


def _bounds(condition: dict[str, Any] | None, nanos: list[int]) -> tuple[int, int]:
    """The slice of the index (by ``nanos``) that the window ``condition`` holds."""
    assert condition is not None  # checked by _window_field
    bounds = []
    for leaf in filters.conjuncts(condition):
        value = filters.instant_nanoseconds(leaf["value"])
        assert value is not None  # checked by _window_field
        bounds.append((leaf["operator"], value))
    return filters.bisect_bounds(nanos, bounds)


class History:
    """The seeded past: :class:`PastRun` s (as activity records) and their audit entries."""

    def __init__(self, runs: list[PastRun], usernames: dict[int, str]) -> None:
        self._runs = runs
        self._usernames = usernames
        self.activity = SortedRecords(len(runs), lambda n, numeric: runs[n].record(numeric), _TIME_FIELDS)
        self.audit = SortedRecords(
            len(runs), lambda n, numeric: runs[n].audit(numeric, usernames.get(runs[n].deployed_by, "")), ["createdOn"]
        )

    @classmethod
    def empty(cls) -> History:
        return cls([], {})

    @classmethod
    def seeded(
        cls,
        count: int,
        anchor: float,
        clock: ControlRoomClock,
        bots: Sequence[Bot],
        run_as_users: Sequence[int],
        device_id: int,
        deployer: tuple[int, str],
    ) -> History:
        """``count`` runs spread over the days before base time ``anchor``, all finished by then."""
        if not count or not bots:
            return cls.empty()
        users = list(run_as_users) or [deployer[0]]
        spread = HISTORY_DAYS * 86400.0 - LONGEST_RUN - PICKUP
        first = anchor - HISTORY_DAYS * 86400.0
        chance = random.Random(count)  # the same setting gives the same runs
        runs = []
        for number in range(count):
            bot = bots[number % len(bots)]
            created = first + spread * number / count
            failing = 0.5 if bot.outcome != "COMPLETED" else 0.1
            roll = chance.random()
            status, message = "COMPLETED", ""
            if roll < failing * 0.1:
                status, message = "RUN_TIMED_OUT", "The run exceeded its time limit"
            elif roll < failing:
                status, message = "RUN_FAILED", bot.message or f"Emulated failure of {bot.name}"
            runs.append(
                PastRun(
                    number=number + 1,
                    bot=bot,
                    user_id=users[number % len(users)],
                    device_id=device_id,
                    deployed_by=deployer[0],
                    created_on=clock.shown(created),
                    ended_on=clock.shown(created + PICKUP + 20.0 + chance.random() * (LONGEST_RUN - 20.0)),
                    status=status,
                    message=message,
                )
            )
        return cls(runs, {deployer[0]: deployer[1]})
