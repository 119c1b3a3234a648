"""
Roles of the emulated Control Room: the User Management API's role calls, v1 and v2.

======================================  ==========================================================
call                                    behaviour
======================================  ==========================================================
``POST /v1|v2/usermanagement/roles/list``  the list grammar of :mod:`.filters` over the roles
``GET /v1|v2/usermanagement/roles/{id}``   one role; 404 ``UM_ROLE_NOT_FOUND``
``POST /v1|v2/usermanagement/roles``       create: ``name`` (unique: 409 ``UM_ROLE_ALREADY_EXISTS``),
                                           ``description``, ``permissions``, ``principals``,
                                           ``existingRepositoryPermissions``
``PUT /v1|v2/usermanagement/roles/{id}``   replace the role: what the body leaves out is gone
                                           (``principals`` too: the role's users lose it;
                                           ``existingRepositoryPermissions``: its folder
                                           rights); a ``version`` other than the role's → 409
                                           ``UM_ROLE_VERSION_CONFLICT``
======================================  ==========================================================

A role is ``{"id", "name", "description", "permissions": [{"id", "action", "resourceType",
"resourceId"}], "principals": [{"id"}], "existingRepositoryPermissions": [...], "version",
"createdBy", "createdOn", "updatedBy", "updatedOn"}`` with numeric ids, as AA's examples show.
A permission sent without ``id`` gets the number this Control Room knows it by (one per action
and resource type). ``existingRepositoryPermissions`` (AA's update-role page: the update body
carries it) is a list of objects whose fields AA does not document: the emulator keeps them as
sent, and an update that leaves them out removes them.

``roles_v1_enabled`` / ``roles_v2_enabled`` (:class:`.config.EmulatorConfig`) switch a version
off (404, as for any missing API): a Control Room without the v2 paths (only a public script
uses them), or one without v1.

Who may: a user seeded without ``roles``, one with the ``AAE_Admin`` role, or a principal of a
role with the ``rolesmanagement`` permission; anyone else gets 403 ``UM_ACCESS_DENIED`` (for
reading roles too). Roles come from the seed's ``roles`` and the ``roles`` of its users (who
become their principals); the emulator's choices where AA's docs are silent: the error codes,
the version check, and a PUT that replaces every field.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from automation_anywhere_emulator.config import EmulatorConfig
from automation_anywhere_emulator.models import Session, as_long, instant, require_version
from automation_anywhere_emulator.responses import ApiError, bad_request

ROLE_NOT_FOUND = "UM_ROLE_NOT_FOUND"
ROLE_EXISTS = "UM_ROLE_ALREADY_EXISTS"
ROLE_VERSION_CONFLICT = "UM_ROLE_VERSION_CONFLICT"
NO_ROLE_PERMISSION = "UM_ACCESS_DENIED"
#: Seeded role names whose users may manage roles.
ADMIN_ROLES = frozenset({"AAE_Admin"})
#: The permission that lets a role's principals manage roles (AA: "Manage roles").
MANAGE_ROLES = ("rolesmanagement", "rolesmanagement")
#: The longest name and description (AA 11.3 "Create a new role": 255 characters).
MAX_TEXT = 255
#: Numbers of permissions first sent without an ``id`` start here.
FIRST_PERMISSION_ID = 1000


def check_api(path: str, config: EmulatorConfig) -> None:
    """404 when the User Management API version of ``path`` (``/v1/...``, ``/v2/...``) is switched off."""
    version = path.split("/", 2)[1]
    enabled = config.roles_v1_enabled if version == "v1" else config.roles_v2_enabled
    if not enabled:
        raise ApiError(404, "NOT_FOUND", f"No API at {path}", f"The {version} User Management API is not available")


@dataclass
class Role:
    id: int
    name: str
    description: str
    permissions: list[dict[str, Any]]
    principals: list[int]
    repository_permissions: list[dict[str, Any]]
    version: int
    created_by: int
    created_on: float
    updated_by: int
    updated_on: float

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "permissions": copy.deepcopy(self.permissions),
            "principals": [{"id": user_id} for user_id in self.principals],
            "existingRepositoryPermissions": copy.deepcopy(self.repository_permissions),
            "version": self.version,
            "createdBy": self.created_by,
            "createdOn": instant(self.created_on),
            "updatedBy": self.updated_by,
            "updatedOn": instant(self.updated_on),
        }


class RoleStore:
    """The roles and the permission numbers of one Control Room; the caller holds the lock."""

    def __init__(self) -> None:
        self._roles: dict[int, Role] = {}
        self._permission_ids: dict[tuple[str, str], int] = {}
        self._new_permission_ids = itertools.count(FIRST_PERMISSION_ID)

    @classmethod
    def from_seed(cls, seed: Mapping[str, Any], created_by: int, now: float) -> RoleStore:
        store = cls()
        members: dict[int, list[int]] = {}
        names: dict[int, str] = {}
        for user in seed["users"]:
            for entry in user.get("roles") or []:
                members.setdefault(int(entry["id"]), []).append(int(user["id"]))
                names.setdefault(int(entry["id"]), str(entry["name"]))
        seeded = {int(entry["id"]): entry for entry in seed.get("roles", [])}
        for role_id in sorted({*seeded, *names}):
            entry = seeded.get(role_id, {})
            permissions = [
                store._permission(item, f"roles[{role_id}].permissions") for item in entry.get("permissions", [])
            ]
            store._roles[role_id] = Role(
                id=role_id,
                name=str(entry.get("name", names.get(role_id))),
                description=str(entry.get("description", "")),
                permissions=permissions,
                principals=members.get(role_id, []),
                repository_permissions=copy.deepcopy(list(entry.get("existingRepositoryPermissions", []))),
                version=0,
                created_by=created_by,
                created_on=now,
                updated_by=created_by,
                updated_on=now,
            )
        return store

    def require_admin(self, session: Session) -> None:
        """403 unless the session's user may view and manage roles (see the module's docstring)."""
        seeded = session.user.profile.get("roles")
        if not isinstance(seeded, list):
            return
        if any(isinstance(role, dict) and role.get("name") in ADMIN_ROLES for role in seeded):
            return
        for role in self._roles.values():
            if session.user.id in role.principals and any(
                (entry["action"], entry["resourceType"]) == MANAGE_ROLES for entry in role.permissions
            ):
                return
        raise ApiError(
            403,
            NO_ROLE_PERMISSION,
            f"User {session.user.username!r} may not view or manage roles",
            "Needs the AAE_Admin role, or a role with View roles and Manage roles",
        )

    def records(self) -> list[dict[str, Any]]:
        return [role.public() for role in sorted(self._roles.values(), key=lambda role: role.id)]

    def get(self, role_id: str) -> dict[str, Any]:
        return self._role(role_id).public()

    def create(self, session: Session, body: Any, now: float, changing: Callable[[], None]) -> dict[str, Any]:
        fields = self._fields(body)
        self._unique(fields["name"], None)
        changing()
        role = Role(
            id=max(self._roles, default=0) + 1,
            version=0,
            created_by=session.user.id,
            created_on=now,
            updated_by=session.user.id,
            updated_on=now,
            **fields,
        )
        self._roles[role.id] = role
        return role.public()

    def update(
        self, session: Session, role_id: str, body: Any, now: float, changing: Callable[[], None]
    ) -> dict[str, Any]:
        role = self._role(role_id)
        fields = self._fields(body)
        if "version" in body:
            require_version(body, role.version, f"Role {role.id}", ROLE_VERSION_CONFLICT)
        self._unique(fields["name"], role.id)
        changing()
        for name, value in fields.items():
            setattr(role, name, value)
        role.version += 1
        role.updated_by, role.updated_on = session.user.id, now
        return role.public()

    def _role(self, role_id: str) -> Role:
        number = as_long(role_id, "id")
        role = self._roles.get(number) if number is not None else None
        if role is None:
            raise ApiError(404, ROLE_NOT_FOUND, f"Role {role_id} not found")
        return role

    def _unique(self, name: str, own_id: int | None) -> None:
        if any(role.name == name and role.id != own_id for role in self._roles.values()):
            raise ApiError(409, ROLE_EXISTS, f"A role named {name!r} already exists", "Role names are unique")

    def _fields(self, body: Any) -> dict[str, Any]:
        """The role's fields from a create or update body (what it leaves out is empty); 400 for bad ones."""
        if not isinstance(body, dict):
            raise bad_request("The role body must be a JSON object with name, description, permissions, principals")
        name = body.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_TEXT:
            raise bad_request(f"name must be text of 1 to {MAX_TEXT} characters")
        description = body.get("description") or ""
        if not isinstance(description, str) or len(description) > MAX_TEXT:
            raise bad_request(f"description must be text of at most {MAX_TEXT} characters")
        permissions = body.get("permissions") or []
        principals = body.get("principals") or []
        repository = body.get("existingRepositoryPermissions") or []
        if not isinstance(permissions, list) or not isinstance(principals, list) or not isinstance(repository, list):
            raise bad_request("permissions, principals and existingRepositoryPermissions must be lists")
        if not all(isinstance(entry, dict) for entry in repository):
            raise bad_request("existingRepositoryPermissions must be a list of objects")
        checked = [self._permission(entry, f"permissions[{index}]") for index, entry in enumerate(permissions)]
        members = []
        for index, entry in enumerate(principals):
            user_id = as_long(entry.get("id"), f"principals[{index}].id") if isinstance(entry, dict) else None
            if user_id is None:
                raise bad_request(f"principals[{index}] must be an object with the user's numeric id")
            members.append(user_id)
        return {
            "name": name,
            "description": description,
            "permissions": checked,
            "principals": list(dict.fromkeys(members)),
            "repository_permissions": copy.deepcopy(repository),
        }

    def _permission(self, entry: Any, where: str) -> dict[str, Any]:
        if not isinstance(entry, dict):
            raise bad_request(f"{where} must be an object with action and resourceType")
        action, kind = entry.get("action"), entry.get("resourceType")
        if not isinstance(action, str) or not action or not isinstance(kind, str) or not kind:
            raise bad_request(f"{where} needs action and resourceType as text")
        known = self._permission_ids.get((action, kind))
        given = None if entry.get("id") is None else as_long(entry["id"], f"{where}.id")
        if entry.get("id") is not None and given is None:
            raise bad_request(f"{where}.id must be a number")
        resource = entry.get("resourceId")
        resource_id = None if resource in (None, "") else as_long(resource, f"{where}.resourceId")
        if resource not in (None, "") and resource_id is None:
            raise bad_request(f"{where}.resourceId must be a number or null")
        number = given if given is not None else known if known is not None else next(self._new_permission_ids)
        self._permission_ids.setdefault((action, kind), number)
        return {"id": number, "action": action, "resourceType": kind, "resourceId": resource_id}
