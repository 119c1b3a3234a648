"""
Roles: making sure the Control Room has a role with a given set of permissions.

The User Management API (AA docs: "Create role", "Update role", "Retrieve role by ID",
"Roles and permissions", Automation 360; 11.3 "Create a new role"):

==========================================  ====================================================
call                                        use here
==========================================  ====================================================
``POST /v2/usermanagement/roles/list``      find the role by name (``eq`` on ``name``, then an
                                            exact, case-sensitive match here)
``GET /v2/usermanagement/roles/{id}``       the whole role, its members (``principals``) too
``POST /v2/usermanagement/roles``           create: ``{"name", "description", "permissions",
                                            "principals": []}``
``PUT /v2/usermanagement/roles/{id}``       update: the role as read with other permissions,
                                            its ``version`` and ``principals`` kept
==========================================  ====================================================

The same calls exist under ``/v1/usermanagement`` (11.3 and Automation 360 up to v.32; v1 is
discontinued from v.33). ``v2`` is tried first; a 404 to its *list* call (which names no
role, so a 404 there can only mean the API is missing) switches to ``v1``, and the
:class:`RoleApi` given remembers it. Confirmed in AA's docs: the v1 create and update paths
and bodies (permissions of ``id``, ``action``, ``resourceType``, ``resourceId``; update with
``principals`` and ``version``). Not confirmed: the v2 paths beyond the reference's "same
role body", the answer of the list call (whether it carries members — hence the ``GET``
before any update), and whether a permission without its numeric ``id`` is accepted (AA's
examples always send it; give ``id`` where known).

A permission is compared as ``(action, resourceType, resourceId)``; ``id`` is the Control
Room's number for it and is kept as the role has it. Role names are unique in a Control Room
(its UI asks for "a unique name"), which makes a lost create safe to reconcile: the role is
looked up by name again, and a create that lands twice is refused (409) the second time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from airflow_provider_aa.control_room.errors import AutomationAnywhereError, InvalidInputError
from airflow_provider_aa.control_room.exchange import ApiRequest, Operation
from airflow_provider_aa.control_room.listing import read_all
from airflow_provider_aa.control_room.session import AmbiguousOutcomeError, ControlRoomSession
from airflow_provider_aa.control_room.work_items import PAGE_LENGTH, path_id

#: The User Management API versions, newest first.
ROLE_API_VERSIONS = ("v2", "v1")
#: Longest role name and description the Control Room takes (AA 11.3 "Create a new role": 255).
MAX_TEXT = 255
#: Updates tried when the role keeps changing under us (409 on its ``version``).
MAX_UPDATE_ATTEMPTS = 3

_PERMISSION_KEYS = frozenset({"id", "action", "resourceType", "resourceId"})

Permission = Mapping[str, Any]
PermissionKey = tuple[str, str, str | None]


def _preset(*pairs: tuple[str, str]) -> tuple[Permission, ...]:
    return tuple(MappingProxyType({"action": action, "resourceType": kind}) for action, kind in pairs)


#: AA's docs, "Dashboard and activity permissions": every role has it by default; a user sees
#: their own activity (the runs it deployed).
_OWN_ACTIVITY = ("myschedule", "taskscheduling")

#: Permissions that the provider's features need, by feature, as plain data: pass one to
#: ``ensure_role``, combine them, or copy and change them. Sources (AA docs, Automation 360,
#: "Roles and permissions" pages):
#:
#: - ``bot_deployer`` — "Bot and bot credential permissions": ``view`` and ``run`` on
#:   ``repositorymanager`` (View my bots, Run my bots); "Dashboard and activity permissions":
#:   ``myschedule`` (follow the runs) and ``managemyschedule`` (stop them: ``stop_bot_runs``,
#:   ``on_kill``). Also needed, and not a role permission: *Run* on the bot's folder and the
#:   run-as users (both chosen on the role's other tabs), and consumer rights on device pools.
#: - ``activity_reader`` — ``everyoneschedule`` on ``taskscheduling`` (AA: "monitor ongoing
#:   automations where they have run or schedule access"). **Unconfirmed** that it is the
#:   UI's "View everyone's activity" the CoE recipe names.
#: - ``api_key_user`` — "API permissions": ``generateapikey`` on ``api`` (Generate API-Key).
#: - ``work_queue_producer`` — **unconfirmed** action name for "View and manage my queues"
#:   (``managemyqueues`` on ``wlm``: AA's docs list the permission, not its API name). Adding
#:   work items needs the user to be an owner or participant *of each queue* as well (set on
#:   the queue, not the role).
#: - ``airflow_service`` — all of the above: one role for the Airflow service user.
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
#: Preset permissions whose API names are not confirmed by AA's documentation.
UNCONFIRMED_PERMISSIONS: frozenset[tuple[str, str]] = frozenset(
    {("managemyqueues", "wlm"), ("everyoneschedule", "taskscheduling")}
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
    (``"v2"``/``"v1"``). :meth:`to_dict` is its XCom shape.
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

    @property
    def changed(self) -> bool:
        return self.created or bool(self.added or self.removed) or self.description_changed

    def summary(self) -> str:
        """One line for the log: what was done to the role."""
        if self.created:
            return f"Created role {self.name!r} (id {self.id}) with {len(self.permissions)} permission(s)."
        if not self.changed:
            return f"Role {self.name!r} (id {self.id}) already has the permissions asked for: unchanged."
        parts = [f"added {_names(self.added) or 'nothing'}", f"removed {_names(self.removed) or 'nothing'}"]
        if self.description_changed:
            parts.append("new description")
        return f"Updated role {self.name!r} (id {self.id}): {'; '.join(parts)}."

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
) -> Operation[EnsuredRole]:
    """
    Make the role ``name`` exist with ``permissions`` (checked with
    :func:`validate_permissions`): create it when missing, else add and remove permissions
    and keep everything else, its members above all. Only permissions the caller manages are
    removed: those of a ``resourceType`` that ``permissions`` lists, on one resource (with a
    ``resourceId``) if it lists such ones of that type, without one if it lists such ones.
    Others an admin added in the UI stay (bot folders, run-as users, pools; the audit log
    permission). Safe to run again:
    an unchanged role costs two reads and no write. What changed is reported against the
    role as first read, also when an update's answer was lost and its resend refused (409).

    A create without a clear answer is not sent again: the role is looked up by name; if it
    is not there, :class:`~.session.AmbiguousOutcomeError` says to run this again (no second
    role can appear: names are unique). An update refused because the role changed
    meanwhile (409) is worked out again from the role as it is now, up to three times.

    :raises AutomationAnywhereError: neither User Management API answers (404), the user may
        not manage roles (403), or the Control Room refused the role (400: e.g. a permission
        it does not know), with its ``code``/``message``/``details``.
    """
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
                    "The Control Room answers neither the v2 nor the v1 User Management API for roles (404).",
                    **missing.call_fields(),
                ) from None
            api.version = ROLE_API_VERSIONS[older]
            continue
        matches = [role for role in roles if role.get("name") == name]
        if len(matches) > 1:
            ids = ", ".join(str(role["id"]) for role in matches)
            raise AutomationAnywhereError(f"Several roles are named {name!r} (ids {ids}): cannot tell which to change.")
        return matches[0] if matches else None


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
