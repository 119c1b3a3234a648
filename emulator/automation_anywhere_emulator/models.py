"""Users, sessions, queues and work items, and how they are shown in answers."""

from __future__ import annotations

import copy
import functools
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from automation_anywhere_emulator.responses import ApiError, bad_request

#: Number of ``colN`` display columns on every work item.
DISPLAY_COLUMNS = 5

#: Largest id or version the Control Room takes (a Java ``long``).
MAX_LONG = 2**63 - 1

#: ``createdBy`` of the items other producers add (``busy_queues``): nobody in the seed.
OTHER_PRODUCER = 90

#: Seed keys of a user that are credentials or settings, never shown in answers.
_PRIVATE_USER_KEYS = ("password", "apiKey", "allowMultipleLogin")


def instant(timestamp: float) -> str:
    """An ISO-8601 instant with nanoseconds and ``Z``, as the Control Room writes them."""
    seconds, nanos = divmod(int(timestamp * 1_000_000_000), 1_000_000_000)
    return f"{_second(seconds)}.{nanos:09d}Z"


@functools.lru_cache(maxsize=4096)
def _second(seconds: int) -> str:
    # Cached: items made together (a batch, a busy queue) share their second.
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def require_version(body: dict[str, Any], current: int, subject: str, conflict_code: str) -> None:
    """
    The optimistic lock of an update: 400 when ``body["version"]`` is not a number, 409 with
    ``conflict_code`` when it is not ``current`` (``subject`` says what changed, e.g. "Work item 7").
    """
    version = as_long(body["version"], "version")
    if version is None:
        raise bad_request(f"version must be a number, not {body['version']!r}")
    if version != current:
        raise ApiError(
            409,
            conflict_code,
            f"{subject} was changed meanwhile: its version is {current}, not {body['version']}",
            f"Read the {subject.split()[0].lower()} again and retry the update with its current version",
        )


def as_long(value: Any, name: str) -> int | None:
    """
    ``value`` as an int when it is one or a string of ASCII digits, else ``None``; 400
    naming ``name`` when it is beyond :data:`MAX_LONG`.
    """
    if isinstance(value, str) and value.isascii() and value.isdigit():
        if len(value.lstrip("0")) > len(str(MAX_LONG)):  # before int(): past 4300 digits int() raises
            raise bad_request(f"{name} is out of range: at most {MAX_LONG}")
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    if abs(value) > MAX_LONG:
        raise bad_request(f"{name} is out of range: at most {MAX_LONG}")
    return value


def _number(value: int, numeric_ids: bool) -> int | str:
    return value if numeric_ids else str(value)


@dataclass(frozen=True)
class User:
    id: int
    username: str
    password: str | None
    api_key: str | None
    allow_multiple_login: bool
    profile: dict[str, Any]

    @classmethod
    def from_seed(cls, entry: dict[str, Any]) -> User:
        profile = {key: value for key, value in entry.items() if key not in _PRIVATE_USER_KEYS}
        return cls(
            id=int(entry["id"]),
            username=str(entry["username"]),
            password=entry.get("password"),
            api_key=entry.get("apiKey"),
            allow_multiple_login=bool(entry.get("allowMultipleLogin", True)),
            profile=profile,
        )

    def public(self) -> dict[str, Any]:
        return {**copy.deepcopy(self.profile), "id": self.id, "username": self.username}


#: Why a session ended.
EVICTED = "evicted"
LOGGED_OUT = "logged out"


@dataclass
class Session:
    id: str
    user: User
    multiple: bool
    ended: str | None = None


@dataclass(frozen=True)
class Queue:
    id: int
    name: str
    description: str
    disallow_duplicate: bool
    auto_retry_limit: int
    work_item_model_id: int
    created_by: int
    created_on: float

    @classmethod
    def from_seed(cls, entry: dict[str, Any], created_by: int, created_on: float) -> Queue:
        return cls(
            id=int(entry["id"]),
            name=str(entry["name"]),
            description=str(entry.get("description", "")),
            disallow_duplicate=bool(entry.get("disallowDuplicate", False)),
            auto_retry_limit=int(entry.get("autoRetryLimit", 0)),
            work_item_model_id=int(entry.get("workItemModelId", 0)),
            created_by=created_by,
            created_on=created_on,
        )

    def public(self, numeric_ids: bool) -> dict[str, Any]:
        return {
            "id": _number(self.id, numeric_ids),
            "name": self.name,
            "description": self.description,
            "disallowDuplicate": self.disallow_duplicate,
            "autoRetryLimit": _number(self.auto_retry_limit, numeric_ids),
            "workItemModelId": _number(self.work_item_model_id, numeric_ids),
            "version": _number(0, numeric_ids),
            "createdBy": _number(self.created_by, numeric_ids),
            "createdOn": instant(self.created_on),
            "updatedBy": _number(self.created_by, numeric_ids),
            "updatedOn": instant(self.created_on),
        }


@dataclass
class WorkItem:
    """
    A work item. ``waiting_since`` is when it became NEW for the emulated bot (``None``: the
    bot ignores it); ``active_since`` is when the bot took it (``None``: not the bot's).
    Those two are on the emulator's base clock, ``created_on`` and ``updated_on`` on the
    Control Room's, as shown (see :mod:`.clock`).
    """

    id: int
    queue_id: int
    data: dict[str, Any]
    created_by: int
    created_on: float
    waiting_since: float | None
    status: str = "NEW"
    version: int = 0
    result: str = ""
    error: str = ""
    comment: str = ""
    device_id: int = 0
    device_user_id: int = 0
    automation_id: int = 0
    job_execution_id: str = ""
    updated_by: int = field(init=False)
    updated_on: float = field(init=False)
    active_since: float | None = None
    #: How often any item was created or changed its ``updated_on``: an index by that time
    #: (:mod:`.item_lists`) is valid while this and its queue's size stay the same.
    changes: ClassVar[int] = 0

    def __post_init__(self) -> None:
        self.updated_by = self.created_by
        self.updated_on = self.created_on
        WorkItem.changes += 1

    def touch(self, by: int, at: float) -> None:
        """Record a change: a new version, who and when."""
        self.version += 1
        self.updated_by = by
        self.updated_on = at
        WorkItem.changes += 1

    def public(self, numeric_ids: bool) -> dict[str, Any]:
        """The item as answers show it (a copy); :class:`ItemRecord` reads the same one field at a time."""
        values = list(self.data.values())[:DISPLAY_COLUMNS]
        columns = {f"col{n + 1}": _text(values[n]) if n < len(values) else "" for n in range(DISPLAY_COLUMNS)}
        created_on = instant(self.created_on)
        return {
            "id": _number(self.id, numeric_ids),
            "queueId": _number(self.queue_id, numeric_ids),
            "version": _number(self.version, numeric_ids),
            "status": self.status,
            "json": _copy_json(self.data),
            "result": self.result,
            "error": self.error,
            "comment": self.comment,
            **columns,
            "deviceId": _number(self.device_id, numeric_ids),
            "deviceUserId": _number(self.device_user_id, numeric_ids),
            "automationId": _number(self.automation_id, numeric_ids),
            "jobExecutionId": self.job_execution_id,
            "totalPausedTime": _number(0, numeric_ids),
            "createdBy": _number(self.created_by, numeric_ids),
            "createdOn": created_on,
            "updatedBy": _number(self.updated_by, numeric_ids),
            "updatedOn": created_on if self.updated_on == self.created_on else instant(self.updated_on),
        }

    def record(self, numeric_ids: bool) -> ItemRecord:
        """The item as answers show it, read field by field (for filters and sorts)."""
        return ItemRecord(self, numeric_ids)


class ItemRecord(Mapping[str, Any]):
    """
    What :meth:`WorkItem.public` gives, computed one field at a time when asked: a filter
    or sort over a big queue reads a field or two per item, not whole copied records.
    ``json`` is the item's own data, not a copy: read it, never change it. (Tests check
    that both agree.)
    """

    __slots__ = ("_item", "_numeric_ids")

    def __init__(self, item: WorkItem, numeric_ids: bool) -> None:
        self._item = item
        self._numeric_ids = numeric_ids

    def __getitem__(self, name: str) -> Any:
        return _ITEM_FIELDS[name](self._item, self._numeric_ids)

    def __contains__(self, name: object) -> bool:
        return name in _ITEM_FIELDS

    def __iter__(self) -> Iterator[str]:
        return iter(_ITEM_FIELDS)

    def __len__(self) -> int:
        return len(_ITEM_FIELDS)


def _column(index: int) -> Callable[[WorkItem, bool], str]:
    def read(item: WorkItem, numeric_ids: bool) -> str:
        values = list(item.data.values())[:DISPLAY_COLUMNS]
        return _text(values[index]) if index < len(values) else ""

    return read


#: A work item's fields as answers show them, in answer order.
_ITEM_FIELDS: dict[str, Callable[[WorkItem, bool], Any]] = {
    "id": lambda item, numeric: _number(item.id, numeric),
    "queueId": lambda item, numeric: _number(item.queue_id, numeric),
    "version": lambda item, numeric: _number(item.version, numeric),
    "status": lambda item, numeric: item.status,
    "json": lambda item, numeric: item.data,
    "result": lambda item, numeric: item.result,
    "error": lambda item, numeric: item.error,
    "comment": lambda item, numeric: item.comment,
    **{f"col{n + 1}": _column(n) for n in range(DISPLAY_COLUMNS)},
    "deviceId": lambda item, numeric: _number(item.device_id, numeric),
    "deviceUserId": lambda item, numeric: _number(item.device_user_id, numeric),
    "automationId": lambda item, numeric: _number(item.automation_id, numeric),
    "jobExecutionId": lambda item, numeric: item.job_execution_id,
    "totalPausedTime": lambda item, numeric: _number(0, numeric),
    "createdBy": lambda item, numeric: _number(item.created_by, numeric),
    "createdOn": lambda item, numeric: instant(item.created_on),
    "updatedBy": lambda item, numeric: _number(item.updated_by, numeric),
    "updatedOn": lambda item, numeric: instant(item.updated_on),
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if type(value) in (int, float):  # what json.dumps writes for them (no NaN in item data), faster
        return repr(value)
    return json.dumps(value)


def _copy_json(value: Any) -> Any:
    """A copy of JSON data (``copy.deepcopy`` is several times slower on it)."""
    if isinstance(value, dict):
        return {key: _copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_json(item) for item in value]
    return value
