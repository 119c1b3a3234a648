"""
Roles: making sure the Control Room has a role with a given set of permissions.

The User Management API (AA docs: "Create role", "Update role", "Retrieve role by ID",
"Roles and permissions", Automation 360; 11.3 "Create a new role"):

==========================================  ====================================================
call                                        use here
==========================================  ====================================================
``POST /v1/usermanagement/roles/list``      find the role by name (``eq`` on ``name``, then an
                                            exact, case-sensitive match here)
``GET /v1/usermanagement/roles/{id}``       the whole role, its members (``principals``) and
                                            ``existingRepositoryPermissions`` too
``POST /v1/usermanagement/roles``           create: ``{"name", "description", "permissions",
                                            "principals": []}``
``PUT /v1/usermanagement/roles/{id}``       update: the role as read with other permissions,
                                            its ``version``, ``principals`` and
                                            ``existingRepositoryPermissions`` sent back as read
==========================================  ====================================================

v1 is the documented role API (no AA page says it is discontinued). The same paths under
``/v2/usermanagement`` appear only in a public PowerShell script: a 404 to v1's *list* call
(which names no role, so a 404 there can only mean the API is missing) switches to ``v2``,
and the :class:`RoleApi` given remembers it. Confirmed in AA's docs: the v1 paths and bodies
(permissions of ``id``, ``action``, ``resourceType``, ``resourceId``; update with
``principals``, ``version`` and ``existingRepositoryPermissions``); AA's advice to read a
role's permission names with ``GET /v1/usermanagement/roles/{id}`` (what ``copy_from`` does).
Not confirmed: the v2 paths, the answer of the list call (whether it carries members — hence
the ``GET`` before any update), and whether a permission without its numeric ``id`` is
accepted (AA's examples always send it; give ``id`` where known, or copy a role).

A permission is compared as ``(action, resourceType, resourceId)``; ``id`` is the Control
Room's number for it and is kept as the role has it. Role names are unique in a Control Room
(its UI asks for "a unique name"), which makes a lost create safe to reconcile: the role is
looked up by name again, and a create that lands twice is refused (409) the second time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from airflow_provider_aa.control_room.errors import (
    AmbiguousOutcomeError,
    AutomationAnywhereError,
    InvalidInputError,
    NameLookupError,
)
from airflow_provider_aa.control_room.exchange import ApiRequest, Operation
from airflow_provider_aa.control_room.listing import read_all
from airflow_provider_aa.control_room.session import ControlRoomSession
from airflow_provider_aa.control_room.work_items import PAGE_LENGTH, path_id

#: The User Management API versions, in the order tried: the documented one first.
ROLE_API_VERSIONS = ("v1", "v2")
#: Longest role name and description the Control Room takes (AA 11.3 "Create a new role": 255).
MAX_TEXT = 255
#: Updates tried when the role keeps changing under us (409 on its ``version``).
MAX_UPDATE_ATTEMPTS = 3

_PERMISSION_KEYS = ("id", "action", "resourceType", "resourceId")

Permission = Mapping[str, Any]
PermissionKey = tuple[str, str, str | None]


@dataclass(frozen=True)
class PresetPermission:
    """
    One permission of :data:`ROLE_PRESETS`: its API names (``action``, ``resource_type``), the
    UI's name for it (``ui_name``), whether AA publishes these API names (``confirmed``) and
    where they come from (``source``).
    """

    action: str
    resource_type: str
    ui_name: str
    confirmed: bool
    source: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.action, self.resource_type)

    def permission(self) -> Permission:
        """The permission as :func:`ensure_role` takes it (read-only)."""
        return MappingProxyType({"action": self.action, "resourceType": self.resource_type})


_API_TO_UI_MAP = 'AA docs, Automation 360 API, "Roles and permissions" (cloud-features-api-id-to-ui-map.html), {area}'
_NOT_PUBLISHED = (
    "not published by AA (only the UI name is); read it from a role that has it: "
    "ensure_role(..., copy_from=...) or GET /v1/usermanagement/roles/{{id}}{why}"
)

#: Every permission the presets name, with its source.
PRESET_PERMISSIONS: Mapping[tuple[str, str], PresetPermission] = MappingProxyType(
    {
        entry.key: entry
        for entry in (
            PresetPermission(
                "myschedule",
                "taskscheduling",
                "own activity (every role has it)",
                True,
                _API_TO_UI_MAP.format(area="Dashboard and activity"),
            ),
            PresetPermission(
                "managemyschedule",
                "taskscheduling",
                "Manage my in-progress activity",
                True,
                _API_TO_UI_MAP.format(area="Dashboard and activity"),
            ),
            PresetPermission(
                "everyoneschedule",
                "taskscheduling",
                "in-progress activity of the bots the role may run or schedule (folder-scoped: "
                "not every user's activity)",
                True,
                _API_TO_UI_MAP.format(area="Dashboard and activity"),
            ),
            PresetPermission(
                "view", "repositorymanager", "View my bots", True, _API_TO_UI_MAP.format(area="Bot permissions")
            ),
            PresetPermission(
                "run", "repositorymanager", "Run my bots", True, _API_TO_UI_MAP.format(area="Bot permissions")
            ),
            PresetPermission(
                "managemyqueues",
                "wlm",
                "View and manage my queues",
                False,
                _NOT_PUBLISHED.format(why=""),
            ),
            PresetPermission(
                "generateapikey",
                "api",
                "Generate API-Key",
                False,
                _NOT_PUBLISHED.format(why=" (the system role of that name has it)"),
            ),
        )
    }
)


def _preset(*keys: tuple[str, str]) -> tuple[Permission, ...]:
    return tuple(PRESET_PERMISSIONS[key].permission() for key in keys)


#: Every role has it by default; a user sees their own activity (the runs it deployed).
_OWN_ACTIVITY = ("myschedule", "taskscheduling")

#: Permissions that the provider's features need, by feature, as plain data: pass one to
#: ``ensure_role``, combine them, or copy and change them. Each permission's source, and
#: whether AA publishes its API name, is in :data:`PRESET_PERMISSIONS`.
#:
#: - ``bot_deployer`` — View my bots, Run my bots (``view``, ``run`` on
#:   ``repositorymanager``); ``myschedule`` (follow the runs) and ``managemyschedule`` (stop
#:   them: ``stop_bot_runs``, ``on_kill``). Also needed, and not a role permission: *Run* on the
#:   bot's folder and the run-as users (both chosen on the role's other tabs), and consumer
#:   rights on device pools.
#: - ``activity_reader`` — ``everyoneschedule`` on ``taskscheduling``: the in-progress activity
#:   of the bots in folders the role may run or schedule (AA: "monitor ongoing automations
#:   where they have run or schedule access"). It is folder-scoped, not every user's activity.
#: - ``api_key_user`` — Generate API-Key (``generateapikey`` on ``api``: **unconfirmed**).
#: - ``work_queue_producer`` — View and manage my queues (``managemyqueues`` on ``wlm``:
#:   **unconfirmed**). Adding work items needs the user to be an owner or participant *of each
#:   queue* as well (set on the queue, not the role).
#: - ``airflow_service`` — all of the above: one role for the Airflow service user.
#:
#: Where a name is unconfirmed, a role built in the UI can supply the permissions instead:
#: ``hook.ensure_role(name, copy_from="<that role>")``.
ROLE_PRESETS: Mapping[str, tuple[Permission, ...]] = MappingProxyType(
    {
        "work_queue_producer": _preset(_OWN_ACTIVITY, ("managemyqueues", "wlm")),
        "bot_deployer": _preset(
            _OWN_ACTIVITY,
            ("managemyschedule", "taskscheduling"),
            ("view", "repositorymanager"),
            ("run", "repositorymanager"),
        ),
        "activity_reader": _preset(_OWN_ACTIVITY, ("everyoneschedule", "taskscheduling")),
        "api_key_user": _preset(("generateapikey", "api")),
        "airflow_service": _preset(
            _OWN_ACTIVITY,
            ("managemyqueues", "wlm"),
            ("managemyschedule", "taskscheduling"),
            ("view", "repositorymanager"),
            ("run", "repositorymanager"),
            ("everyoneschedule", "taskscheduling"),
            ("generateapikey", "api"),
        ),
    }
)
#: Preset permissions whose API names AA does not publish.
UNCONFIRMED_PERMISSIONS: frozenset[tuple[str, str]] = frozenset(
    key for key, entry in PRESET_PERMISSIONS.items() if not entry.confirmed
)


@dataclass
class RoleApi:
    """Which User Management API version the Control Room answers (learned once, then kept)."""

    version: str = ROLE_API_VERSIONS[0]


@dataclass(frozen=True)
class EnsuredRole:
    """
    What :func:`ensure_role` found or made: the role's ``id``, ``name``, ``description`` and
    ``permissions`` now; ``created`` when it was missing; the permissions ``added`` and
    ``removed`` (empty when nothing changed); ``description_changed``; ``api_version``
    (``"v1"``/``"v2"``); ``copied_from``, the role whose permissions were copied (``None``
    when none was). :meth:`to_dict` is its XCom shape.
    """

    id: str
    name: str
    description: str
    permissions: list[dict[str, Any]]
    created: bool
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    description_changed: bool = False
    api_version: str = ROLE_API_VERSIONS[0]
    copied_from: str | None = None

    @property
    def changed(self) -> bool:
        return self.created or bool(self.added or self.removed) or self.description_changed

    def summary(self) -> str:
        """One line for the log: what was done to the role."""
        copied = f" (permissions of role {self.copied_from!r})" if self.copied_from is not None else ""
        if self.created:
            return f"Created role {self.name!r} (id {self.id}) with {len(self.permissions)} permission(s){copied}."
        if not self.changed:
            return f"Role {self.name!r} (id {self.id}) already has the permissions asked for{copied}: unchanged."
        parts = [f"added {_names(self.added) or 'nothing'}", f"removed {_names(self.removed) or 'nothing'}"]
        if self.description_changed:
            parts.append("new description")
        return f"Updated role {self.name!r} (id {self.id}){copied}: {'; '.join(parts)}."

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "permissions": [dict(entry) for entry in self.permissions],
            "created": self.created,
            "added": [dict(entry) for entry in self.added],
            "removed": [dict(entry) for entry in self.removed],
            "description_changed": self.description_changed,
            "api_version": self.api_version,
            "copied_from": self.copied_from,
        }


# -- input ----------------------------------------------------------------------------------


def validate_role_name(name: Any) -> str:
    """A role name: non-empty text of at most 255 characters, kept exactly (no trimming)."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError(f"name must be a non-empty string (the role's name), got {name!r}.")
    if name != name.strip() or len(name) > MAX_TEXT:
        raise InvalidInputError(
            f"name must have no surrounding whitespace and at most {MAX_TEXT} characters, got {name!r}."
        )
    return name


def validate_copy_from(copy_from: Any, name: str) -> str | None:
    """``None``, or the exact name of another role whose permissions to copy."""
    if copy_from is None:
        return None
    if not isinstance(copy_from, str) or not copy_from.strip():
        raise InvalidInputError(
            f"copy_from must be a non-empty string (the name of the role to copy permissions from), got {copy_from!r}."
        )
    if copy_from == name:
        raise InvalidInputError(f"copy_from must name another role than name ({name!r}).")
    return copy_from


def validate_description(description: Any) -> str | None:
    """``None`` (keep an existing role's description) or text of at most 255 characters."""
    if description is None:
        return None
    if not isinstance(description, str) or len(description) > MAX_TEXT:
        raise InvalidInputError(f"description must be text of at most {MAX_TEXT} characters, got {description!r}.")
    return description


def validate_permissions(permissions: Any) -> list[dict[str, Any]]:
    """
    The permissions asked for, each ``{"action", "resourceType"}`` (non-empty text) with an
    optional ``id`` and ``resourceId`` (whole numbers, or text of digits); duplicates (same
    action, resource type and resource id) once. An empty list asks for a role without
    permissions.
    """
    if isinstance(permissions, (str, bytes, Mapping)) or not isinstance(permissions, Sequence):
        hint = " (a preset: ROLE_PRESETS[...])" if isinstance(permissions, str) else ""
        raise InvalidInputError(
            f"permissions must be a list of {{'action', 'resourceType'}} dicts{hint}, got {type(permissions).__name__}."
        )
    checked: dict[PermissionKey, dict[str, Any]] = {}
    for index, entry in enumerate(permissions):
        where = f"permissions[{index}]"
        if not isinstance(entry, Mapping):
            raise InvalidInputError(f"{where} must be a dict with 'action' and 'resourceType', got {entry!r}.")
        unknown = sorted(str(key) for key in entry if key not in _PERMISSION_KEYS)
        if unknown:
            raise InvalidInputError(
                f"{where} has unknown key(s) {', '.join(unknown)}: a permission has action, resourceType, and "
                "optionally id and resourceId."
            )
        permission: dict[str, Any] = {}
        for key in ("action", "resourceType"):
            value = entry.get(key)
            if not isinstance(value, str) or not value.strip():
                raise InvalidInputError(f"{where}.{key} must be non-empty text, got {value!r}.")
            permission[key] = value
        for key in ("id", "resourceId"):
            if entry.get(key) is not None:
                permission[key] = _whole_number(entry[key], f"{where}.{key}")
        checked.setdefault(permission_key(permission), permission)
    return list(checked.values())


def permission_key(permission: Mapping[str, Any]) -> PermissionKey:
    """What makes two permissions the same: action, resource type, resource id (text or ``None``)."""
    resource = permission.get("resourceId")
    resource_id = None if resource in (None, "") else str(resource)
    return (str(permission.get("action")), str(permission.get("resourceType")), resource_id)


def _whole_number(value: Any, name: str) -> int:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise InvalidInputError(f"{name} must be a whole number, got {value!r}.")


# -- requests -------------------------------------------------------------------------------


def role_list_request(version: str, name: str) -> ApiRequest:
    """The first page of roles named ``name`` (``POST /{version}/usermanagement/roles/list``)."""
    body = {
        "filter": {"operator": "eq", "field": "name", "value": name},
        "page": {"offset": 0, "length": PAGE_LENGTH},
    }
    return ApiRequest("POST", f"/{version}/usermanagement/roles/list", body)


def role_request(version: str, role_id: str) -> ApiRequest:
    """One role, members included (``GET /{version}/usermanagement/roles/{id}``)."""
    return ApiRequest("GET", f"/{version}/usermanagement/roles/{path_id(role_id, 'role id')}")


def create_role_request(
    version: str, name: str, description: str | None, permissions: Sequence[Permission]
) -> ApiRequest:
    """
    Create a role without members. Not replay-safe: a lost answer is reconciled by name
    (see :func:`ensure_role`), never by sending it again.
    """
    body = {
        "name": name,
        "description": description or "",
        "permissions": [_sendable(entry) for entry in permissions],
        "principals": [],
    }
    return ApiRequest("POST", f"/{version}/usermanagement/roles", body, replay_safe=False)


def update_role_request(
    version: str, role: Mapping[str, Any], permissions: Sequence[Permission], description: str
) -> ApiRequest:
    """
    Replace the role's permissions and description; every other field (``principals``,
    ``version``, repository permissions...) is sent back as it was read. Not replay-safe for
    the session: :func:`ensure_role` reads the role after a lost answer, so that it knows the
    change as its own (a resend would only get a 409 on the ``version``).
    """
    body = {**role, "description": description, "permissions": [_sendable(entry) for entry in permissions]}
    path = f"/{version}/usermanagement/roles/{path_id(role['id'], 'role id')}"
    return ApiRequest("PUT", path, body, replay_safe=False)


def _sendable(permission: Permission) -> dict[str, Any]:
    entry = {key: permission[key] for key in ("id", "action", "resourceType") if key in permission}
    entry["resourceId"] = permission.get("resourceId")
    return entry


# -- the operation ----------------------------------------------------------------------------


def ensure_role(
    session: ControlRoomSession,
    name: str,
    permissions: Sequence[Permission],
    *,
    description: str | None = None,
    api: RoleApi,
    copy_from: str | None = None,
) -> Operation[EnsuredRole]:
    """
    Make the role ``name`` exist with ``permissions`` (checked with
    :func:`validate_permissions`), and with those of the role named ``copy_from`` if given
    (checked with :func:`validate_copy_from`; found by name and read with ``GET``, as AA
    advises for learning permission names; its ``existingRepositoryPermissions`` are not
    copied): create it when missing, else add and remove permissions
    and keep everything else, its members above all. Only permissions the caller manages are
    removed: those of a ``resourceType`` that ``permissions`` lists, on one resource (with a
    ``resourceId``) if it lists such ones of that type, without one if it lists such ones.
    Others an admin added in the UI stay (bot folders, run-as users, pools; the audit log
    permission). Safe to run again:
    an unchanged role costs two reads and no write. What changed is reported against the
    role as first read, also when an update's answer was lost and its resend refused (409).

    A create without a clear answer is not sent again: the role is looked up by name; if it
    is not there, :class:`~.errors.AmbiguousOutcomeError` says to run this again (no second
    role can appear: names are unique). An update refused because the role changed
    meanwhile (409) is worked out again from the role as it is now, up to three times.

    :raises NameLookupError: no role is named ``copy_from``.
    :raises AutomationAnywhereError: neither User Management API answers (404), the user may
        not manage roles (403), or the Control Room refused the role (400: e.g. a permission
        it does not know), with its ``code``/``message``/``details``.
    """
    if copy_from is None:
        return (yield from _ensure(session, name, permissions, description, api))
    copied = yield from _copied_permissions(session, api, copy_from)
    merged: dict[PermissionKey, Permission] = {permission_key(entry): entry for entry in copied}
    for entry in permissions:  # the Control Room's entry (with its id) wins over an equal one given
        merged.setdefault(permission_key(entry), entry)
    outcome = yield from _ensure(session, name, list(merged.values()), description, api)
    return replace(outcome, copied_from=copy_from)


def _ensure(
    session: ControlRoomSession,
    name: str,
    permissions: Sequence[Permission],
    description: str | None,
    api: RoleApi,
) -> Operation[EnsuredRole]:
    match = yield from _find(session, api, name)
    if match is None:
        request = create_role_request(api.version, name, description, permissions)
        try:
            answer = yield from session.request_json(request)
        except AmbiguousOutcomeError as lost:
            match = yield from _find(session, api, name)
            if match is None:
                raise AmbiguousOutcomeError(
                    f"Creating role {name!r} got no clear answer and the role is not there (yet): run "
                    "ensure_role again. It cannot create the role twice: role names are unique, and it "
                    "looks the role up by name first.",
                    **lost.call_fields(),
                ) from None
            role = yield from _read(session, api, match)
            return _outcome(role, api, created=True)
        except AutomationAnywhereError as refused:
            if refused.status != 409:
                raise
            match = yield from _find(session, api, name)  # made meanwhile by someone else
            if match is None:
                raise
        else:
            return _outcome(_role_from(answer, request), api, created=True)
    return (yield from _reconcile(session, api, match, permissions, description))


def _reconcile(
    session: ControlRoomSession,
    api: RoleApi,
    match: Mapping[str, Any],
    permissions: Sequence[Permission],
    description: str | None,
) -> Operation[EnsuredRole]:
    wanted = {permission_key(entry): entry for entry in permissions}
    # Only what the caller manages may go: permissions of a resource type ``permissions`` lists,
    # on one resource (with a resourceId) or not, as it lists them. The rest stays: a folder,
    # run-as user or pool an admin added in the UI, an unscoped one such as the audit log's.
    managed = {_scope(entry) for entry in permissions}

    def removable(entry: Mapping[str, Any]) -> bool:
        return permission_key(entry) not in wanted and _scope(entry) in managed

    attempt = 0
    first_change: dict[str, Any] | None = None
    maybe_ours = False  # an update whose answer was lost may have been applied
    while True:
        attempt += 1
        role = yield from _read(session, api, match)
        present = [dict(entry) for entry in role.get("permissions") or [] if isinstance(entry, Mapping)]
        kept = [entry for entry in present if not removable(entry)]
        removed = [entry for entry in present if removable(entry)]
        have = {permission_key(entry) for entry in present}
        added = [dict(entry) for key, entry in wanted.items() if key not in have]
        old_description = role.get("description") or ""
        new_description = old_description if description is None else description
        description_changed = new_description != old_description
        if not (added or removed or description_changed):
            # After a lost answer the role shows our own update: what changed is what the
            # first reading called for. After a plain 409, someone else made the change.
            return _outcome(role, api, created=False, **(first_change if maybe_ours and first_change else {}))
        if first_change is None:
            first_change = {"added": added, "removed": removed, "description": description_changed}
        if not isinstance(role.get("principals"), list):
            raise AutomationAnywhereError(
                f"The Control Room's answer for role {role['name']!r} (id {role['id']}) shows no 'principals': "
                "updating it could remove the role from its users, so it was not changed. Change the role's "
                "permissions in the Control Room's UI.",
                method="GET",
                path=role_request(api.version, role["id"]).path,
            )
        request = update_role_request(api.version, role, kept + added, new_description)
        try:
            answer = yield from session.request_json(request)
        except AmbiguousOutcomeError:
            if attempt >= MAX_UPDATE_ATTEMPTS:
                raise
            maybe_ours = True
            continue  # applied or not: the role as it is now tells
        except AutomationAnywhereError as refused:
            if refused.status == 409 and attempt < MAX_UPDATE_ATTEMPTS:
                continue  # changed meanwhile: work it out again
            raise
        # The updated role, or (an empty answer) the role as sent.
        sent = {**role, "description": new_description, "permissions": kept + added}
        updated = _role_from(answer, request) if isinstance(answer, Mapping) and answer else sent
        return _outcome(updated, api, created=False, added=added, removed=removed, description=description_changed)


def _scope(permission: Mapping[str, Any]) -> tuple[str, bool]:
    """A permission's resource type, and whether it is on one resource (has a ``resourceId``)."""
    return (str(permission.get("resourceType")), permission.get("resourceId") not in (None, ""))


def _find(session: ControlRoomSession, api: RoleApi, name: str) -> Operation[dict[str, Any] | None]:
    """The role listed with exactly ``name``, or ``None``; learns the API version on the way."""
    while True:
        try:
            roles = yield from read_all(session, role_list_request(api.version, name))
        except AutomationAnywhereError as missing:
            if missing.status != 404:
                raise
            older = ROLE_API_VERSIONS.index(api.version) + 1
            if older == len(ROLE_API_VERSIONS):
                raise AutomationAnywhereError(
                    "The Control Room answers neither the v1 nor the v2 User Management API for roles (404).",
                    **missing.call_fields(),
                ) from None
            api.version = ROLE_API_VERSIONS[older]
            continue
        matches = [role for role in roles if role.get("name") == name]
        if len(matches) > 1:
            ids = ", ".join(str(role["id"]) for role in matches)
            raise AutomationAnywhereError(f"Several roles are named {name!r} (ids {ids}): cannot tell which to change.")
        return matches[0] if matches else None


def _copied_permissions(session: ControlRoomSession, api: RoleApi, copy_from: str) -> Operation[list[dict[str, Any]]]:
    """The permissions of the role named ``copy_from``, as its ``GET`` shows them."""
    match = yield from _find(session, api, copy_from)
    if match is None:
        raise NameLookupError(
            f"copy_from: no role is named {copy_from!r} (exact, case-sensitive name): no permissions to copy.",
            field="copy_from",
            values=[copy_from],
            candidates={copy_from: []},
        )
    role = yield from _read(session, api, match)
    shown = role.get("permissions")
    path = role_request(api.version, str(match["id"])).path
    if not isinstance(shown, list):
        raise AutomationAnywhereError(
            f"The Control Room's answer for role {copy_from!r} (id {role['id']}) shows no 'permissions' list: "
            "nothing to copy.",
            method="GET",
            path=path,
        )
    copied = []
    for index, entry in enumerate(shown):
        if not isinstance(entry, Mapping) or not all(
            isinstance(entry.get(key), str) and entry[key] for key in ("action", "resourceType")
        ):
            raise AutomationAnywhereError(
                f"Role {copy_from!r} (id {role['id']}) shows permissions[{index}] without 'action' and "
                f"'resourceType': {entry!r}; it cannot be copied.",
                method="GET",
                path=path,
            )
        copied.append({key: entry[key] for key in _PERMISSION_KEYS if entry.get(key) not in (None, "")})
    return copied


def _read(session: ControlRoomSession, api: RoleApi, match: Mapping[str, Any]) -> Operation[dict[str, Any]]:
    request = role_request(api.version, str(match["id"]))
    return _role_from((yield from session.request_json(request)), request)


def _role_from(answer: Any, request: ApiRequest) -> dict[str, Any]:
    if not isinstance(answer, Mapping) or answer.get("id") in (None, "") or not isinstance(answer.get("name"), str):
        raise AutomationAnywhereError(
            "The Control Room's answer is not a role (no 'id' and 'name').", method=request.method, path=request.path
        )
    return dict(answer)


def _outcome(
    role: Mapping[str, Any],
    api: RoleApi,
    *,
    created: bool,
    added: list[dict[str, Any]] | None = None,
    removed: list[dict[str, Any]] | None = None,
    description: bool = False,
) -> EnsuredRole:
    permissions = [dict(entry) for entry in role.get("permissions") or [] if isinstance(entry, Mapping)]
    return EnsuredRole(
        id=str(role["id"]),
        name=str(role["name"]),
        description=str(role.get("description") or ""),
        permissions=permissions,
        created=created,
        added=permissions if created else (added or []),
        removed=removed or [],
        description_changed=description,
        api_version=api.version,
    )


def _names(permissions: Sequence[Permission]) -> str:
    return ", ".join(f"{entry['action']}/{entry['resourceType']}" for entry in permissions)
