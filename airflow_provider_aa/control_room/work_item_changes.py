"""
Day-two changes to work items: update one under its version lock, delete some, re-queue the
ones in given statuses.

The calls (reference "Other work item and queue calls"; 11.3 documents them on ``/v2``):

- ``PUT /v4/wlm/queues/{queueId}/workitems/{id}`` (Automation 360 v.34+; ``/v3`` before) with
  ``{"version", "json", "result", "status"}``: ``version`` is the item's current version,
  an optimistic lock — a stale one gets 409 and changes nothing (Automation Anywhere, 11.3
  "Update work item data, results and status"). v4 is sent first, as the deploy does; a 404
  from v4 and an answer from v3 make the operation use v3 for its later items. Every field is
  sent, unchanged ones with the values just read: whether a Control Room keeps or clears a
  field left out of the body is undocumented.
- ``DELETE /v3/wlm/queues/{queueId}/workitems/{id}`` → 204.

Which status may follow which (docs.automationanywhere.com, Automation 360 "WLM work item
lifecycle", 2025-09, and "Work item status and actions"): a person or the API may move
New → On hold, Completed, Failed; On hold → New, Completed, Failed; Failed → New, Completed,
On hold; Data error → New, Completed, On hold; Unknown → New, Completed, Failed. Ready to run
and Active cannot be edited (the system moves New → Ready to run → Active → Completed, Failed
or Unknown); Completed can only be deleted; Active cannot be deleted. The lifecycle page
names the client's move: a Failed item is "re-processed", an Unknown one "retried", by
setting it to New. So a re-queue asks for ``NEW``, never ``READY_TO_RUN`` (11.3's status
migration table, which let Data error and On hold move to Ready to run, is legacy). The code
and HTTP status of a refused transition are unconfirmed; the emulator answers 400
``WLM_STATUS_TRANSITION_NOT_ALLOWED``. A queue's own "Max auto retry attempt" setting (0–10,
default 0) re-queues failed items without a client; its API field is undocumented.

Lost answers: a PUT whose answer is lost is sent again with the *same* version. That is safe
only because of the lock: if the first one was applied (now, or late), the second gets 409 and
changes nothing. A 409 after such a loss is read as "maybe ours": the item is read again and
counts as done when it shows what was asked. A DELETE whose answer is lost is sent again too;
a 404 then means it was deleted (most likely by the lost one).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from airflow_provider_aa.control_room.errors import (
    AmbiguousOutcomeError,
    AutomationAnywhereError,
    InvalidInputError,
    WorkItemChangedError,
)
from airflow_provider_aa.control_room.exchange import ApiRequest, Operation, Sleep
from airflow_provider_aa.control_room.listing import MAX_PAGES, PageCursor, lookup, read_page
from airflow_provider_aa.control_room.progress import ProgressLog, duration, id_range, some_ids
from airflow_provider_aa.control_room.session import ControlRoomSession
from airflow_provider_aa.control_room.statuses import (
    WORK_ITEM_FAILURE_STATUSES,
    WORK_ITEM_SUCCESS_STATUSES,
    WORK_ITEM_WAITING_STATUSES,
    normalise_statuses,
)
from airflow_provider_aa.control_room.work_items import (
    PAGE_LENGTH,
    check_depth,
    list_request,
    normalise_work_item,
    path_id,
)

#: Newest first: v4 (Automation 360 v.34+); v3 where v4 answers 404.
UPDATE_VERSIONS = ("v4", "v3")
#: Sends of one PUT or DELETE whose answers got lost, before giving up.
MAX_CHANGE_ATTEMPTS = 3
#: What a re-queue sets: Ready to Run and Active are set by the system only (module docstring).
REQUEUE_STATUS = "NEW"
#: Answers that refuse the status asked for (not the version: that is 409).
_STATUS_REFUSALS = (400, 422)
#: Where a re-queued item can be by the time a later try looks: queued again, being worked,
#: or finished by a bot. An item held (``ON_HOLD``) or in another status was moved by someone
#: else, and is not reported as re-queued; one in a status the re-queue takes (still
#: ``FAILED``) only when a bot has worked it since it was listed (see :func:`_requeued_by_us`).
_REQUEUED_OR_WORKED = frozenset(WORK_ITEM_WAITING_STATUSES + WORK_ITEM_SUCCESS_STATUSES + WORK_ITEM_FAILURE_STATUSES)
#: Why an item chosen was not re-queued: the keys of ``RequeueProgress.skipped``.
SKIP_REASONS = ("changed", "refused", "gone")


# -- input ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkItemChange:
    """What an update asks for; ``None``: keep the item's value."""

    status: str | None = None
    result: str | None = None
    data: dict[str, Any] | None = None

    @classmethod
    def validate(cls, status: Any, result: Any, data: Any) -> WorkItemChange:
        """:raises InvalidInputError: naming the bad field, or when nothing is asked."""
        if status is not None and (not isinstance(status, str) or not status.strip()):
            raise InvalidInputError(f"status must be a non-empty status name such as 'NEW', got {status!r}.")
        if result is not None and not isinstance(result, str):
            raise InvalidInputError(f"result must be text, got {type(result).__name__}.")
        if data is not None:
            if not isinstance(data, Mapping) or not all(isinstance(key, str) and key for key in data):
                raise InvalidInputError(
                    "data must be a dict of the work item's attributes (non-empty string keys), "
                    f"got {type(data).__name__}."
                )
            check_depth(data, "data")
            try:
                data = json.loads(json.dumps(dict(data), allow_nan=False))
            except (TypeError, ValueError) as problem:
                raise InvalidInputError(f"data is not JSON-serializable: {problem}.") from None
        if status is None and result is None and data is None:
            raise InvalidInputError("Nothing to update: give status, result or data.")
        return cls(None if status is None else status.strip().upper(), result, data)

    def body(self, item: Mapping[str, Any], version: str) -> dict[str, Any]:
        """
        The PUT body: every field, the ones not asked for as ``item`` has them.

        :raises AutomationAnywhereError: ``item`` as read carries no data (``json``) while
            ``data`` keeps it: the update would send none and could clear it.
        """
        if self.data is None and not isinstance(item.get("json"), dict):
            raise AutomationAnywhereError(
                f"Work item {item.get('id')} as the Control Room listed it carries no data ('json'): not updated, "
                "as the update would send none and could clear the item's data. Give data= explicitly."
            )
        return {
            "version": version,
            "json": self.data if self.data is not None else item["json"],
            "result": self.result if self.result is not None else str(item.get("result") or ""),
            "status": self.status if self.status is not None else str(item.get("status") or ""),
        }

    def shown_by(self, item: Mapping[str, Any]) -> bool:
        """Whether ``item`` shows everything asked for."""
        return (
            (self.status is None or str(item.get("status") or "").upper() == self.status)
            and (self.result is None or item.get("result") == self.result)
            and (self.data is None or item.get("json") == self.data)
        )

    def describe(self) -> str:
        asked = {"status": self.status, "result": self.result, "data": self.data}
        return ", ".join(f"{name}={value!r}" for name, value in asked.items() if value is not None)


def validate_version(value: Any) -> str | None:
    """``None`` or a work item version (a whole number ≥ 0, int or digit string) as text."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and value.strip().isdigit():
        return str(int(value))
    raise InvalidInputError(f"version must be a whole number >= 0 (the item's 'version'), got {value!r}.")


def validate_requeue_statuses(values: Any) -> tuple[str, ...]:
    """
    The statuses whose items a re-queue takes: not empty, none of an item already queued or
    being worked (``NEW``, ``READY_TO_RUN``, ``ACTIVE``, ...): those would go round twice.
    """
    statuses = tuple(dict.fromkeys(normalise_statuses(values, "statuses")))
    if not statuses:
        raise InvalidInputError("statuses is empty: give at least one status, e.g. ['FAILED'].")
    waiting = [status for status in statuses if status in WORK_ITEM_WAITING_STATUSES]
    if waiting:
        raise InvalidInputError(
            f"statuses {waiting} are of items already queued or being worked on: re-queue items that "
            "finished or stopped, e.g. FAILED, UNKNOWN, ON_HOLD or DATA_ERROR."
        )
    return statuses


def validate_max_items(value: Any) -> int | None:
    """``None`` (no cap) or a whole number > 0 (also as digits: a rendered template is text)."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInputError(f"max_items must be a whole number > 0 or None (no cap), got {value!r}.")
    return value


# -- requests -----------------------------------------------------------------------------------


def update_request(api_version: str, queue_id: str, item_id: str, body: Mapping[str, Any]) -> ApiRequest:
    """Not replay-safe for the session: after a lost answer the caller re-sends and reads a 409 itself."""
    path = f"/{api_version}/wlm/queues/{path_id(queue_id, 'queue id')}/workitems/{path_id(item_id, 'work item id')}"
    return ApiRequest("PUT", path, dict(body), replay_safe=False)


def delete_request(queue_id: str, item_id: str) -> ApiRequest:
    """Not replay-safe for the session: a 404 after a lost answer means something else than before it."""
    path = f"/v3/wlm/queues/{path_id(queue_id, 'queue id')}/workitems/{path_id(item_id, 'work item id')}"
    return ApiRequest("DELETE", path, replay_safe=False)


def queue_request(queue_id: str) -> ApiRequest:
    return ApiRequest("GET", f"/v3/wlm/queues/{path_id(queue_id, 'queue id')}")


@dataclass
class UpdateApi:
    """Which API version takes updates: unknown until one answered; v4 first (see :data:`UPDATE_VERSIONS`)."""

    known: str | None = None

    def versions(self) -> tuple[str, ...]:
        return (self.known,) if self.known else UPDATE_VERSIONS


@dataclass(frozen=True)
class PutOutcome:
    """
    A PUT's end: the updated item (``None`` when the answer did not carry it), or a 409
    (``conflict``, with the Control Room's error) — ``maybe_ours`` when a send before it
    may have been applied.
    """

    item: dict[str, Any] | None = None
    conflict: AutomationAnywhereError | None = None
    maybe_ours: bool = False


# -- operations ---------------------------------------------------------------------------------


def read_work_item(session: ControlRoomSession, queue_id: str, item_id: str) -> Operation[dict[str, Any] | None]:
    """One item by id (the documented list call with an ``eq`` filter), ``None`` when the queue lacks it."""
    found = yield from lookup(session, queue_id, [item_id])
    return found.get(item_id)


def put_work_item(
    session: ControlRoomSession, queue_id: str, item_id: str, body: Mapping[str, Any], api: UpdateApi
) -> Operation[PutOutcome]:
    """
    Send one update, again (same version) after a lost answer, at most
    :data:`MAX_CHANGE_ATTEMPTS` times.

    :raises AutomationAnywhereError: a refusal other than 409 (e.g. 400 for a status the
        Control Room does not allow; 404 from every version: no such item), or no clear
        answer :data:`MAX_CHANGE_ATTEMPTS` times.
    """
    versions, index, attempts, maybe_ours = api.versions(), 0, 0, False
    while True:
        request = update_request(versions[index], queue_id, item_id, body)
        attempts += 1
        try:
            answer = yield from session.request_json(request)
        except AmbiguousOutcomeError as lost:
            maybe_ours = True
            yield from _before_sending_again(session, lost, attempts, f"Updating work item {item_id}", "changed")
            continue
        except AutomationAnywhereError as refused:
            if refused.status == 404 and index + 1 < len(versions):
                index += 1  # an older Control Room without this version of the call
                continue
            if refused.status not in (404, None):
                api.known = versions[index]
            if refused.status == 409:
                return PutOutcome(conflict=refused, maybe_ours=maybe_ours)
            raise
        api.known = versions[index]
        if isinstance(answer, dict) and "id" in answer:
            return PutOutcome(item=normalise_work_item(answer))
        return PutOutcome()


def update_work_item(
    session: ControlRoomSession,
    queue_id: str,
    item_id: str,
    change: WorkItemChange,
    *,
    version: str | None = None,
    api: UpdateApi | None = None,
) -> Operation[dict[str, Any]]:
    """
    Change an item's status, result and/or data under its version lock; return the item as
    the Control Room shows it afterwards.

    The item is read first (one list request): for its version (unless ``version`` is
    given, which must still be current) and for the fields not asked for. An item that
    already shows what is asked is returned without a write.

    :raises WorkItemChangedError: the item changed since ``version`` or since it was read
        (409), or it is gone; nothing was overwritten. After a lost answer a 409 is success
        when the item shows what was asked.
    :raises AutomationAnywhereError: the Control Room refused the change (e.g. 400 for a
        status its rules do not allow from the item's status, or an ACTIVE item).
    """
    item = yield from read_work_item(session, queue_id, item_id)
    if item is None:
        raise WorkItemChangedError.gone(queue_id, item_id, change.describe())
    current = str(item.get("version"))
    if version is not None and version != current:
        raise WorkItemChangedError.of(queue_id, item_id, change.describe(), version, item)
    if change.shown_by(item):
        return item
    try:
        put = yield from put_work_item(session, queue_id, item_id, change.body(item, current), api or UpdateApi())
    except AutomationAnywhereError as refused:
        if refused.status == 404:  # the item was there a moment ago: deleted meanwhile
            raise WorkItemChangedError.gone(queue_id, item_id, change.describe(), **refused.call_fields()) from None
        raise
    if put.conflict is None:
        if put.item is not None:
            return put.item
        after = yield from read_work_item(session, queue_id, item_id)
        if after is None:
            raise WorkItemChangedError.gone(queue_id, item_id, change.describe())
        return after
    now = yield from read_work_item(session, queue_id, item_id)
    if now is None:
        raise WorkItemChangedError.gone(queue_id, item_id, change.describe())
    if put.maybe_ours and change.shown_by(now):
        return now
    if str(now.get("version")) == current:
        raise put.conflict  # a 409 that is not about the version: the Control Room's own reason
    raise WorkItemChangedError.of(
        queue_id, item_id, change.describe(), current, now, maybe_ours=put.maybe_ours, **put.conflict.call_fields()
    )


def delete_work_items(
    session: ControlRoomSession, queue_id: str, item_ids: Sequence[str]
) -> Operation[dict[str, list[str]]]:
    """
    Delete items one request each, in order.

    :return: ``{"deleted": [ids], "absent": [ids]}``: ``absent`` are ids the queue did not
        hold (404 to the first send); an id whose first send got no clear answer and whose
        re-send got 404 counts as deleted.
    :raises AutomationAnywhereError: a refused delete (e.g. an ACTIVE item) or an unknown
        queue; the message says which ids were deleted before it.
    """
    deleted: list[str] = []
    absent: list[str] = []
    queue_checked = False
    for item_id in item_ids:
        try:
            gone = yield from _delete_one(session, queue_id, item_id)
            if not gone and not queue_checked:
                # An unknown queue answers 404 too: check it once, so that a wrong queue id is
                # not reported as "every item already absent".
                yield from session.request_json(queue_request(queue_id))
                queue_checked = True
        except AutomationAnywhereError as problem:
            raise AutomationAnywhereError(
                f"Deleting work item {item_id} of queue {queue_id} failed ({problem.summary}); deleted before it: "
                f"{deleted or 'none'}, already absent: {absent or 'none'}.",
                **problem.call_fields(),
            ) from problem
        (deleted if gone else absent).append(item_id)
    return {"deleted": deleted, "absent": absent}


def _delete_one(session: ControlRoomSession, queue_id: str, item_id: str) -> Operation[bool]:
    """``True`` when deleted (by this or a lost earlier send), ``False`` when the queue did not hold it."""
    request, attempt = delete_request(queue_id, item_id), 0
    while True:
        attempt += 1
        try:
            yield from session.request_json(request)
        except AmbiguousOutcomeError as lost:
            yield from _before_sending_again(session, lost, attempt, f"Deleting work item {item_id}", "deleted")
            continue
        except AutomationAnywhereError as refused:
            if refused.status == 404:
                return attempt > 1
            raise
        return True


def _before_sending_again(
    session: ControlRoomSession, lost: AmbiguousOutcomeError, sends: int, doing: str, done: str
) -> Operation[None]:
    """
    Wait before sending again a change whose answer was lost (its lock makes a second apply
    impossible); after :data:`MAX_CHANGE_ATTEMPTS` sends, give up saying it may be ``done``.
    """
    if sends >= MAX_CHANGE_ATTEMPTS:
        raise AutomationAnywhereError(
            f"{doing} got no clear answer {sends} times; it may or may not be {done}.", **lost.call_fields()
        ) from None
    yield Sleep(session.retry.delay(sends, None))


# -- re-queue -----------------------------------------------------------------------------------


@dataclass
class RequeueProgress:
    """
    How far a re-queue got, saved so that a later task try neither touches an item twice nor
    loses one.

    ``requeued``: ids re-queued so far, in order. ``after_id``: the highest id chosen so far;
    the next page is listed above it from offset 0 — items re-queued leave the listing, so
    offsets would skip some, ids never do. ``chosen``: the page being worked, ``[id, version,
    jobExecutionId]`` saved before its first write. ``pages``: the re-queued ids of each
    finished page. ``skipped``: ids not re-queued by reason (:data:`SKIP_REASONS`):
    ``changed`` (someone else changed or moved it after it was listed), ``refused``, ``gone``.

    Saved in parts: each finished page's re-queued ids once (part n), and a small header.
    """

    fingerprint: str
    requeued: list[str] = field(default_factory=list)
    pages: list[list[str]] = field(default_factory=list)
    chosen: list[list[str]] | None = None
    after_id: int = 0
    skipped: dict[str, list[str]] = field(default_factory=lambda: {reason: [] for reason in SKIP_REASONS})
    #: Saved in parts: the header counts them under this name (see ``tasks.state.SavedProgress``).
    PARTS: ClassVar[str] = "pages"

    def header(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "pages": len(self.pages),
            "chosen": self.chosen,
            "after_id": self.after_id,
            "skipped": self.skipped,
        }

    @classmethod
    def load(cls, header: Any, page: Callable[[int], Any], fingerprint: str) -> RequeueProgress:
        """The saved progress of the same re-queue (``page(n)``: the saved ids of page n), or a fresh start."""
        if not isinstance(header, dict) or header.get("fingerprint") != fingerprint:
            return cls(fingerprint)
        pages = []
        for number in range(int(header.get("pages") or 0)):
            ids = page(number)
            if not isinstance(ids, list):
                break
            pages.append([str(item_id) for item_id in ids])
        chosen = header.get("chosen")
        skipped = header.get("skipped")
        if not isinstance(skipped, dict):
            skipped = {}
        return cls(
            fingerprint,
            [item_id for ids in pages for item_id in ids],
            pages,
            # Saved before the job id was kept: [id, version] ("" = not known).
            [[str(value) for value in [*entry, ""][:3]] for entry in chosen] if isinstance(chosen, list) else None,
            int(header.get("after_id") or 0),
            {reason: [str(item_id) for item_id in skipped.get(reason) or []] for reason in SKIP_REASONS},
        )


def requeue_fingerprint(
    queue_id: str, statuses: Sequence[str], filter: Mapping[str, Any] | None, max_items: int | None
) -> str:
    """Identifies one re-queue's input, so that saved progress is only reused for the same one."""
    canonical = json.dumps([queue_id, list(statuses), filter, max_items], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def requeue_filter(statuses: Sequence[str], extra: Mapping[str, Any] | None, after_id: int) -> dict[str, Any]:
    """Items in ``statuses``, matching ``extra``, with ids above ``after_id``."""
    wanted = [{"operator": "eq", "field": "status", "value": status} for status in statuses]
    operands = [
        wanted[0] if len(wanted) == 1 else {"operator": "or", "operands": wanted},
        {"operator": "gt", "field": "id", "value": str(after_id)},
    ]
    if extra:
        operands.append(dict(extra))
    return {"operator": "and", "operands": operands}


def requeue_items(
    session: ControlRoomSession,
    queue_id: str,
    statuses: Sequence[str],
    *,
    filter: Mapping[str, Any] | None = None,
    max_items: int | None = None,
    progress: RequeueProgress | None = None,
    api: UpdateApi | None = None,
    save: Callable[[RequeueProgress], None] = lambda _: None,
    warn: Callable[[str], None] = lambda _: None,
    note: Callable[[str], None] = lambda _: None,
    clock: Callable[[], float] = lambda: 0.0,
) -> Operation[list[str]]:
    """
    Put the queue's items in ``statuses`` (and matching ``filter``) back into the queue:
    status ``NEW`` (see the module docstring). Pages of up to 100
    items by ascending id, each listed, saved (``save``), then updated one PUT each with the
    listed version; at most ``max_items`` items.

    An item that changed between listing and update (409), was deleted, or is refused
    (400/422) is skipped with a warning; the others go on. After a lost answer a 409
    is judged by the item as it is now, as is an item of ``progress`` from an earlier try whose
    version moved past the saved one (that try may have done it, and a bot may have worked it
    since): never touched again, counted as re-queued when it is queued, being worked or
    finished (in one of ``statuses``, e.g. still ``FAILED``, only with a bot run since it was
    listed), left out with a warning when someone else moved it elsewhere (``ON_HOLD``) or
    edited it. Items not re-queued are kept by reason in ``progress.skipped``.

    :param note: receives the progress after a page (at most one line per ``PROGRESS_EVERY``
        seconds on ``clock``: items re-queued, the id range, about how many are left, the rate)
        and one summary line at the end: the count, the lowest and highest id, and the ids
        not re-queued by reason.
    :param clock: seconds, for the rate and the time left (default: none shown).
    :return: the re-queued ids in ascending order, those of earlier tries included.
    :raises AutomationAnywhereError: a refusal other than the status fallback (e.g. 403).
    """
    progress = progress or RequeueProgress(requeue_fingerprint(queue_id, statuses, filter, max_items))
    api = api or UpdateApi()
    earlier = len(progress.requeued)
    log = ProgressLog(clock, note, done=earlier)
    while True:
        left: int | None = None
        if progress.chosen is None:
            room = PAGE_LENGTH if max_items is None else min(PAGE_LENGTH, max_items - len(progress.requeued))
            if room <= 0:
                break
            if len(progress.pages) >= MAX_PAGES:
                raise AutomationAnywhereError(
                    f"The re-queue of queue {queue_id} did not end after {len(progress.pages)} pages "
                    f"({len(progress.requeued)} items re-queued): stopped (items failing faster than they are "
                    "re-queued, or answers that never end). Give max_items to re-queue part of them."
                )
            cursor = PageCursor(
                list_request(queue_id, filter=requeue_filter(statuses, filter, progress.after_id), length=room)
            )
            listed = yield from read_page(session, cursor)
            if cursor.total is not None:
                left = max(0, cursor.total - len(listed))
                if max_items is not None:
                    left = min(left, max_items - len(progress.requeued) - len(listed))
            # Checked here too: a proxy that drops the filter must not re-queue finished items.
            listed = [
                item
                for item in listed
                if int(path_id(item["id"], "work item id")) > progress.after_id
                and str(item.get("status") or "").upper() in statuses
            ][:room]
            if not listed:
                break
            progress.chosen = [[item["id"], str(item.get("version")), _job(item)] for item in listed]
            progress.after_id = max(int(item["id"]) for item in listed)
            save(progress)
            items: dict[str, dict[str, Any]] = {item["id"]: item for item in listed}
            resumed, last_page = False, cursor.done
        else:
            # A page an earlier try chose and may have partly written: read it again.
            items = yield from lookup(session, queue_id, [entry[0] for entry in progress.chosen])
            resumed, last_page = True, False
        done: list[str] = []
        for item_id, version, job in progress.chosen:
            item = items.get(item_id)
            if item is None:
                warn(f"Work item {item_id} is no longer in queue {queue_id}: not re-queued.")
                outcome = "gone"
            elif resumed and str(item.get("version")) != version:
                # An earlier try's write, or someone else's: never touched twice.
                outcome = _requeued_by_us(item, statuses, job, warn)
            else:
                outcome = yield from _requeue_one(session, queue_id, item, statuses, api, warn, maybe_sent=resumed)
            if outcome == "requeued":
                done.append(item_id)
            elif item_id not in progress.skipped[outcome]:
                progress.skipped[outcome].append(item_id)
        progress.pages.append(done)
        progress.requeued += done
        progress.chosen = None
        save(progress)
        if log.due():
            left = 0 if last_page else left
            more = "" if left is None else f", about {left} more to go"
            text = (
                f"Re-queued {len(progress.requeued)} work item(s) of queue {queue_id} so far "
                f"({id_range(progress.requeued)}){more}"
            )
            log.step(len(progress.requeued), left, text)
        if last_page:
            break
    by_earlier = f", {earlier} of them by an earlier try" if earlier else ""
    skips = [f"{len(ids)} {SKIP_WORDS[reason]} ({some_ids(ids)})" for reason, ids in progress.skipped.items() if ids]
    not_requeued = f" Not re-queued: {'; '.join(skips)}." if skips else ""
    note(
        f"Re-queued {len(progress.requeued)} work item(s) of queue {queue_id} in {duration(log.elapsed())}"
        f"{by_earlier}: {id_range(progress.requeued)}.{not_requeued}"
    )
    return list(progress.requeued)


#: How the summary line names each skip reason.
SKIP_WORDS = {
    "changed": "changed by someone else after they were listed",
    "refused": "refused by the Control Room",
    "gone": "deleted meanwhile",
}


def _job(item: Mapping[str, Any]) -> str:
    """The bot run that last worked ``item`` (``jobExecutionId``), ``""`` when none is shown."""
    return str(item.get("jobExecutionId") or "")


def _requeue_one(
    session: ControlRoomSession,
    queue_id: str,
    item: Mapping[str, Any],
    statuses: Sequence[str],
    api: UpdateApi,
    warn: Callable[[str], None],
    *,
    maybe_sent: bool,
) -> Operation[str]:
    """
    What became of ``item`` (as listed): ``requeued`` or a skip reason (:data:`SKIP_REASONS`).
    ``maybe_sent``: an earlier try may have sent this update already.
    """
    item_id, version = str(item["id"]), str(item.get("version"))
    change = WorkItemChange(status=REQUEUE_STATUS)
    try:
        put = yield from put_work_item(session, queue_id, item_id, change.body(item, version), api)
    except AutomationAnywhereError as refused:
        if refused.status in _STATUS_REFUSALS:
            # This item, whatever the others: skipped, so that it does not stop the rest (or every retry).
            reason = f"{refused.code or refused.status}: {refused.message or refused.details or 'no reason given'}"
            warn(f"The Control Room refused to re-queue work item {item_id} ({reason}): not re-queued.")
            return "refused"
        if refused.status == 404:
            warn(f"Work item {item_id} is no longer in queue {queue_id}: not re-queued.")
            return "gone"
        raise
    if put.conflict is None:
        return "requeued"
    if put.maybe_ours or maybe_sent:
        # The lost send may have been applied: the item as it is now tells.
        now = (yield from lookup(session, queue_id, [item_id])).get(item_id)
        if now is None:
            warn(f"Work item {item_id} is no longer in queue {queue_id}: not re-queued.")
            return "gone"
        return _requeued_by_us(now, statuses, _job(item), warn)
    warn(
        f"Work item {item_id} changed after it was listed (version {version} is stale): not re-queued. "
        f"Control Room said: {put.conflict.message or put.conflict.code or put.conflict.status}"
    )
    return "changed"


def _requeued_by_us(
    item: Mapping[str, Any], statuses: Sequence[str], listed_job: str, warn: Callable[[str], None]
) -> str:
    """
    ``requeued`` when ``item``, whose version moved after an update of ours may have been
    applied, shows a re-queue (or a bot's work after it), else ``changed``: someone else
    moved it, or edited it and it is still in a status the re-queue takes (``FAILED``) with
    no bot run since it was listed (the same ``jobExecutionId``) — our update never applied.
    """
    status = str(item.get("status") or "").upper()
    worked_since = _job(item) not in ("", listed_job)
    if status in _REQUEUED_OR_WORKED and (status not in statuses or worked_since):
        return "requeued"
    if status in statuses:
        warn(
            f"Work item {item['id']} changed while this re-queue may have updated it, and is still {status} with "
            "no bot run since it was listed: someone else changed it, and this update was never applied. Not "
            "counted as re-queued."
        )
    else:
        shown = status or "without a status"
        warn(
            f"Work item {item['id']} changed while this re-queue may have updated it, and is now {shown}: someone "
            "else moved it. Not counted as re-queued."
        )
    return "changed"
