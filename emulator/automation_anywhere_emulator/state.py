"""
The emulated Control Room's data and rules: users, sessions, queues, work items, bots and
their runs.

One lock guards everything; every public method takes it and first brings what time drives
up to now, in time order: other producers' items (``busy_queues``), late commits
(:meth:`ControlRoomState.commit_later`) and the emulated bot (see :mod:`.bot_runner`). So
nothing runs while nobody asks, except a timer for a late commit that is due. Methods raise
:class:`ApiError` for refusals.

Validation (the ``late_commit`` fault): inside :func:`validating`, a request that would be
accepted stops with :class:`Accepted` just before it would change anything; refusals are
raised as usual.

Sessions: a password login without ``multipleLogin: true`` is a single session and ends the
user's earlier *single* sessions (their next call → 401 UM1114). Multi sessions
(``multipleLogin: true`` logins, tokens from :meth:`issue_token`) neither end others nor are
ended by logins. A user seeded with ``allowMultipleLogin: false`` asking for
``multipleLogin`` gets 403. An API-key login is a multi session only for a user allowed
multiple logins; for one without, it is a single session, ending the user's others and
ended by the next (AA's 2024-08 "multi-login user" page: an API key "does not bypass the
permission requirement"; its 2022 API-key page's "always multi-session" is outdated).

Time: timelines run on the base clock, what the Control Room shows or judges (timestamps,
token ``iat``/``exp`` and expiry) on its own clock, ``clock_offset`` apart (:mod:`.clock`).
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import heapq
import hmac
import itertools
import json
import sys
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator
from typing import Any, Concatenate, ParamSpec, TypeVar

from automation_anywhere_emulator import filters, item_lists, status_rules
from automation_anywhere_emulator.bot_runner import BotIdentity, BotRunner
from automation_anywhere_emulator.clock import ControlRoomClock
from automation_anywhere_emulator.config import EmulatorConfig
from automation_anywhere_emulator.deployments import (
    ApiTaskSlots,
    Bot,
    BotRun,
    check_bot_input,
    headless_request,
    id_list,
    run_outcome,
    users_to_use,
    uses_pools,
    whole_number,
)
from automation_anywhere_emulator.history import History
from automation_anywhere_emulator.lookups import API_TASK, TASK_BOT, Directory, bot_file
from automation_anywhere_emulator.models import (
    EVICTED,
    LOGGED_OUT,
    OTHER_PRODUCER,
    Queue,
    Session,
    User,
    WorkItem,
    as_long,
    require_version,
)
from automation_anywhere_emulator.responses import ApiError, bad_request
from automation_anywhere_emulator.roles import RoleStore
from automation_anywhere_emulator.tokens import TokenIssuer

# Error codes. UM1101 and UM1114 are the Control Room's; the others are the emulator's choice.
BAD_CREDENTIALS = "UM1101"
TOKEN_MISSING = "UM1102"
TOKEN_INVALID = "UM1103"
TOKEN_EXPIRED = "UM1110"
LOGGED_IN_TWICE = "UM1114"
MULTIPLE_LOGIN_NOT_ALLOWED = "UM1116"
QUEUE_NOT_FOUND = "WLM_QUEUE_NOT_FOUND"
WORK_ITEM_NOT_FOUND = "WLM_WORKITEM_NOT_FOUND"
DUPLICATE_WORK_ITEM = "WLM_DUPLICATE_WORKITEM"
VERSION_CONFLICT = "WLM_VERSION_CONFLICT"
BOT_NOT_FOUND = "BOT_NOT_FOUND"
WORKSPACE_NOT_FOUND = "REPOSITORY_WORKSPACE_NOT_FOUND"
POOL_NOT_FOUND = "DEVICE_POOL_NOT_FOUND"
NO_COMPATIBLE_TARGETS = "NO_COMPATIBLE_TARGETS"
NO_QUEUE_PERMISSION = "WLM_ACCESS_DENIED"
#: Seeded role names that give a user queue rights.
QUEUE_ROLES = frozenset({"AAE_Queue Admin"})
ACTIVITY_NOT_FOUND = "ACTIVITY_NOT_FOUND"
EXECUTION_FINISHED = "EXECUTION_ALREADY_FINISHED"
DEPLOYMENT_NOT_FOUND = "DEPLOYMENT_NOT_FOUND"
#: A headless deploy whose runs find no free API task slot (the emulator's code: unconfirmed).
API_TASK_SLOTS_EXHAUSTED = "API_TASK_SLOTS_EXHAUSTED"

#: Shortest wait of the late-commit timer: a clock that a test holds just short of a commit's
#: moment must not make it spin.
MIN_TIMER_DELAY = 0.01

_P = ParamSpec("_P")
_T = TypeVar("_T")

_VALIDATING: contextvars.ContextVar[bool] = contextvars.ContextVar("validating", default=False)


class Accepted(Exception):
    """Raised, inside :func:`validating`, where a request would first change something."""


@contextlib.contextmanager
def validating() -> Iterator[None]:
    """Within the block (this thread only), accepted requests stop with :class:`Accepted`, unapplied."""
    token = _VALIDATING.set(True)
    try:
        yield
    finally:
        _VALIDATING.reset(token)


def _changing() -> None:
    """Mark where a request, all checks passed, starts changing things."""
    if _VALIDATING.get():
        raise Accepted


def _transaction(
    method: Callable[Concatenate[ControlRoomState, _P], _T],
) -> Callable[Concatenate[ControlRoomState, _P], _T]:
    """Run ``method`` under the lock, once what time drives has caught up with the clock."""

    @functools.wraps(method)
    def locked(self: ControlRoomState, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        with self._lock:
            self._catch_up()
            return method(self, *args, **kwargs)

    return locked


@dataclasses.dataclass
class _Producer:
    """Another producer adding items to a queue at ``rate`` per second since base time ``since``."""

    queue_id: int
    rate: float
    since: float
    made: int = 0

    @property
    def next_at(self) -> float:
        # From the start, not by adding up intervals: no drift over thousands of items.
        return self.since + (self.made + 1) / self.rate


@dataclasses.dataclass(order=True)
class _LateCommit:
    """A request to process at base time ``due`` (``number``: first come, first done)."""

    due: float
    number: int
    action: Callable[[], object] = dataclasses.field(compare=False)


class ControlRoomState:
    def __init__(self, seed: dict[str, Any], config: EmulatorConfig, source: Callable[[], float]) -> None:
        self._lock = threading.RLock()
        self._source = source
        self._timer: threading.Timer | None = None
        #: Called with every token issued (see ControlRoomEmulator.observe).
        self.token_observers: list[Callable[[str], None]] = []
        self._load(seed, config)

    def _load(self, seed: dict[str, Any], config: EmulatorConfig) -> None:
        self._clock = ControlRoomClock(self._source, config.clock_offset)
        now = self._clock.now()
        self._config = config
        self._tokens = TokenIssuer()
        self._users = {user.username: user for user in map(User.from_seed, seed["users"])}
        # The seeded queues' creator, and of items added directly (add_items) by nobody in particular.
        self._first_user = min((user.id for user in self._users.values()), default=0)
        self._queues = {
            queue.id: queue for queue in (Queue.from_seed(entry, self._first_user, now) for entry in seed["queues"])
        }
        # Each queue's items by id, in id order: the order lists start from (see item_lists).
        self._items: dict[int, dict[int, WorkItem]] = {queue_id: {} for queue_id in self._queues}
        self._next_item_id = int(seed.get("firstWorkItemId", 40001))
        self._producers: dict[int, _Producer] = {}
        self._produced = {queue_id: 0 for queue_id in self._queues}  # other producers' items so far
        self._set_producers(config, self._clock.base())
        self._late: list[_LateCommit] = []  # a heap by due time
        self._late_numbers = itertools.count()
        self._timer_due = 0.0
        self._replaying = False
        self._sessions: dict[str, Session] = {}
        self._identity = BotIdentity.from_seed(seed.get("bot", {"deviceId": 1, "deviceUserId": 1, "automationId": 1}))
        self._bot = BotRunner(self._identity)
        self._bots = {bot.id: bot for bot in map(Bot.from_seed, seed.get("bots", []))}
        # Run-as users, device pools and private bots, for look-ups by name (see lookups).
        self._directory = Directory.from_seed(seed, self._first_user, now)
        self._runs: dict[str, BotRun] = {}
        self._history = self._past(config.history_runs)
        self._pool_devices = {
            int(pool["id"]): [int(device) for device in pool.get("deviceIds") or []] for pool in seed.get("pools", [])
        }
        self._roles = RoleStore.from_seed(seed, self._first_user, now)

    # -- administration ------------------------------------------------------------------

    @property
    def config(self) -> EmulatorConfig:
        return self._config

    def now(self) -> float:
        """The Control Room's time (``clock_offset`` included)."""
        return self._clock.now()

    @_transaction
    def set_config(self, config: EmulatorConfig) -> None:
        """Switch settings; everything has already caught up under the old ones."""
        self._set_producers(config, self._clock.base())
        self._clock.set_offset(config.clock_offset)
        if config.history_runs != self._config.history_runs:
            self._history = self._past(config.history_runs)
        self._config = config

    def reset(self, seed: dict[str, Any], config: EmulatorConfig) -> None:
        with self._lock:
            self.cancel_late_commits()
            self._load(seed, config)

    def _set_producers(self, config: EmulatorConfig, now: float) -> None:
        """Other producers as ``config.busy_queues`` says from ``now``; an unknown queue → ``ValueError``."""
        rates = {int(queue_id): rate for queue_id, rate in config.busy_queues.items()}
        unknown = sorted(queue_id for queue_id in rates if queue_id not in self._queues)
        if unknown:
            raise ValueError(f"busy_queues: no queue {', '.join(map(str, unknown))} in the emulator's seed")
        producers = {}
        for queue_id, rate in rates.items():
            if rate == 0:
                continue
            producer = self._producers.get(queue_id)
            if producer is None or producer.rate != rate:
                producer = _Producer(queue_id, rate, now)
            producers[queue_id] = producer
        self._producers = producers

    @_transaction
    def drop_sessions(self) -> None:
        """Forget every session, as a restarted Control Room does."""
        self._sessions.clear()

    @_transaction
    def issue_token(self, username: str) -> str:
        """A token for a new multi session of ``username``, as an administrator would hand out."""
        return self._open_session(self._known_user(username), multiple=True)

    @_transaction
    def set_password(self, username: str, password: str) -> None:
        """Change a user's password, as an administrator rotating it does; sessions stay."""
        if not isinstance(password, str) or not password:
            raise ValueError("password must be a non-empty string")
        self._users[username] = dataclasses.replace(self._known_user(username), password=password)

    def password(self, username: str) -> str | None:
        return self._known_user(username).password

    @_transaction
    def evict(self, username: str) -> int:
        """End all live sessions of ``username``; their next call gets 401 UM1114."""
        user = self._known_user(username)
        return self._end_sessions(user, single_only=False)

    @_transaction
    def work_items(self, queue_id: int | str) -> list[dict[str, Any]]:
        return [item.public(self._config.numeric_ids) for item in self._items[int(queue_id)].values()]

    @_transaction
    def add_items(self, queue_id: int | str, datas: list[dict[str, Any]], username: str | None) -> list[dict[str, Any]]:
        """
        Add items as ``username`` (``None``: the seed's first user) would over the API, with
        the queue's duplicate rule; ``ValueError`` instead of an answer for what it refuses.
        """
        try:
            queue = self._queues[int(queue_id)]
        except (KeyError, ValueError):
            raise ValueError(f"no queue {queue_id!r} in the emulator's seed") from None
        if not isinstance(datas, list) or not all(isinstance(data, dict) for data in datas):
            raise ValueError("datas must be a list of dicts, each an item's json")
        try:  # a copy the caller cannot change later, and proof that it is JSON
            datas = json.loads(json.dumps(datas, allow_nan=False))
        except (TypeError, ValueError) as error:
            raise ValueError(f"datas must be JSON data: {error}") from None
        created_by = self._first_user if username is None else self._known_user(username).id
        duplicates = self._duplicates(queue, datas)
        if duplicates:
            raise ValueError(
                f"queue {queue.name!r} does not allow duplicate work items; datas at {duplicates} are, "
                "nothing was added"
            )
        shown, now = self._clock.now(), self._clock.base()
        numeric_ids = self._config.numeric_ids
        return [self._new_item(queue.id, data, created_by, shown, now).public(numeric_ids) for data in datas]

    @_transaction
    def show_activity(self) -> int:
        """List every run's activity record from now on, however late ``activity_delay`` would; how many were hidden."""
        now = self._clock.base()
        hidden = [run for run in self._runs.values() if now < run.visible_at]
        for run in hidden:
            run.visible_at = now
        return len(hidden)

    @_transaction
    def bot_runs(self) -> list[dict[str, Any]]:
        """Every run's activity record, also those not listed yet, oldest first."""
        now = self._clock.base()
        return [run.record(now, self._config.numeric_ids, self._clock) for run in self._runs.values()]

    def _known_user(self, username: str) -> User:
        try:
            return self._users[username]
        except KeyError:
            raise ValueError(f"no user {username!r} in the emulator's seed") from None

    # -- what time drives ----------------------------------------------------------------

    def commit_later(self, seconds: float, action: Callable[[], object]) -> None:
        """
        Do ``action`` (processing a request) ``seconds`` from now, as if it happened then
        (the clock reads that moment in it): on the first request from then on, or by a
        timer if none comes. Unexpected errors in it are printed, not raised.
        """
        with self._lock:
            heapq.heappush(self._late, _LateCommit(self._clock.base() + seconds, next(self._late_numbers), action))
            self._arm()

    def cancel_late_commits(self) -> None:
        """Forget the late commits not done yet (they never happen) and stop their timer."""
        with self._lock:
            self._late.clear()
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _catch_up(self) -> None:
        """Bring other producers, late commits and the bot up to now, in time order."""
        if self._replaying:
            return  # a late commit being done: everything else is already at its moment
        now = self._clock.base()
        while self._late and self._late[0].due <= now:
            commit = heapq.heappop(self._late)
            self._advance(commit.due)
            self._replay(commit)
        self._advance(now)

    def _advance(self, moment: float) -> None:
        self._produce(moment)
        self._bot.advance(self._clock, self._config, moment)

    def _produce(self, until: float) -> None:
        """Other producers' items due by base time ``until``, in time order across queues."""
        due = [(producer.next_at, producer.queue_id, producer) for producer in self._producers.values()]
        due = [entry for entry in due if entry[0] <= until]
        heapq.heapify(due)
        while due:
            at, queue_id, producer = heapq.heappop(due)
            producer.made += 1
            self._produced[queue_id] += 1
            data = {"producer": "other", "n": self._produced[queue_id]}
            self._new_item(queue_id, data, OTHER_PRODUCER, self._clock.shown(at), at)
            if producer.next_at <= until:
                heapq.heappush(due, (producer.next_at, queue_id, producer))

    def _replay(self, commit: _LateCommit) -> None:
        self._replaying = True
        # A request being validated may catch up and so do a late commit: that one is for real.
        not_validating = _VALIDATING.set(False)
        try:
            with self._clock.at(commit.due):
                commit.action()
        except Exception:  # an emulator bug: show it, and let whoever caught up go on
            traceback.print_exc(file=sys.stderr)
        finally:
            _VALIDATING.reset(not_validating)
            self._replaying = False

    def _arm(self) -> None:
        """A timer for the earliest late commit, in case no request comes by then (lock held)."""
        if not self._late:
            return
        due = self._late[0].due
        if self._timer is not None:
            if self._timer_due <= due:
                return
            self._timer.cancel()
        timer = threading.Timer(max(due - self._clock.base(), MIN_TIMER_DELAY), lambda: self._on_timer(timer))
        timer.daemon = True
        self._timer, self._timer_due = timer, due
        timer.start()

    def _on_timer(self, timer: threading.Timer) -> None:
        with self._lock:
            if timer is not self._timer:
                return  # cancelled or replaced while it waited for the lock
            self._timer = None
            self._catch_up()
            self._arm()  # the next one; or this one again, when the clock (a test's) is not there yet

    # -- authentication ------------------------------------------------------------------

    @_transaction
    def login(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("username"), str) or not body["username"]:
            raise bad_request("The login body must be a JSON object with username and password, or username and apiKey")
        user = self._users.get(body["username"])
        if "apiKey" in body:
            # Multi-session only where the user may hold several (module docstring).
            secret, given = (user.api_key if user else None), body["apiKey"]
            multiple = user is not None and user.allow_multiple_login
        elif "password" in body:
            multiple = body.get("multipleLogin", False)
            if not isinstance(multiple, bool):
                raise bad_request("multipleLogin must be true or false")
            secret, given = (user.password if user else None), body["password"]
        else:
            raise bad_request("The login body needs a password or an apiKey")
        if user is None or secret is None or not isinstance(given, str) or not hmac.compare_digest(given, secret):
            raise ApiError(401, BAD_CREDENTIALS, "Authentication failed: invalid username, password or API key")
        if multiple and "apiKey" not in body and not user.allow_multiple_login:
            raise ApiError(
                403,
                MULTIPLE_LOGIN_NOT_ALLOWED,
                f"User {user.username!r} is not allowed to hold multiple sessions",
                "Log in without multipleLogin, or allow multiple logins for this user",
            )
        _changing()
        if not multiple:
            self._end_sessions(user, single_only=True)
        return {"token": self._open_session(user, multiple), "user": user.public()}

    @_transaction
    def refresh(self, body: Any) -> dict[str, Any]:
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise bad_request("The refresh body must be a JSON object with the current token")
        session = self._live_session(token)
        _changing()
        return {"token": self._issue(session)}

    @_transaction
    def is_valid(self, token: str) -> bool:
        try:
            self._live_session(token)
        except ApiError:
            return False
        return True

    @_transaction
    def logout(self, token: str | None) -> None:
        session = self._live_session(token)
        _changing()
        session.ended = LOGGED_OUT

    @_transaction
    def authenticate(self, token: str | None) -> Session:
        """The live session of ``token``, or 401 naming why not."""
        return self._live_session(token)

    def person(self, username: str) -> Session:
        """``username`` acting in the Control Room's UI: a session of its own, no token issued, nothing evicted."""
        return Session(uuid.uuid4().hex, self._known_user(username), True)

    def _open_session(self, user: User, multiple: bool) -> str:
        session = Session(uuid.uuid4().hex, user, multiple)
        self._sessions[session.id] = session
        return self._issue(session)

    def _issue(self, session: Session) -> str:
        token = self._tokens.issue(
            user_id=session.user.id,
            session_id=session.id,
            now=self._clock.now(),
            lifetime=self._config.token_lifetime,
            claims=self._config.token_claims,
        )
        for observe in self.token_observers:
            observe(token)
        return token

    def username_of(self, token: str) -> str | None:
        """The user a token of this Control Room was issued to (live, expired or ended); ``None`` otherwise."""
        claims = self._tokens.read(token)
        if claims is None:
            return None
        return next((user.username for user in self._users.values() if str(user.id) == claims["sub"]), None)

    def _end_sessions(self, user: User, *, single_only: bool) -> int:
        ended = [
            session
            for session in self._sessions.values()
            if session.user.id == user.id and session.ended is None and not (single_only and session.multiple)
        ]
        for session in ended:
            session.ended = EVICTED
        return len(ended)

    def _live_session(self, token: str | None) -> Session:
        if not token:
            raise ApiError(
                401, TOKEN_MISSING, "Authentication token missing", "Send the token in the X-Authorization header"
            )
        claims = self._tokens.read(token)
        session = self._sessions.get(claims["sid"]) if claims else None
        if claims is None or session is None:
            raise ApiError(
                401, TOKEN_INVALID, "Invalid token", "The token is not one of this Control Room's live sessions"
            )
        if session.ended == EVICTED:
            raise ApiError(
                401,
                LOGGED_IN_TWICE,
                "You are logged in twice",
                "This session was ended by another login of the same user",
            )
        if session.ended == LOGGED_OUT:
            raise ApiError(401, TOKEN_INVALID, "Invalid token", "This session was logged out")
        if self._clock.now() >= claims["ends"]:
            raise ApiError(401, TOKEN_EXPIRED, "Token expired", "Log in again, or refresh the token before it expires")
        return session

    # -- queues and work items -----------------------------------------------------------

    def require_queue_rights(self, session: Session) -> None:
        """
        403 for a user seeded with roles none of which gives queue rights (e.g. a user that
        only deploys bots); a user seeded without ``roles`` may do everything.
        """
        roles = session.user.profile.get("roles")
        if isinstance(roles, list) and not any(
            isinstance(role, dict) and role.get("name") in QUEUE_ROLES for role in roles
        ):
            raise ApiError(
                403,
                NO_QUEUE_PERMISSION,
                f"User {session.user.username!r} has no permission for work queues",
                "Needs AAE_Queue Admin, or queue owner or participant rights",
            )

    @_transaction
    def list_queues(self, body: Any) -> dict[str, Any]:
        queues = [queue.public(self._config.numeric_ids) for queue in sorted(self._queues.values(), key=lambda q: q.id)]
        return self._list(queues, body)

    @_transaction
    def get_queue(self, queue_id: str) -> dict[str, Any]:
        return self._queue(queue_id).public(self._config.numeric_ids)

    @_transaction
    def add_work_items(self, session: Session, queue_id: str, body: Any) -> dict[str, Any]:
        queue = self._queue(queue_id)
        entries = body.get("workItems") if isinstance(body, dict) else None
        if not isinstance(entries, list) or not entries:
            raise bad_request('The body must be {"workItems": [{"json": {...}}, ...]} with at least one item')
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict) or not isinstance(entry.get("json"), dict):
                raise bad_request(f"workItems[{index}] needs a json object with the item's attributes")
        duplicates = self._duplicates(queue, [entry["json"] for entry in entries])
        if duplicates:
            raise ApiError(
                409,
                DUPLICATE_WORK_ITEM,
                f"Queue {queue.name!r} does not allow duplicate work items; nothing was added",
                json.dumps(duplicates),
            )
        _changing()
        shown, now, numeric_ids = self._clock.now(), self._clock.base(), self._config.numeric_ids
        created = [self._new_item(queue.id, entry["json"], session.user.id, shown, now) for entry in entries]
        return _add_answer([item.public(numeric_ids) for item in created], self._config.add_answer_shape)

    @_transaction
    def list_work_items(self, queue_id: str, body: Any) -> dict[str, Any]:
        queue = self._queue(queue_id)
        return item_lists.list_items(self._items[queue.id], self._parsed(body), self._config.numeric_ids)

    @_transaction
    def get_work_item(self, queue_id: str, item_id: str) -> dict[str, Any]:
        return self._item(self._queue(queue_id), item_id).public(self._config.numeric_ids)

    @_transaction
    def update_work_item(self, session: Session, queue_id: str, item_id: str, body: Any) -> dict[str, Any]:
        item = self._item(self._queue(queue_id), item_id)
        if not isinstance(body, dict) or "version" not in body:
            raise bad_request("The update body must be a JSON object with the item's current version")
        require_version(body, item.version, f"Work item {item.id}", VERSION_CONFLICT)
        if "json" in body and not isinstance(body["json"], dict):
            raise bad_request("json must be an object")
        for name in ("result", "status", "comment"):
            if name in body and not isinstance(body[name], str):
                raise bad_request(f"{name} must be text")
        if body.get("status") == "":
            raise bad_request("status must not be empty")
        status = body.get("status", item.status)
        content = {"json": item.data, "result": item.result, "comment": item.comment}
        changes_content = any(name in body and body[name] != value for name, value in content.items())
        status_rules.check_update(item.id, item.status, status, changes_content=changes_content)
        _changing()
        item.data = body.get("json", item.data)
        item.result = body.get("result", item.result)
        item.comment = body.get("comment", item.comment)
        if status != item.status:
            item.status = status
            item.active_since = None
            item.waiting_since = self._clock.base() if status == "NEW" else None
            if item.waiting_since is not None:
                self._bot.watch(item)
        item.touch(session.user.id, self._clock.now())
        return item.public(self._config.numeric_ids)

    @_transaction
    def delete_work_item(self, queue_id: str, item_id: str) -> None:
        item = self._item(self._queue(queue_id), item_id)
        status_rules.check_delete(item.id, item.status)
        _changing()
        del self._items[item.queue_id][item.id]
        item.waiting_since = item.active_since = None  # the bot lets go of it

    # -- bots ----------------------------------------------------------------------------

    @_transaction
    def deploy_bot(self, session: Session, version: int, body: Any) -> dict[str, Any]:
        """
        Deploy v3 (``fileId``, ``runAsUserIds``) or v4 (``botId``, ``unattendedRequest``): one
        run per user; or an API task (v4 ``headlessRequest``, see :meth:`_deploy_api_task`).
        """
        if not isinstance(body, dict):
            raise bad_request("The deploy body must be a JSON object")
        if version == 4 and "headlessRequest" in body:
            return self._deploy_api_task(session, body)
        if version == 4:
            bot_field, target, where = "botId", body.get("unattendedRequest"), "unattendedRequest."
            if not isinstance(target, dict):
                raise bad_request("unattendedRequest must be an object with runAsUserIds")
        else:
            bot_field, target, where = "fileId", body, ""
        users = id_list(target.get("runAsUserIds"), f"{where}runAsUserIds", required=True)
        pool_ids = id_list(target.get("poolIds"), f"{where}poolIds", required=False)
        on_pools = uses_pools(target, version, where) and bool(pool_ids)
        if on_pools:
            users = users_to_use(target, users, where)
        bot_id = whole_number(body.get(bot_field), bot_field)
        bot = self._bots.get(bot_id)
        if bot is None:
            raise ApiError(404, BOT_NOT_FOUND, f"No bot with id {bot_id} in the public repository")
        if bot.api_task:
            raise bad_request(f"File {bot_id} is an API task: deploy it through /v4 with headlessRequest")
        devices = self._devices_of_pools(pool_ids) if on_pools else [self._identity.device_id]
        bot_input = check_bot_input(body.get("botInput"))
        outcome = run_outcome(bot, bot_input)
        _changing()
        config, now, deployment_id = self._config, self._clock.base(), str(uuid.uuid4())
        automation_name = str(body.get("automationName") or bot.name)
        for index, user_id in enumerate(users):
            run = BotRun(
                id=_run_id(len(self._runs) + 1),
                deployment_id=deployment_id,
                automation_name=automation_name,
                bot=bot,
                run_as_user_id=user_id,
                deployed_by=session.user.id,
                bot_input=bot_input,
                created_on=self._clock.now(),
                deployed_at=now,
                visible_at=now + config.activity_delay,
                running_at=now + config.pickup_delay,
                finished_at=now + config.pickup_delay + config.work_delay,
                outcome=outcome,
                device_id=devices[index % len(devices)],  # the pools' devices in turn
            )
            self._runs[run.id] = run
        return {"deploymentId": deployment_id, "automationName": automation_name}

    def _deploy_api_task(self, session: Session, body: dict[str, Any]) -> dict[str, Any]:
        """
        An API task's ``numberOfExecutions`` runs, without devices, each in a free API task
        slot; 409 when a run finds none, unless ``queueOnSlotsExhaustion`` queues it.
        """
        bot_id = whole_number(body.get("botId"), "botId")
        bot = self._bots.get(bot_id)
        if bot is None:
            raise ApiError(404, BOT_NOT_FOUND, f"No bot with id {bot_id} in the public repository")
        headless = headless_request(body, bot)
        shared = headless.shared_run_as_user_id
        if shared is not None and shared not in {user.id for user in self._directory.run_as_users}:
            raise bad_request(f"headlessRequest.sharedRunAsUserId {shared} is not a run-as user")
        bot_input = check_bot_input(body.get("botInput"))
        outcome = run_outcome(bot, bot_input)
        config, now = self._config, self._clock.base()
        duration = config.pickup_delay + config.work_delay
        unfinished = [run.finished_at for run in self._runs.values() if run.bot.api_task and run.finished_at > now]
        slots = ApiTaskSlots(config.api_task_slots, now, unfinished)
        starts = [slots.take(duration) for _ in range(headless.executions)]
        if any(start is None or (start > now and not headless.queue) for start in starts):
            raise ApiError(
                409,
                API_TASK_SLOTS_EXHAUSTED,
                "No free API task slot",
                f"{len(unfinished)} API task run(s) hold or wait for the tenant's {config.api_task_slots} slot(s); "
                f"{headless.executions} more asked for. Set queueOnSlotsExhaustion to queue them.",
            )
        _changing()
        deployment_id = str(uuid.uuid4())
        automation_name = str(body.get("automationName") or bot.name)
        for start in starts:
            assert start is not None  # refused above
            run = BotRun(
                id=_run_id(len(self._runs) + 1),
                deployment_id=deployment_id,
                automation_name=automation_name,
                bot=bot,
                run_as_user_id=shared,
                deployed_by=session.user.id,
                bot_input=bot_input,
                created_on=self._clock.now(),
                deployed_at=now,
                visible_at=now + config.activity_delay,
                running_at=start + config.pickup_delay,
                finished_at=start + duration,
                outcome=outcome,
                device_id=None,
                queued_until=start,
            )
            self._runs[run.id] = run
        return {"deploymentId": deployment_id, "automationName": automation_name}

    def _devices_of_pools(self, pool_ids: list[int]) -> list[int]:
        """The seeded pools' devices; 404 for an unknown pool, 412 when the pools have none."""
        unknown = [pool_id for pool_id in pool_ids if pool_id not in self._pool_devices]
        if unknown:
            raise ApiError(404, POOL_NOT_FOUND, f"No device pool with id {unknown[0]}")
        devices = [device for pool_id in pool_ids for device in self._pool_devices[pool_id]]
        if not devices:
            pools = ", ".join(map(str, pool_ids))
            raise ApiError(
                412, NO_COMPATIBLE_TARGETS, "No compatible targets found", f"Device pool(s) {pools} have no devices"
            )
        return devices

    @_transaction
    def list_activities(self, body: Any) -> dict[str, Any]:
        now, numeric_ids = self._clock.base(), self._config.numeric_ids
        records = [run.record(now, numeric_ids, self._clock) for run in self._runs.values() if now >= run.visible_at]
        answer = self._history.activity.answer(self._parsed(body), records, numeric_ids)
        if not self._config.activity_deployment_ids:  # filtered on it, not shown
            for record in answer["list"]:
                if record["id"] in self._runs:
                    record.pop("deploymentId", None)
        return answer

    @_transaction
    def list_audit_messages(self, body: Any) -> dict[str, Any]:
        """``/v1/audit/messages/list``: the history's audit log (see history)."""
        return self._history.audit.answer(self._parsed(body), [], self._config.numeric_ids)

    def _past(self, runs: int) -> History:
        """``runs`` finished bot runs before now (``history_runs``; see history)."""
        deployer = min(self._users.values(), key=lambda user: user.id, default=None)  # the seed's first user
        return History.seeded(
            runs,
            self._clock.base(),
            self._clock,
            [bot for bot in self._bots.values() if not bot.api_task],
            [user.id for user in self._directory.run_as_users],
            self._identity.device_id,
            (deployer.id, deployer.username) if deployer else (0, ""),
        )

    @_transaction
    def get_execution(self, execution_id: str) -> dict[str, Any]:
        now = self._clock.base()
        run = self._runs.get(execution_id)
        if run is None or now < run.visible_at:
            raise ApiError(404, ACTIVITY_NOT_FOUND, f"No activity with id {execution_id}")
        return run.execution(now, self._config.numeric_ids, self._clock)

    @_transaction
    def stop_executions(self, body: Any) -> dict[str, Any]:
        """
        ``/v3/activity/manage`` with ``stop_executions``: each run not finished ends
        ``RUN_ABORTED`` now. An execution that is unknown (or not listed yet) or already
        finished is not a 4xx but an entry of ``manage_action_errors`` in the 200 answer,
        as public clients read it (the entries' fields and codes are the emulator's choice).
        With ``stop_takes_deployment_ids`` the ids are deployment ids (see ``EmulatorConfig``).
        """
        action = body.get("stop_executions") if isinstance(body, dict) else None
        ids = action.get("execution_ids") if isinstance(action, dict) else None
        if not isinstance(ids, list) or not ids or not all(isinstance(one, str) and one for one in ids):
            raise bad_request("stop_executions.execution_ids must be a non-empty list of execution ids")
        _changing()
        now, refused = self._clock.base(), []
        for execution_id in ids:
            if self._config.stop_takes_deployment_ids:
                runs = [run for run in self._runs.values() if run.deployment_id == execution_id]
                if not runs:
                    refused.append(
                        _manage_error(execution_id, DEPLOYMENT_NOT_FOUND, f"No deployment with id {execution_id}")
                    )
                elif not any([run.stop(now) for run in runs]):  # a list: every run is stopped
                    message = f"The runs of deployment {execution_id} have already finished"
                    refused.append(_manage_error(execution_id, EXECUTION_FINISHED, message))
                continue
            run = self._runs.get(execution_id)
            if run is None or now < run.visible_at:
                refused.append(_manage_error(execution_id, ACTIVITY_NOT_FOUND, f"No activity with id {execution_id}"))
            elif not run.stop(now):
                message = f"Execution {execution_id} has already finished ({run.status(now)})"
                refused.append(_manage_error(execution_id, EXECUTION_FINISHED, message))
        return {"manage_action_errors": refused}

    # -- look-ups by name (see lookups) ----------------------------------------------------

    @_transaction
    def list_run_as_users(self, body: Any) -> dict[str, Any]:
        return self._list(self._directory.run_as_user_records(self._config.numeric_ids), body)

    @_transaction
    def list_pools(self, body: Any) -> dict[str, Any]:
        return self._list(self._directory.pool_records(self._config.numeric_ids), body)

    @_transaction
    def list_files(self, session: Session, workspace: str, body: Any) -> dict[str, Any]:
        """The repository files of ``workspace``: ``public``, or the caller's ``private`` one."""
        if workspace not in ("public", "private"):
            raise ApiError(404, WORKSPACE_NOT_FOUND, f"No workspace {workspace!r}: it is public or private")
        public = (
            bot_file(bot.id, bot.path, kind=API_TASK if bot.api_task else TASK_BOT) for bot in self._bots.values()
        )
        records = self._directory.file_records(workspace, session.user.username, public, self._config.numeric_ids)
        return self._list(records, body)

    def _list(self, records: list[dict[str, Any]], body: Any) -> dict[str, Any]:
        return filters.query_parsed(records, self._parsed(body))

    def _parsed(self, body: Any) -> filters.ListQuery:
        """A list request's body checked, with this Control Room's list quirks applied."""
        config = self._config
        return filters.parse(
            body,
            page_cap=config.page_cap,
            ignore_offset=config.ignore_offset,
            ignore_filter=config.ignore_filter,
            refuse_time_filters=config.refuse_time_filters,
        )

    # -- roles (see roles) -----------------------------------------------------------------

    @_transaction
    def list_roles(self, session: Session, body: Any) -> dict[str, Any]:
        self._roles.require_admin(session)
        return self._list(self._roles.records(), body)

    @_transaction
    def get_role(self, session: Session, role_id: str) -> dict[str, Any]:
        self._roles.require_admin(session)
        return self._roles.get(role_id)

    @_transaction
    def create_role(self, session: Session, body: Any) -> dict[str, Any]:
        self._roles.require_admin(session)
        return self._roles.create(session, body, self._clock.now(), _changing)

    @_transaction
    def update_role(self, session: Session, role_id: str, body: Any) -> dict[str, Any]:
        self._roles.require_admin(session)
        return self._roles.update(session, role_id, body, self._clock.now(), _changing)

    def _queue(self, queue_id: str) -> Queue:
        number = as_long(queue_id, "queueId")
        queue = self._queues.get(number) if number is not None else None
        if queue is None:
            raise ApiError(404, QUEUE_NOT_FOUND, f"Queue {queue_id} not found")
        return queue

    def _item(self, queue: Queue, item_id: str) -> WorkItem:
        number = as_long(item_id, "id")
        item = self._items[queue.id].get(number) if number is not None else None
        if item is None:
            raise ApiError(404, WORK_ITEM_NOT_FOUND, f"Work item {item_id} not found in queue {queue.id}")
        return item

    def _new_item(self, queue_id: int, data: dict[str, Any], created_by: int, shown: float, at: float) -> WorkItem:
        """Store a NEW item with the next id; ``shown``/``at``: its creation on the Control Room's/base clock."""
        item = WorkItem(self._next_item_id, queue_id, data, created_by, shown, at)
        self._next_item_id += 1
        self._items[queue_id][item.id] = item
        self._bot.watch(item)
        return item

    def _duplicates(self, queue: Queue, datas: list[dict[str, Any]]) -> list[int]:
        """Indexes of ``datas`` a ``disallowDuplicate`` queue refuses: equal to an item or an earlier one."""
        if not queue.disallow_duplicate:
            return []
        seen = {_canonical(item.data) for item in self._items[queue.id].values()}
        duplicates = []
        for index, data in enumerate(datas):
            key = _canonical(data)
            if key in seen:
                duplicates.append(index)
            seen.add(key)
        return duplicates


def _manage_error(execution_id: str, code: str, message: str) -> dict[str, Any]:
    return {"execution_id": execution_id, "error_response": {"code": code, "message": message}}


def _add_answer(items: list[dict[str, Any]], shape: str) -> dict[str, Any]:
    """An add's answer in one of the shapes Control Rooms use (see ``EmulatorConfig.add_answer_shape``)."""
    if shape == "workItems":
        return {"workItems": items}
    if shape == "item" and len(items) == 1:
        return items[0]
    return {"list": items}


def _run_id(number: int) -> str:
    """A UUID-shaped execution id whose first digits count up, so that runs sort by age."""
    return str(uuid.UUID(int=(number << 96) | (uuid.uuid4().int & ((1 << 96) - 1))))


def _canonical(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True)
