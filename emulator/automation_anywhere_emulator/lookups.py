"""
What the Control Room lists so that clients can find ids by name: run-as users, device
pools and the repository's files (folders and task bots). Work queues are listed by
:meth:`.state.ControlRoomState.list_queues`.

All three lists take the list grammar of :mod:`.filters` (``filter`` on any field, e.g.
``eq`` on ``username`` or ``name``, ``sort``, ``page``) and answer ``{"page", "list"}``.

- ``POST /v1/devices/runasusers/list``: the seed's ``runAsUsers``, each ``{"id", "username",
  "domain", "firstName", "lastName", "email", "description", "disabled"}``.
- ``POST /v2/devices/pools/list``: the seed's ``pools``, each ``{"id", "name",
  "description", "automationPriority", "deviceCount", ...}``.
- ``POST /v2/repository/workspaces/{public|private}/files/list``: the workspace's task
  bots (``type`` ``application/vnd.aa.taskbot``), API tasks (seeded ``"apiTask": true``,
  ``type`` ``application/vnd.aa.headlessbot``) and every folder above them
  (``application/vnd.aa.directory``), each ``{"id", "parentId", "name", "path", "type",
  ...}`` with the path Windows-style from the root, as the Control Room writes it:
  ``Automation Anywhere\\Bots\\Finance\\Invoice Processor``. The public workspace holds the
  seed's ``bots`` (the ones that deploy); the private one of the caller holds the seed's
  ``privateBots`` whose ``owner`` is the caller's username (they do not deploy). Folder ids
  count up from :data:`FOLDER_IDS`, in path order.

Names are kept exactly as seeded, as the Control Room keeps what was typed: ``"Invoices "``
next to ``"Invoices"``, a pool name ending in a non-breaking space. A seed path starts at the
root, which is added when it does not (``Bots/Report`` is ``Automation Anywhere\\Bots\\Report``);
a top-level folder named like the root follows it: ``Automation Anywhere/Automation
Anywhere/Report``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from automation_anywhere_emulator.models import instant

TASK_BOT = "application/vnd.aa.taskbot"
#: An API task's file type (PixieBrix's client lists them by it: pixiebrix/pixiebrix-extension,
#: src/contrib/automationanywhere/contract.ts, ``FileType.API_TASK``).
API_TASK = "application/vnd.aa.headlessbot"
FOLDER = "application/vnd.aa.directory"
ROOT = "Automation Anywhere"
#: The first id of the folders the emulator makes up from the bots' paths.
FOLDER_IDS = 9001


def windows_path(path: str) -> str:
    """A seed path (``/`` or ``\\``) as the Control Room shows it: backslashes, from the root."""
    folders = [part for part in path.replace("\\", "/").split("/") if part]
    if not folders or folders[0] != ROOT:
        folders.insert(0, ROOT)
    return "\\".join(folders)


def _number(value: int, numeric_ids: bool) -> int | str:
    return value if numeric_ids else str(value)


@dataclass(frozen=True)
class RunAsUser:
    id: int
    username: str
    profile: dict[str, Any]

    @classmethod
    def from_seed(cls, entry: Mapping[str, Any]) -> RunAsUser:
        profile = {key: value for key, value in entry.items() if key not in ("id", "username")}
        return cls(int(entry["id"]), str(entry["username"]), profile)

    def public(self, numeric_ids: bool) -> dict[str, Any]:
        return {
            "id": _number(self.id, numeric_ids),
            "username": self.username,
            "domain": str(self.profile.get("domain", "")),
            "firstName": str(self.profile.get("firstName", "")),
            "lastName": str(self.profile.get("lastName", "")),
            "email": str(self.profile.get("email", "")),
            "description": str(self.profile.get("description", "")),
            "disabled": bool(self.profile.get("disabled", False)),
        }


@dataclass(frozen=True)
class Pool:
    id: int
    name: str
    description: str
    device_ids: tuple[int, ...]

    @classmethod
    def from_seed(cls, entry: Mapping[str, Any]) -> Pool:
        return cls(
            int(entry["id"]),
            str(entry["name"]),
            str(entry.get("description", "")),
            tuple(int(device) for device in entry.get("deviceIds") or ()),
        )

    def public(self, numeric_ids: bool, created_on: float) -> dict[str, Any]:
        return {
            "id": _number(self.id, numeric_ids),
            "name": self.name,
            "description": self.description,
            "automationPriority": "PRIORITY_MEDIUM",
            "deviceCount": _number(len(self.device_ids), numeric_ids),
            "createdOn": instant(created_on),
            "updatedOn": instant(created_on),
        }


@dataclass(frozen=True)
class RepositoryFile:
    """A bot as the files list shows it; ``owner``: whose private workspace holds it (``None``: public)."""

    id: int
    name: str
    path: str  # Windows-style, from the root
    owner: str | None = None
    type: str = TASK_BOT


def bot_file(bot_id: int, path: str, owner: str | None = None, kind: str = TASK_BOT) -> RepositoryFile:
    shown = windows_path(path)
    return RepositoryFile(bot_id, shown.rsplit("\\", 1)[-1], shown, owner, kind)


@dataclass(frozen=True)
class Directory:
    """The seed's run-as users, device pools and private bots; public bots are the deployable ones."""

    run_as_users: tuple[RunAsUser, ...]
    pools: tuple[Pool, ...]
    private_bots: tuple[RepositoryFile, ...]
    created_by: int
    created_on: float

    @classmethod
    def from_seed(cls, seed: Mapping[str, Any], created_by: int, created_on: float) -> Directory:
        return cls(
            tuple(sorted(map(RunAsUser.from_seed, seed.get("runAsUsers") or []), key=lambda user: user.id)),
            tuple(sorted(map(Pool.from_seed, seed.get("pools") or []), key=lambda pool: pool.id)),
            tuple(
                bot_file(int(entry["id"]), str(entry["path"]), str(entry["owner"]))
                for entry in seed.get("privateBots") or []
            ),
            created_by,
            created_on,
        )

    def run_as_user_records(self, numeric_ids: bool) -> list[dict[str, Any]]:
        return [user.public(numeric_ids) for user in self.run_as_users]

    def pool_records(self, numeric_ids: bool) -> list[dict[str, Any]]:
        return [pool.public(numeric_ids, self.created_on) for pool in self.pools]

    def file_records(
        self, workspace: str, username: str, public_bots: Iterable[RepositoryFile], numeric_ids: bool
    ) -> list[dict[str, Any]]:
        """The files list of ``workspace`` (``public``, or ``private`` of ``username``)."""
        if workspace == "public":
            bots = sorted(public_bots, key=lambda bot: bot.id)
        else:
            bots = [bot for bot in self.private_bots if bot.owner == username]
        return _workspace_records(bots, workspace, numeric_ids, self.created_by, self.created_on)


def _workspace_records(
    bots: list[RepositoryFile], workspace: str, numeric_ids: bool, created_by: int, created_on: float
) -> list[dict[str, Any]]:
    """The bots and every folder above them, folders first."""
    folder_paths = sorted(
        {"\\".join(bot.path.split("\\")[:end]) for bot in bots for end in range(1, bot.path.count("\\") + 1)}
    )
    folder_ids = {path: FOLDER_IDS + index for index, path in enumerate(folder_paths)}

    def record(file_id: int, name: str, path: str, kind: str) -> dict[str, Any]:
        parent = path.rsplit("\\", 1)[0] if "\\" in path else ""
        return {
            "id": _number(file_id, numeric_ids),
            "parentId": _number(folder_ids.get(parent, 0), numeric_ids),
            "name": name,
            "path": path,
            "type": kind,
            "size": _number(0 if kind == FOLDER else 4096, numeric_ids),
            "folder": kind == FOLDER,
            "workspaceType": workspace.upper(),
            "lastModifiedBy": _number(created_by, numeric_ids),
            "lastModified": instant(created_on),
        }

    folders = [record(folder_ids[path], path.rsplit("\\", 1)[-1], path, FOLDER) for path in folder_paths]
    return folders + [record(bot.id, bot.name, bot.path, bot.type) for bot in bots]
