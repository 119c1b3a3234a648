"""
Names instead of ids: work queues by name, bots by repository path, run-as users by
username, device pools by name.

Each look-up lists what the Control Room shows the connection's user (the list APIs of the
reference's "Look-ups by name"), filtered server-side with ``substring`` on the name without
its surrounding whitespace (so that names differing from it only in such whitespace come
back too), paged with :func:`~airflow_provider_aa.control_room.listing.read_all`, and then
matched on our side, since ``substring`` and even ``eq`` may match more (a Control Room
whose filters ignore case, or one that ignores the filter altogether):

============  =====================================================  ===========================
what          call                                                   filter (server side)
============  =====================================================  ===========================
work queue    ``POST /v3/wlm/queues/list``                           ``substring`` on ``name``
bot           ``POST /v2/repository/workspaces/public/files/list``   ``and`` of ``or`` of ``eq``
                                                                     on ``type`` (task bot, API
                                                                     task) and ``substring`` on
                                                                     ``name``
run-as user   ``POST /v1/devices/runasusers/list``                   ``or`` of ``substring`` on
                                                                     ``username``, 100 a request
device pool   ``POST /v2/devices/pools/list``                        ``or`` of ``substring`` on
                                                                     ``name``, 100 a request
============  =====================================================  ===========================

Matching rules — a name resolves only when exactly one object matches it, both sides
compared the same way:

- Names are compared **case-sensitively**, each side without its surrounding whitespace
  (Unicode's: a non-breaking space too), as :func:`name_key` gives them. The Control Room keeps
  names as they were typed, so ``"Invoices "`` and ``"Invoices"`` may be two queues: then
  either spelling matches both, and the look-up fails naming both (the one spelled exactly
  as given marked), instead of picking one. A name that differs only in case is not taken,
  but is named first among the candidates of the error.
- Bot paths: the folders from the workspace root down to the bot, separated by ``/`` or
  ``\\`` (``Bots/Finance/Invoice Processor`` or ``Bots\\Finance\\Invoice Processor``), each
  folder compared as a name. The Control Room answers paths Windows-style from the root
  (``Automation Anywhere\\Bots\\Finance\\Invoice Processor``); the root is left out on its
  side. A given path may start with the root folder ``Automation Anywhere`` (case ignored for
  the root only) or leave it out, so one that starts with it has two readings: from the root
  (``Automation Anywhere/Report`` as ``Report``) and below a top-level folder named like the
  root; a bot at each is two matches. Only task bots (``application/vnd.aa.taskbot``) and
  API tasks (``application/vnd.aa.headlessbot``) count; folders and other files never match.

A name that matches nothing, or more than one object, raises :class:`NameLookupError`
(fatal: a retry cannot mend a wrong name) naming the field, the value and candidates: for
nothing, up to :data:`MAX_CANDIDATES` near names from the user's listing (read only then,
at most :data:`CANDIDATE_SCAN_LIMIT` entries); for several, each match's id and name or path.
A look-up of several names names every one of them that did not resolve.
"""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_aa.control_room.errors import AutomationAnywhereError, InvalidInputError, NameLookupError
from airflow_provider_aa.control_room.exchange import ApiRequest, Operation
from airflow_provider_aa.control_room.listing import PageCursor, read_all, read_page
from airflow_provider_aa.control_room.work_items import PAGE_LENGTH

if TYPE_CHECKING:
    from airflow_provider_aa.control_room.session import ControlRoomSession

#: The repository's root folder, which paths in answers start with.
REPOSITORY_ROOT = "Automation Anywhere"
#: The repository file type of a task bot.
TASK_BOT_TYPE = "application/vnd.aa.taskbot"
#: The repository file type of an API task (a headless bot), as PixieBrix's client lists
#: them (pixiebrix/pixiebrix-extension, src/contrib/automationanywhere/contract.ts,
#: ``FileType.API_TASK``).
API_TASK_TYPE = "application/vnd.aa.headlessbot"
#: What a bot path may name: a task bot or an API task.
DEPLOYABLE_TYPES = (TASK_BOT_TYPE, API_TASK_TYPE)
#: Workspaces of the repository: ``public`` (what deploys run) and the user's ``private`` one.
WORKSPACES = ("public", "private")
#: Most candidates an error names per value.
MAX_CANDIDATES = 10
#: Most entries read to find near names for a name that matched nothing (only then).
CANDIDATE_SCAN_LIMIT = 1000

Workspace = Literal["public", "private"]
_SEPARATORS = re.compile(r"[\\/]+")


# -- validation ---------------------------------------------------------------------------------


def validate_name(value: Any, field: str) -> str:
    """
    A name as given (compared by its :func:`name_key`). A whole number is taken as its digits
    (a template rendered as a native object turns the name ``"2024"`` into ``2024``).

    :raises InvalidInputError: unless a string with more than whitespace (or a whole number).
    """
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not name_key(value):
        raise InvalidInputError(f"{field} must be a non-empty name (a string), got {value!r}.")
    return value


def name_key(name: str) -> str:
    """
    What a name is compared by, on both sides: the name without its surrounding whitespace
    (a non-breaking space too). Two names with the same key match the same objects.
    """
    return name.strip()


def validate_names(values: Any, field: str) -> list[str]:
    """
    One name or a list of names → names as given, order kept, without duplicates: of names
    with the same :func:`name_key`, the first is kept.

    :raises InvalidInputError: for anything else, and for a string that is a rendered list
        (``"['a', 'b']"``: a template rendered to text).
    """
    if isinstance(values, str):
        if _is_rendered_list(values):
            raise InvalidInputError(
                f"{field} is the text {values!r}, a list rendered by a template: set "
                "render_template_as_native_obj=True on the DAG, or give the names as a list."
            )
        values = [values]
    if not isinstance(values, Sequence) or isinstance(values, bytes):
        raise InvalidInputError(f"{field} must be a name or a list of names, got {type(values).__name__}.")
    if not values:
        raise InvalidInputError(f"{field} is empty: give at least one name.")
    unique: dict[str, str] = {}
    for index, value in enumerate(values):
        name = validate_name(value, f"{field}[{index}]")
        unique.setdefault(name_key(name), name)
    return list(unique.values())


def _is_rendered_list(text: str) -> bool:
    stripped = text.strip()
    if not (stripped.startswith("[") and stripped.endswith("]")):
        return False
    try:
        parsed = ast.literal_eval(stripped)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return False
    return isinstance(parsed, list) and all(isinstance(item, str) for item in parsed)


def path_folders(value: Any, field: str = "bot_path") -> tuple[str, ...]:
    """
    A bot path → its folders as written, each by its :func:`name_key`, the bot's name last:
    ``"Bots/Finance/Invoice Processor"``, ``"\\\\Bots\\\\Finance\\\\Invoice Processor "`` both
    give ``("Bots", "Finance", "Invoice Processor")``. A root folder written stays: see
    :func:`path_readings` for what the path may mean. Two paths with the same folders match
    the same bots.

    :raises InvalidInputError: unless ``value`` is a string naming at least the bot.
    """
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(
            f"{field} must be the bot's path in the repository, e.g. 'Bots/Finance/Invoice Processor', got {value!r}."
        )
    folders = _folder_keys(_split(value))
    if not folders or (len(folders) == 1 and _is_root(folders[0])):
        raise InvalidInputError(
            f"{field} {_quoted(value)} names no bot: give its path from the repository root, e.g. "
            "'Bots/Finance/Invoice Processor'."
        )
    return folders


def path_readings(folders: tuple[str, ...]) -> frozenset[tuple[str, ...]]:
    """
    The folders below the root that a path's folders may mean: as written, and, when the
    first is the root's name, without it (the root written, or a top-level folder named like
    the root: the repository may hold both).
    """
    if len(folders) > 1 and _is_root(folders[0]):
        return frozenset({folders, folders[1:]})
    return frozenset({folders})


def _split(path: str) -> tuple[str, ...]:
    """A path's folders as written: split on ``/`` and ``\\``, empty parts dropped."""
    return tuple(part for part in _SEPARATORS.split(path) if part)


def _folder_keys(folders: tuple[str, ...]) -> tuple[str, ...]:
    """Folders by their :func:`name_key`; a folder of whitespace only is dropped."""
    return tuple(key for key in map(name_key, folders) if key)


def _is_root(folder: str) -> bool:
    return name_key(folder).casefold() == REPOSITORY_ROOT.casefold()


def _below_root(folders: tuple[str, ...]) -> tuple[str, ...]:
    """A Control Room path's folders without its first, the root (when it is there)."""
    return folders[1:] if folders and _is_root(folders[0]) else folders


def validate_workspace(value: Any) -> Workspace:
    if value not in WORKSPACES:
        raise InvalidInputError(f"workspace must be 'public' or 'private', got {value!r}.")
    return value  # type: ignore[no-any-return]


# -- requests -----------------------------------------------------------------------------------


def _list_request(path: str, filter: dict[str, Any] | None, sort_field: str) -> ApiRequest:
    body: dict[str, Any] = {
        "sort": [{"field": sort_field, "direction": "asc"}],
        "page": {"offset": 0, "length": PAGE_LENGTH},
    }
    if filter is not None:
        body["filter"] = filter
    return ApiRequest("POST", path, body)


def _any_of(field: str, names: Sequence[str]) -> dict[str, Any]:
    """
    A ``substring`` on ``field`` with a name's :func:`name_key` (names that differ from it
    only in surrounding whitespace contain it), or an ``or`` of them for several names.
    """
    operands = [{"operator": "substring", "field": field, "value": name_key(name)} for name in names]
    return operands[0] if len(operands) == 1 else {"operator": "or", "operands": operands}


def queues_request(names: Sequence[str] | None = None) -> ApiRequest:
    """The first page of the work queues whose names contain ``names`` (all queues for ``None``)."""
    return _list_request("/v3/wlm/queues/list", _any_of("name", names) if names else None, "name")


def bot_files_request(name: str | None = None, workspace: Workspace = "public") -> ApiRequest:
    """
    The first page of the task bots and API tasks whose names contain ``name`` (the path's
    last part; all of them for ``None``).
    """
    is_bot = {
        "operator": "or",
        "operands": [{"operator": "eq", "field": "type", "value": kind} for kind in DEPLOYABLE_TYPES],
    }
    filter = is_bot if name is None else {"operator": "and", "operands": [is_bot, _any_of("name", [name])]}
    return _list_request(f"/v2/repository/workspaces/{workspace}/files/list", filter, "name")


def run_as_users_request(usernames: Sequence[str] | None = None) -> ApiRequest:
    """The first page of the run-as users whose usernames contain ``usernames`` (all for ``None``)."""
    return _list_request(
        "/v1/devices/runasusers/list", _any_of("username", usernames) if usernames else None, "username"
    )


def pools_request(names: Sequence[str] | None = None) -> ApiRequest:
    """The first page of the device pools whose names contain ``names`` (all for ``None``)."""
    return _list_request("/v2/devices/pools/list", _any_of("name", names) if names else None, "name")


# -- matching -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Kind:
    """What differs between the look-ups: what the objects are called, and how an entry is read."""

    noun: str  # "work queue"
    id_field: str  # the parameter to give instead: "queue_id"
    written: Callable[[dict[str, Any]], Any]  # an entry's name (path) as written; None: the entry never matches
    key: Callable[[Any], Any]  # an entry's name (path) as written → what is compared
    keys: Callable[[str], frozenset[Any]]  # a given value → what it is compared as (each of its readings)
    readings: Callable[[str], frozenset[Any]]  # a given value → the names (paths) as written it may mean
    rule: str  # how names are compared, for an error naming matches written differently
    label: Callable[[dict[str, Any]], str]  # how an entry is shown
    texts: Callable[[str], list[str]]  # a label or a given value → the texts compared for near names
    listing: Callable[[], ApiRequest]  # the first page of everything of the kind, for near names


def _text(entry: dict[str, Any], name: str) -> str | None:
    value = entry.get(name)
    return value if isinstance(value, str) else None


def _named_kind(noun: str, id_field: str, name: str, listing: Callable[[], ApiRequest]) -> _Kind:
    return _Kind(
        noun,
        id_field,
        lambda entry: _text(entry, name),
        name_key,
        lambda value: frozenset({name_key(value)}),
        lambda value: frozenset({value}),
        "Names are compared without their surrounding whitespace.",
        lambda entry: _text(entry, name) or "",
        lambda text: [name_key(text)],
        listing,
    )


_QUEUE = _named_kind("work queue", "queue_id", "name", queues_request)
_RUN_AS_USER = _named_kind("run-as user", "run_as_user_ids", "username", run_as_users_request)
_POOL = _named_kind("device pool", "pool_ids", "name", pools_request)


def _bot_folders(entry: dict[str, Any]) -> tuple[str, ...] | None:
    """
    A listed file's folders below the root as written, the file's name last; ``None`` unless
    it is a task bot or an API task.
    """
    kind, name, path = _text(entry, "type"), _text(entry, "name"), _text(entry, "path")
    if (kind is not None and kind not in DEPLOYABLE_TYPES) or path is None:
        return None
    folders = _split(path)
    # Tolerate a Control Room that gives the parent folder as the path.
    return _below_root(folders if not name or (folders and folders[-1] == name) else (*folders, name))


def _path_texts(path: str) -> list[str]:
    """A path as compared for near names: all its folders below the root, and the bot's name alone."""
    folders = _below_root(_folder_keys(_split(path)))
    return ["/".join(folders), folders[-1]] if folders else [path]


def _bot_kind(workspace: Workspace) -> _Kind:
    return _Kind(
        "bot",
        "bot_id",
        _bot_folders,
        _folder_keys,
        lambda path: path_readings(path_folders(path)),
        lambda path: path_readings(_split(path)),
        "Paths are compared folder by folder, each without its surrounding whitespace, and may start with the "
        f"root folder {REPOSITORY_ROOT!r} or leave it out.",
        lambda entry: _text(entry, "path") or _text(entry, "name") or "",
        _path_texts,
        lambda: bot_files_request(None, workspace),
    )


def queue_id_of(session: ControlRoomSession, name: str, field: str = "queue_name") -> Operation[str]:
    """
    The id of the work queue named ``name`` (one list request, ``substring``-filtered on
    ``name``).

    :raises NameLookupError: no queue or several have this name.
    """
    name = validate_name(name, field)
    entries = yield from read_all(session, queues_request([name]))
    found = yield from _resolve(session, _QUEUE, field, [name], entries)
    return found[name]


def queue_ids_of(session: ControlRoomSession, names: Sequence[str], field: str = "queue_names") -> Operation[list[str]]:
    """
    The ids of the work queues with these names, in the order given: one request per 100
    names.

    :raises NameLookupError: naming every name that matched no queue or several.
    """
    return (yield from _ids_of(session, _QUEUE, queues_request, names, field))


def bot_id_of(
    session: ControlRoomSession,
    path: str,
    field: str = "bot_path",
    workspace: Workspace = "public",
    api_task: bool | None = None,
) -> Operation[str]:
    """
    The file id of the task bot or API task at ``path`` in the ``workspace`` (one list
    request for the bots with the path's last part as their name; the folders are matched
    here).

    :param api_task: ``True``: the bot must be an API task; ``False``: a task bot; ``None``:
        either. Checked here because the deploy endpoints of the two differ, and a Control
        Room's refusal of the wrong one does not say which was meant.
    :raises NameLookupError: no bot or several have this path.
    :raises InvalidInputError: the bot at this path is not of the kind ``api_task`` asks for.
    """
    folders = path_folders(path, field)
    kind = _bot_kind(validate_workspace(workspace))
    entries = yield from read_all(session, bot_files_request(folders[-1], workspace))
    found = yield from _resolve(session, kind, field, [path], entries)
    bot_id = found[path]
    if api_task is not None:
        types = {_text(entry, "type") for entry in entries if str(entry.get("id")) == bot_id}
        wrong = TASK_BOT_TYPE if api_task else API_TASK_TYPE
        if wrong in types:
            raise InvalidInputError(
                f"{field} {_quoted(path)} is an API task (id {bot_id}): set api_task=True to deploy it."
                if not api_task
                else f"{field} {_quoted(path)} is a task bot (id {bot_id}), not an API task: "
                "leave api_task unset to deploy it to run-as users or device pools."
            )
    return bot_id


def run_as_user_ids_of(
    session: ControlRoomSession, names: Sequence[str], field: str = "run_as_user_names"
) -> Operation[list[str]]:
    """
    The ids of the run-as users with these usernames, in the order given: one request per
    100 names (an ``or`` of ``substring`` filters).

    :raises NameLookupError: naming every username that matched no run-as user or several.
    """
    return (yield from _ids_of(session, _RUN_AS_USER, run_as_users_request, names, field))


def pool_ids_of(session: ControlRoomSession, names: Sequence[str], field: str = "pool_names") -> Operation[list[str]]:
    """
    The ids of the device pools with these names, in the order given: one request per 100
    names.

    :raises NameLookupError: naming every name that matched no pool or several.
    """
    return (yield from _ids_of(session, _POOL, pools_request, names, field))


def _ids_of(
    session: ControlRoomSession,
    kind: _Kind,
    request: Callable[[Sequence[str]], ApiRequest],
    names: Sequence[str],
    field: str,
) -> Operation[list[str]]:
    wanted = validate_names(names, field)
    entries: list[dict[str, Any]] = []
    for start in range(0, len(wanted), PAGE_LENGTH):
        entries += yield from read_all(session, request(wanted[start : start + PAGE_LENGTH]))
    found = yield from _resolve(session, kind, field, wanted, entries)
    return [found[name] for name in wanted]


def _resolve(
    session: ControlRoomSession,
    kind: _Kind,
    field: str,
    wanted: Sequence[str],
    entries: Sequence[dict[str, Any]],
) -> Operation[dict[str, str]]:
    """
    ``{value: id}`` when each value of ``wanted`` is matched by exactly one entry, compared
    by the kind's key on both sides, every reading of the value counted; else
    :class:`NameLookupError` naming all others.
    """
    keys = {value: kind.keys(value) for value in wanted}
    matches: dict[str, dict[str, dict[str, Any]]] = {value: {} for value in wanted}
    for entry in entries:
        written = kind.written(entry)
        if written is None:
            continue
        key = kind.key(written)
        for value in wanted:
            if key in keys[value]:
                matches[value][str(entry["id"])] = entry  # by id: an entry listed twice is one object
    if all(len(found) == 1 for found in matches.values()):
        return {value: _checked_id(next(iter(found)), kind, value) for value, found in matches.items()}
    listing: list[dict[str, Any]] = []
    complete = True
    if any(not found for found in matches.values()):
        listing, complete = yield from _scan(session, kind.listing())
    listed = [entry for entry in listing if kind.written(entry) is not None]
    raise _lookup_error(kind, field, matches, listed, complete)


def _quoted(text: str) -> str:
    """``text`` in quotes; ``repr`` only where plain quotes would mislead (a path's backslashes stay single)."""
    return f"'{text}'" if text.isprintable() and "'" not in text else repr(text)


def _checked_id(entry_id: str, kind: _Kind, value: str) -> str:
    if not (entry_id.isascii() and entry_id.isdigit()) or int(entry_id) <= 0:
        raise AutomationAnywhereError(
            f"The Control Room listed {kind.noun} {value!r} with the id {entry_id!r}, which is not a positive integer."
        )
    return str(int(entry_id))


def _scan(session: ControlRoomSession, first: ApiRequest) -> Operation[tuple[list[dict[str, Any]], bool]]:
    """At most :data:`CANDIDATE_SCAN_LIMIT` entries of a listing; and whether that was all of it."""
    cursor = PageCursor(first)
    entries: list[dict[str, Any]] = []
    while not cursor.done and len(entries) < CANDIDATE_SCAN_LIMIT:
        entries += yield from read_page(session, cursor)
    return entries[:CANDIDATE_SCAN_LIMIT], cursor.done and len(entries) <= CANDIDATE_SCAN_LIMIT


def _lookup_error(
    kind: _Kind,
    field: str,
    matches: dict[str, dict[str, dict[str, Any]]],
    listed: list[dict[str, Any]],
    complete: bool,
) -> NameLookupError:
    """The error naming each value that matched nothing (with near names from ``listed``) or several."""
    candidates: dict[str, list[tuple[str, str]]] = {}
    lines = []
    for value, found in matches.items():
        if len(found) == 1:
            continue
        if found:
            candidates[value] = [(entry_id, kind.label(entry)) for entry_id, entry in found.items()]
            lines.append(f"{_quoted(value)}: {len(found)} {kind.noun}s match: {_matches(value, found, kind)}")
        else:
            near = _near(value, listed, kind)
            candidates[value] = [(str(entry["id"]), kind.label(entry)) for entry in near]
            lines.append(f"{_quoted(value)}: no {kind.noun} matches. {_offer(near, listed, complete, kind)}")
    if len(matches) == 1:
        summary = f"{field} {lines[0]}"
    else:
        summary = f"{field}: {len(lines)} of {len(matches)} could not be resolved:\n" + "\n".join(
            f"  {line}" for line in lines
        )
    return NameLookupError(summary, field=field, values=list(candidates), candidates=candidates)


def _matches(value: str, found: dict[str, dict[str, Any]], kind: _Kind) -> str:
    """
    The entries a value matched, the one written exactly as given marked; how names are
    compared when they are written differently.
    """
    readings = kind.readings(value)
    exact = [entry_id for entry_id, entry in found.items() if kind.written(entry) in readings]
    shown = ", ".join(
        f"id {entry_id} ({_quoted(kind.label(entry))}{', as given' if exact == [entry_id] else ''})"
        for entry_id, entry in found.items()
    )
    differ = len({kind.written(entry) for entry in found.values()}) > 1
    return f"{shown}.{' ' + kind.rule if differ else ''} Give {kind.id_field} instead."


def _offer(near: list[dict[str, Any]], listed: list[dict[str, Any]], complete: bool, kind: _Kind) -> str:
    """What to tell of the candidates for a value that matched nothing."""

    def show(entries: list[dict[str, Any]]) -> str:
        return ", ".join(f"{_quoted(kind.label(entry))} (id {entry['id']})" for entry in entries)

    if near:
        return f"Near names: {show(near)}."
    if not listed:
        return f"The connection's user sees no {kind.noun}: check the name, and the user's permissions."
    first = sorted(listed, key=kind.label)[:MAX_CANDIDATES]
    more = ", ..." if len(listed) > len(first) or not complete else ""
    count = f"{len(listed)}" if complete else f"more than {len(listed)}"
    return f"Nothing similar among the {count} {kind.noun}(s) the connection's user sees: {show(first)}{more}."


#: Least similarity (difflib's ratio, 0..1) of a near name.
NEAR = 0.6


def _near(value: str, listed: list[dict[str, Any]], kind: _Kind) -> list[dict[str, Any]]:
    """
    Up to :data:`MAX_CANDIDATES` entries close to ``value``, closest first: the same but for
    case, then (for a bot) the same name in another folder, then names containing it or
    contained in it, then names at least :data:`NEAR` alike. A bot is judged by its name;
    its folders count only when the whole path is the same but for case.
    """
    wanted = [text.casefold() for text in kind.texts(value)]
    scored = []
    for entry in listed:
        score = _similarity([text.casefold() for text in kind.texts(kind.label(entry))], wanted)
        if score >= NEAR:
            scored.append((-score, kind.label(entry), entry))
    scored.sort(key=lambda item: (item[0], item[1]))
    return [entry for _, _, entry in scored[:MAX_CANDIDATES]]


def _similarity(texts: list[str], wanted: list[str]) -> float:
    """``texts``, ``wanted``: the whole name (a bot's path) first, the name alone last."""
    whole, name, wanted_whole, wanted_name = texts[0], texts[-1], wanted[0], wanted[-1]
    if whole == wanted_whole:
        return 3.0
    if name == wanted_name:
        return 2.5
    if min(len(name), len(wanted_name)) >= 3 and (wanted_name in name or name in wanted_name):
        return 2.0
    return difflib.SequenceMatcher(None, name, wanted_name).ratio()
