"""Users, sessions, queues and work items, and how they are shown in answers."""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass, field
from typing import Any

#: Number of ``colN`` display columns on every work item.
DISPLAY_COLUMNS = 5

#: Seed keys of a user that are credentials or settings, never shown in answers.
_PRIVATE_USER_KEYS = ("password", "apiKey", "allowMultipleLogin")


def instant(timestamp: float) -> str:
    """An ISO-8601 instant with nanoseconds and ``Z``, as the Control Room writes them."""
    seconds, nanos = divmod(int(timestamp * 1_000_000_000), 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{nanos:09d}Z"


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
    """

    id: int
    queue_id: int
    data: dict[str, Any]
    created_by: int
    created_on: float
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
    waiting_since: float | None = field(init=False)
    active_since: float | None = None

    def __post_init__(self) -> None:
        self.updated_by = self.created_by
        self.updated_on = self.created_on
        self.waiting_since = self.created_on

    def touch(self, by: int, at: float) -> None:
        """Record a change: a new version, who and when."""
        self.version += 1
        self.updated_by = by
        self.updated_on = at

    def public(self, numeric_ids: bool) -> dict[str, Any]:
        values = list(self.data.values())[:DISPLAY_COLUMNS]
        columns = {f"col{n + 1}": _text(values[n]) if n < len(values) else "" for n in range(DISPLAY_COLUMNS)}
        return {
            "id": _number(self.id, numeric_ids),
            "queueId": _number(self.queue_id, numeric_ids),
            "version": _number(self.version, numeric_ids),
            "status": self.status,
            "json": copy.deepcopy(self.data),
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
            "createdOn": instant(self.created_on),
            "updatedBy": _number(self.updated_by, numeric_ids),
            "updatedOn": instant(self.updated_on),
        }


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)
