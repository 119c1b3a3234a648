"""
Changes since a watermark: the work items of a queue, or the runs of a bot, that reached one
of some statuses since the last ones reported — what the asset watchers poll.

A :class:`Watermark` is the change time (as the Control Room wrote it) of the last record
reported and the ids reported at that very instant. Each poll lists the records in one of
the statuses changed at or after it (``ge``), oldest change first, then by id, and drops
those reported at the watermark's instant: records sharing an instant are neither lost nor
reported twice, however many share it and whether they straddle a page or a poll.

The change-time fields and the paging are the exports' (:mod:`.history`): work items'
``updatedOn`` (it moves on every status change; the list filter fields of a work item
include ``status`` and ``updatedOn``, reference "List / filter work items"), bot runs'
``modifiedOn`` on ``POST /v3/activity/list``. A filter on ``modifiedOn`` and on ``fileId``
(the bot) is **unconfirmed** for the activity list: AA documents ``automationId``,
``deviceId``, ``status`` and ``deploymentId``; ``fileId`` is what the lost-deploy search
sends (:func:`.bots.bot_activity_request`). A Control Room that refuses them answers 400,
and the watcher reports it.

Every answer is checked (a server filter is never trusted): a record changed before the
watermark, in another status, of another bot, or out of order stops the poll with an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from airflow_provider_aa.control_room.errors import AutomationAnywhereError, InvalidInputError
from airflow_provider_aa.control_room.exchange import ApiRequest, Operation
from airflow_provider_aa.control_room.history import DATASETS, Dataset, control_room_instant, instant_nanoseconds
from airflow_provider_aa.control_room.listing import PageCursor
from airflow_provider_aa.control_room.session import ControlRoomSession
from airflow_provider_aa.control_room.work_items import PAGE_LENGTH

#: The most records one poll reports (one event): the next poll, at once, reports the rest.
MAX_RECORDS_PER_POLL = 100


@dataclass(frozen=True)
class Watermark:
    """
    Where a watcher stands: ``since``, the change time of the last record reported, exactly
    as the Control Room wrote it; ``seen``, the ids reported at that instant.
    """

    since: str
    seen: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"since": self.since, "seen": list(self.seen)}

    @classmethod
    def from_json(cls, value: Any) -> Watermark | None:
        """A stored watermark, or ``None`` when ``value`` is not one (absent, or written by something else)."""
        if not isinstance(value, Mapping):
            return None
        since, seen = value.get("since"), value.get("seen", [])
        if not isinstance(since, str) or instant_nanoseconds(since) is None:
            return None
        if not isinstance(seen, list) or not all(isinstance(item, str) for item in seen):
            return None
        return cls(since, tuple(seen))

    @classmethod
    def at(cls, moment: float) -> Watermark:
        """The watermark of a watcher starting at ``moment`` (epoch seconds on the Control Room's clock)."""
        return cls(control_room_instant(datetime.fromtimestamp(moment, timezone.utc)))


@dataclass(frozen=True)
class WatchedRecords:
    """
    What one watcher lists: work items of ``queue_id``, or runs of the bot ``bot_id``, in one
    of ``statuses``.
    """

    dataset: Dataset
    statuses: tuple[str, ...]
    queue_id: str | None = None
    bot_id: str | None = None

    @classmethod
    def work_items(cls, queue_id: str, statuses: Sequence[str]) -> WatchedRecords:
        return cls(DATASETS["work_items"], tuple(statuses), queue_id=queue_id)

    @classmethod
    def bot_runs(cls, bot_id: str, statuses: Sequence[str]) -> WatchedRecords:
        return cls(DATASETS["bot_runs"], tuple(statuses), bot_id=bot_id)

    def request(self, since: str, offset: int = 0, length: int = PAGE_LENGTH) -> ApiRequest:
        """A page of the records in the statuses changed at or after ``since``, oldest first, then by id."""
        field = self.dataset.change_time
        statuses = [{"operator": "eq", "field": "status", "value": status} for status in self.statuses]
        operands: list[dict[str, Any]] = [
            statuses[0] if len(statuses) == 1 else {"operator": "or", "operands": statuses},
            {"operator": "ge", "field": field, "value": since},
        ]
        if self.bot_id is not None:
            operands.append({"operator": "eq", "field": "fileId", "value": self.bot_id})
        body = {
            "filter": {"operator": "and", "operands": operands},
            "sort": [{"field": field, "direction": "asc"}, {"field": "id", "direction": "asc"}],
            "page": {"offset": offset, "length": length},
        }
        return ApiRequest("POST", self.dataset.path.format(queue_id=self.queue_id), body)

    def check(self, record: Mapping[str, Any], since: int, previous: tuple[int, str] | None) -> tuple[int, str]:
        """
        Where ``record`` sorts (change time in nanoseconds, id).

        :raises AutomationAnywhereError: unless it is what was asked for, after ``previous``.
        """
        changed = record.get(self.dataset.change_time)
        nanoseconds = instant_nanoseconds(changed)
        status = str(record.get("status") or "").strip().upper()
        key = (-1 if nanoseconds is None else nanoseconds, str(record["id"]))
        if nanoseconds is None or nanoseconds < since:
            problem = f"its {self.dataset.change_time} {changed!r} is not at or after the watermark"
        elif status not in self.statuses:
            problem = f"its status {status!r} is not one of {', '.join(self.statuses)}"
        elif self.bot_id is not None and str(record.get("fileId", self.bot_id)) != self.bot_id:
            problem = f"it is a run of bot {record.get('fileId')!r}, not of bot {self.bot_id}"
        elif previous is not None and key[0] < previous[0]:
            problem = "it is not after the record before it in the order asked for (change time, then id)"
        else:
            return key
        raise AutomationAnywhereError(
            f"The Control Room does not honour the watcher's filter or sort: record {record['id']!r} came back, "
            f"but {problem}. Stopped instead of reporting records that were not asked for.",
            path=self.dataset.path.format(queue_id=self.queue_id),
        )


@dataclass(frozen=True)
class Changes:
    """One poll: the records to report (oldest change first), the watermark past them, and whether more wait."""

    records: list[dict[str, Any]]
    watermark: Watermark
    more: bool


def read_changes(
    session: ControlRoomSession, watched: WatchedRecords, watermark: Watermark, limit: int = MAX_RECORDS_PER_POLL
) -> Operation[Changes]:
    """
    The records in the watched statuses changed since ``watermark`` (those reported at its
    instant dropped), at most ``limit``, and the watermark past them.

    The pages read are bounded: those holding the records already reported at the watermark's
    instant, ``limit`` new ones, and one more.
    """
    since = instant_nanoseconds(watermark.since)
    assert since is not None  # a Watermark is built only from readable instants
    seen = set(watermark.seen)
    cursor = PageCursor(watched.request(watermark.since), max_pages=(len(seen) + limit) // PAGE_LENGTH + 3)
    records: list[dict[str, Any]] = []
    mark, mark_ids = watermark.since, list(watermark.seen)
    mark_nanoseconds = since
    previous: tuple[int, str] | None = None
    more = False
    while not cursor.done:
        request = cursor.request()
        page = cursor.read((yield from session.request_json(request)), request)
        for record in page:
            key = previous = watched.check(record, since, previous)
            if key[0] == since and key[1] in seen:
                continue
            if len(records) == limit:
                more = True
                break
            records.append(record)
            if key[0] > mark_nanoseconds:
                mark, mark_ids, mark_nanoseconds = str(record[watched.dataset.change_time]), [], key[0]
            mark_ids.append(key[1])
        if more:
            break
    # ``seen`` holds the ids of one instant only: as many as records share one millisecond.
    return Changes(records, Watermark(mark, tuple(mark_ids)), more)


def validate_statuses(value: Any, field: str = "statuses") -> tuple[str, ...]:
    """A non-empty sequence of status names → upper-case, duplicates removed, order kept."""
    items = [value] if isinstance(value, str) else value
    if (
        not isinstance(items, Sequence)
        or not items
        or not all(isinstance(item, str) and item.strip() for item in items)
    ):
        raise InvalidInputError(
            f'{field} must be a non-empty list of status names such as ["COMPLETED", "FAILED"], got {value!r}.'
        )
    return tuple(dict.fromkeys(item.strip().upper() for item in items))
