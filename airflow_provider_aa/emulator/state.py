"""
The emulated Control Room's data and rules: users, sessions, queues, work items, bots and
their runs.

One lock guards everything; every public method takes it and first lets the emulated bot
catch up (see :mod:`bot_runner`). Methods raise :class:`ApiError` for refusals.

Sessions: a password login without ``multipleLogin: true`` is a single session and ends the
user's earlier *single* sessions (their next call → 401 UM1114). Multi sessions (API-key
logins, ``multipleLogin: true`` logins, tokens from :meth:`issue_token`) neither end others
nor are ended by logins. A user seeded with ``allowMultipleLogin: false`` asking for
``multipleLogin`` gets 403.
"""

from __future__ import annotations

import functools
import hmac
import json
import threading
import uuid
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from airflow_provider_aa.emulator import filters
from airflow_provider_aa.emulator.bot_runner import BotIdentity, BotRunner
from airflow_provider_aa.emulator.config import EmulatorConfig
from airflow_provider_aa.emulator.deployments import Bot, BotRun, check_bot_input, id_list, run_outcome, whole_number
from airflow_provider_aa.emulator.models import EVICTED, LOGGED_OUT, Queue, Session, User, WorkItem
from airflow_provider_aa.emulator.responses import ApiError, bad_request
from airflow_provider_aa.emulator.tokens import TokenIssuer

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
ACTIVITY_NOT_FOUND = "ACTIVITY_NOT_FOUND"

_P = ParamSpec("_P")
_T = TypeVar("_T")


def _transaction(
    method: Callable[Concatenate[ControlRoomState, _P], _T],
) -> Callable[Concatenate[ControlRoomState, _P], _T]:
    """Run ``method`` under the lock, after the bot has caught up with the clock."""

    @functools.wraps(method)
    def locked(self: ControlRoomState, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        with self._lock:
            self._bot.advance(self._items.values(), self._clock(), self._config)
            return method(self, *args, **kwargs)

    return locked


class ControlRoomState:
    def __init__(self, seed: dict[str, Any], config: EmulatorConfig, clock: Callable[[], float]) -> None:
        self._lock = threading.RLock()
        self._clock = clock
        self._load(seed, config)

    def _load(self, seed: dict[str, Any], config: EmulatorConfig) -> None:
        now = self._clock()
        self._config = config
        self._tokens = TokenIssuer()
        self._users = {user.username: user for user in map(User.from_seed, seed["users"])}
        creator = min((user.id for user in self._users.values()), default=0)
        self._queues = {queue.id: queue for queue in (Queue.from_seed(entry, creator, now) for entry in seed["queues"])}
        self._items: dict[int, WorkItem] = {}
        self._next_item_id = int(seed.get("firstWorkItemId", 40001))
        self._sessions: dict[str, Session] = {}
        self._identity = BotIdentity.from_seed(seed.get("bot", {"deviceId": 1, "deviceUserId": 1, "automationId": 1}))
        self._bot = BotRunner(self._identity)
        self._bots = {bot.id: bot for bot in map(Bot.from_seed, seed.get("bots", []))}
        self._runs: dict[str, BotRun] = {}

    # -- administration ------------------------------------------------------------------

    @property
    def config(self) -> EmulatorConfig:
        return self._config

    @_transaction
    def set_config(self, config: EmulatorConfig) -> None:
        """Switch settings; the bot has already caught up under the old ones."""
        self._config = config

    def reset(self, seed: dict[str, Any], config: EmulatorConfig) -> None:
        with self._lock:
            self._load(seed, config)

    @_transaction
    def drop_sessions(self) -> None:
        """Forget every session, as a restarted Control Room does."""
        self._sessions.clear()

    @_transaction
    def issue_token(self, username: str) -> str:
        """A token for a new multi session of ``username``, as an administrator would hand out."""
        return self._open_session(self._known_user(username), multiple=True)

    @_transaction
    def evict(self, username: str) -> int:
        """End all live sessions of ``username``; their next call gets 401 UM1114."""
        user = self._known_user(username)
        return self._end_sessions(user, single_only=False)

    @_transaction
    def work_items(self, queue_id: int | str) -> list[dict[str, Any]]:
        queue = self._queues[int(queue_id)]
        return [item.public(self._config.numeric_ids) for item in self._queue_items(queue)]

    @_transaction
    def bot_runs(self) -> list[dict[str, Any]]:
        """Every run's activity record, also those not listed yet, oldest first."""
        now = self._clock()
        return [run.record(now, self._config.numeric_ids) for run in self._runs.values()]

    def _known_user(self, username: str) -> User:
        try:
            return self._users[username]
        except KeyError:
            raise ValueError(f"no user {username!r} in the emulator's seed") from None

    # -- authentication ------------------------------------------------------------------

    @_transaction
    def login(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("username"), str) or not body["username"]:
            raise bad_request("The login body must be a JSON object with username and password, or username and apiKey")
        user = self._users.get(body["username"])
        if "apiKey" in body:
            secret, given, multiple = user.api_key if user else None, body["apiKey"], True
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
        if not multiple:
            self._end_sessions(user, single_only=True)
        return {"token": self._open_session(user, multiple), "user": user.public()}

    @_transaction
    def refresh(self, body: Any) -> dict[str, Any]:
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise bad_request("The refresh body must be a JSON object with the current token")
        session = self._live_session(token)
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
        self._live_session(token).ended = LOGGED_OUT

    @_transaction
    def authenticate(self, token: str | None) -> Session:
        """The live session of ``token``, or 401 naming why not."""
        return self._live_session(token)

    def _open_session(self, user: User, multiple: bool) -> str:
        session = Session(uuid.uuid4().hex, user, multiple)
        self._sessions[session.id] = session
        return self._issue(session)

    def _issue(self, session: Session) -> str:
        return self._tokens.issue(
            user_id=session.user.id, session_id=session.id, now=self._clock(), lifetime=self._config.token_lifetime
        )

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
        if self._clock() >= claims["exp"]:
            raise ApiError(401, TOKEN_EXPIRED, "Token expired", "Log in again, or refresh the token before it expires")
        return session

    # -- queues and work items -----------------------------------------------------------

    @_transaction
    def list_queues(self, body: Any) -> dict[str, Any]:
        queues = [queue.public(self._config.numeric_ids) for queue in sorted(self._queues.values(), key=lambda q: q.id)]
        return filters.query(queues, body)

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
        if queue.disallow_duplicate:
            self._refuse_duplicates(queue, [entry["json"] for entry in entries])
        now = self._clock()
        created = []
        for entry in entries:
            item = WorkItem(self._next_item_id, queue.id, entry["json"], session.user.id, now)
            self._items[item.id] = item
            self._next_item_id += 1
            created.append(item.public(self._config.numeric_ids))
        return {"list": created}

    @_transaction
    def list_work_items(self, queue_id: str, body: Any) -> dict[str, Any]:
        queue = self._queue(queue_id)
        records = [item.public(self._config.numeric_ids) for item in self._queue_items(queue)]
        return filters.query(records, body)

    @_transaction
    def get_work_item(self, queue_id: str, item_id: str) -> dict[str, Any]:
        return self._item(self._queue(queue_id), item_id).public(self._config.numeric_ids)

    @_transaction
    def update_work_item(self, session: Session, queue_id: str, item_id: str, body: Any) -> dict[str, Any]:
        item = self._item(self._queue(queue_id), item_id)
        if not isinstance(body, dict) or "version" not in body:
            raise bad_request("The update body must be a JSON object with the item's current version")
        version = _whole_number(body["version"])
        if version is None:
            raise bad_request(f"version must be a number, not {body['version']!r}")
        if version != item.version:
            raise ApiError(
                409,
                VERSION_CONFLICT,
                f"Work item {item.id} was changed meanwhile: its version is {item.version}, not {body['version']}",
                "Read the item again and retry the update with its current version",
            )
        if "json" in body and not isinstance(body["json"], dict):
            raise bad_request("json must be an object")
        for name in ("result", "status", "comment"):
            if name in body and not isinstance(body[name], str):
                raise bad_request(f"{name} must be text")
        if body.get("status") == "":
            raise bad_request("status must not be empty")
        now = self._clock()
        item.data = body.get("json", item.data)
        item.result = body.get("result", item.result)
        item.comment = body.get("comment", item.comment)
        status = body.get("status", item.status)
        if status != item.status:
            item.status = status
            item.active_since = None
            item.waiting_since = now if status == "NEW" else None
        item.touch(session.user.id, now)
        return item.public(self._config.numeric_ids)

    @_transaction
    def delete_work_item(self, queue_id: str, item_id: str) -> None:
        del self._items[self._item(self._queue(queue_id), item_id).id]

    # -- bots ----------------------------------------------------------------------------

    @_transaction
    def deploy_bot(self, session: Session, version: int, body: Any) -> dict[str, Any]:
        """Deploy v3 (``fileId``, ``runAsUserIds``) or v4 (``botId``, ``unattendedRequest``): one run per user."""
        if not isinstance(body, dict):
            raise bad_request("The deploy body must be a JSON object")
        if version == 4:
            bot_field, target, where = "botId", body.get("unattendedRequest"), "unattendedRequest."
            if not isinstance(target, dict):
                raise bad_request("unattendedRequest must be an object with runAsUserIds")
        else:
            bot_field, target, where = "fileId", body, ""
        users = id_list(target.get("runAsUserIds"), f"{where}runAsUserIds", required=True)
        id_list(target.get("poolIds"), f"{where}poolIds", required=False)
        bot_id = whole_number(body.get(bot_field), bot_field)
        bot = self._bots.get(bot_id)
        if bot is None:
            raise ApiError(404, BOT_NOT_FOUND, f"No bot with id {bot_id} in the public repository")
        bot_input = check_bot_input(body.get("botInput"))
        outcome = run_outcome(bot, bot_input)
        config, now, deployment_id = self._config, self._clock(), str(uuid.uuid4())
        for user_id in users:
            run = BotRun(
                id=_run_id(len(self._runs) + 1),
                deployment_id=deployment_id,
                bot=bot,
                run_as_user_id=user_id,
                deployed_by=session.user.id,
                bot_input=bot_input,
                deployed_at=now,
                visible_at=now + config.activity_delay,
                running_at=now + config.pickup_delay,
                finished_at=now + config.pickup_delay + config.work_delay,
                outcome=outcome,
                device_id=self._identity.device_id,
            )
            self._runs[run.id] = run
        return {"deploymentId": deployment_id, "automationName": str(body.get("automationName") or bot.name)}

    @_transaction
    def list_activities(self, body: Any) -> dict[str, Any]:
        now = self._clock()
        records = [run.record(now, self._config.numeric_ids) for run in self._runs.values() if now >= run.visible_at]
        return filters.query(records, body)

    @_transaction
    def get_execution(self, execution_id: str) -> dict[str, Any]:
        now = self._clock()
        run = self._runs.get(execution_id)
        if run is None or now < run.visible_at:
            raise ApiError(404, ACTIVITY_NOT_FOUND, f"No activity with id {execution_id}")
        return run.execution(now, self._config.numeric_ids)

    def _queue(self, queue_id: str) -> Queue:
        number = _whole_number(queue_id)
        queue = self._queues.get(number) if number is not None else None
        if queue is None:
            raise ApiError(404, QUEUE_NOT_FOUND, f"Queue {queue_id} not found")
        return queue

    def _item(self, queue: Queue, item_id: str) -> WorkItem:
        number = _whole_number(item_id)
        item = self._items.get(number) if number is not None else None
        if item is None or item.queue_id != queue.id:
            raise ApiError(404, WORK_ITEM_NOT_FOUND, f"Work item {item_id} not found in queue {queue.id}")
        return item

    def _queue_items(self, queue: Queue) -> list[WorkItem]:
        return [item for item in self._items.values() if item.queue_id == queue.id]

    def _refuse_duplicates(self, queue: Queue, datas: list[dict[str, Any]]) -> None:
        seen = {_canonical(item.data) for item in self._queue_items(queue)}
        duplicates = []
        for index, data in enumerate(datas):
            key = _canonical(data)
            if key in seen:
                duplicates.append(index)
            seen.add(key)
        if duplicates:
            raise ApiError(
                409,
                DUPLICATE_WORK_ITEM,
                f"Queue {queue.name!r} does not allow duplicate work items; nothing was added",
                json.dumps(duplicates),
            )


def _whole_number(value: Any) -> int | None:
    """``value`` as an int when it is one or a string of ASCII digits, else ``None``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def _run_id(number: int) -> str:
    """A UUID-shaped execution id whose first digits count up, so that runs sort by age."""
    return str(uuid.UUID(int=(number << 96) | (uuid.uuid4().int & ((1 << 96) - 1))))


def _canonical(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True)
