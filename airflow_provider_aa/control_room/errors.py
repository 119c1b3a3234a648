"""
The provider's errors, all of them, and how Control Room answers become errors.

They derive from ``Exception`` only: the protocol imports no Airflow. Where the provider
meets Airflow (the hook's methods, the operators and sensors) an error is raised in its
Airflow form (:func:`airflow_provider_aa.tasks.errors.airflow_error`): an instance of a
subclass of its class that is also an ``AirflowException``, and for a :class:`FatalError`
an ``AirflowFailException``, so that ``except LoginRefusedError`` and
``isinstance(error, FatalError)`` hold there as everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, quote_plus

from airflow_provider_aa.control_room.decoding import decode_json

if TYPE_CHECKING:
    from airflow_provider_aa.control_room.bots import BotDeployment

E = TypeVar("E", bound=BaseException)

#: Longest piece of an unexpected body quoted in an error message.
_BODY_EXCERPT = 200
#: What a secret is replaced with in an error.
MASKED = "***"
#: Shortest start of a secret masked at the end of a text (an excerpt cut inside the secret).
_CUT_SECRET = 4


class AutomationAnywhereError(Exception):
    """
    A Control Room call failed, or the provider was given input it cannot use.

    Attributes describe the failed call when there was one: ``status`` (HTTP status, or
    ``None`` when no answer arrived), ``method``, ``path`` (never with a query string that
    could hold a token), and the Control Room's ``code``, ``message`` and ``details``.
    Messages never contain passwords, API keys or tokens.
    """

    def __init__(
        self,
        summary: str,
        *,
        status: int | None = None,
        method: str | None = None,
        path: str | None = None,
        code: str | None = None,
        message: str | None = None,
        details: str | None = None,
    ) -> None:
        self.summary = summary
        self.status = status
        self.method = method
        self.path = path
        self.code = code
        self.message = message
        self.details = details
        super().__init__(self._render())

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as its fields: subclasses' __init__ take keyword arguments that args lacks.
        return restored, (type(self), self.args, self.__dict__)

    def call_fields(self) -> dict[str, Any]:
        """The failed call's fields, for another error about the same call: ``Other(summary, **e.call_fields())``."""
        return {
            "status": self.status,
            "method": self.method,
            "path": self.path,
            "code": self.code,
            "message": self.message,
            "details": self.details,
        }

    def mask_secrets(self, secrets: Iterable[str]) -> None:
        """
        Replace every secret in this error's texts (and in the errors it was raised from) with
        ``***``: as written, JSON-escaped and URL-encoded, and a start of one where a text ends
        (an excerpt cut inside it). For what a Control Room or a gateway echoes of a request.
        """
        forms = _secret_forms(secrets)
        if not forms:
            return
        error: BaseException | None = self
        seen: set[int] = set()
        while error is not None and id(error) not in seen:
            seen.add(id(error))
            if isinstance(error, AutomationAnywhereError):
                for name in ("summary", "path", "code", "message", "details"):
                    value = getattr(error, name)
                    if isinstance(value, str):
                        setattr(error, name, _masked(value, forms))
                error.args = (error._render(),)
            elif any(isinstance(arg, str) and _masked(arg, forms) != arg for arg in error.args):
                error.args = tuple(_masked(arg, forms) if isinstance(arg, str) else arg for arg in error.args)
            error = error.__cause__ or error.__context__

    def _render(self) -> str:
        text = self.summary
        if self.method and self.path:
            text += f" [{self.method} {self.path}"
            text += f" -> HTTP {self.status}]" if self.status is not None else "]"
        control_room = ", ".join(
            f"{label}={value!r}"
            for label, value in (("code", self.code), ("message", self.message), ("details", self.details))
            if value not in (None, "")
        )
        if control_room:
            text += f" Control Room said: {control_room}"
        return text


def restored(cls: type[E], args: tuple[Any, ...], fields: dict[str, Any]) -> E:
    """An error of ``cls`` with ``args`` and attributes ``fields``, without calling its ``__init__`` (unpickling)."""
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(fields)
    return error


def _secret_forms(secrets: Iterable[str]) -> list[str]:
    """Each secret as a text may hold it, longest first (so that no longer form is half masked)."""
    forms: set[str] = set()
    for secret in secrets:
        if secret:
            forms.update(
                (
                    secret,
                    json.dumps(secret)[1:-1],
                    json.dumps(secret, ensure_ascii=False)[1:-1],
                    quote(secret, safe=""),
                    quote_plus(secret, safe=""),
                )
            )
    return sorted(forms, key=len, reverse=True)


def _masked(text: str, forms: list[str]) -> str:
    for form in forms:
        text = text.replace(form, MASKED)
    for form in forms:
        for length in range(len(form) - 1, _CUT_SECRET - 1, -1):
            if text.endswith(form[:length]):
                return text[:-length] + MASKED
    return text


class FatalError(AutomationAnywhereError):
    """
    A failure that a retry cannot mend and may make worse: Airflow fails the task without
    using its retries, in operators, sensors and any ``@task`` that calls the hook (there it
    is raised as an ``AirflowFailException`` too). A trigger ends with an error event marked
    ``fatal``.
    """


class InvalidInputError(FatalError, ValueError):
    """Input rejected before any request was sent; the message names the field."""


class LoginRefusedError(FatalError):
    """
    The Control Room refused the connection's credentials (401/403 at the authentication
    call). Never retried: every attempt with a wrong password counts towards locking the
    account.
    """


class SessionConflictError(FatalError):
    """
    The user's sessions keep ending each other (``UM1114``) or the user may not hold a
    second session (``UM1116``): the connection needs ``multiple_login`` or an API key.
    """


def error_from_answer(
    summary: str, *, status: int, method: str, path: str, body: bytes, content_type: str
) -> AutomationAnywhereError:
    """Build the error for an unsuccessful answer, carrying the Control Room's error body."""
    if looks_like_html(body, content_type):
        return html_page_error(status=status, method=method, path=path)
    fields = _error_fields(body)
    return AutomationAnywhereError(summary, status=status, method=method, path=path, **fields)


def html_page_error(*, status: int, method: str, path: str) -> AutomationAnywhereError:
    return AutomationAnywhereError(
        "The Control Room URL answered with an HTML page where JSON was expected. This is "
        "usually a single sign-on login page or a proxy in front of the Control Room: check "
        "that the connection's host is the Control Room's API URL and that the proxy lets "
        "API calls through.",
        status=status,
        method=method,
        path=path,
    )


def looks_like_html(body: bytes, content_type: str) -> bool:
    if "html" in content_type.lower():
        return True
    start = body.lstrip()[:15].lower()
    return start.startswith((b"<!doctype", b"<html"))


def _error_fields(body: bytes) -> dict[str, str | None]:
    try:
        data: Any = decode_json(body) if body else None
    except ValueError:
        data = None
    if isinstance(data, dict) and any(key in data for key in ("code", "message", "details")):
        return {key: _as_text(data.get(key)) for key in ("code", "message", "details")}
    excerpt = body[:_BODY_EXCERPT].decode("utf-8", "replace").strip()
    return {"code": None, "message": None, "details": excerpt or None}


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)


class WorkItemChangedError(FatalError):
    """
    A work item update found the item changed since the version it was based on (the
    Control Room's 409, or a ``version`` that is no longer current), or gone. Nothing was
    overwritten: a retry with the newer version could undo someone else's change, so the
    task fails without retries. ``current_version`` and ``current_status`` describe the item
    as it is now (``None`` when it is gone), ``asked`` what the update asked for.
    """

    def __init__(
        self,
        summary: str,
        *,
        current_version: str | None = None,
        current_status: str | None = None,
        asked: str = "",
        **call: Any,
    ) -> None:
        self.current_version = current_version
        self.current_status = current_status
        self.asked = asked
        super().__init__(summary, **call)

    @classmethod
    def of(
        cls,
        queue_id: str,
        item_id: str,
        asked: str,
        version: str,
        now: dict[str, Any],
        *,
        maybe_ours: bool = False,
        **call: Any,
    ) -> WorkItemChangedError:
        """``now``: the item as read after the conflict; ``version``: the one the update was based on."""
        current_version, current_status = str(now.get("version")), str(now.get("status"))
        why = (
            " An earlier send of this update got no answer: it may have been applied and the item moved on since."
            if maybe_ours
            else ""
        )
        return cls(
            f"Work item {item_id} of queue {queue_id} changed since version {version}: it is now version "
            f"{current_version}, status {current_status}. Not updated ({asked}): read it again and decide.{why}",
            current_version=current_version,
            current_status=current_status,
            asked=asked,
            **call,
        )

    @classmethod
    def gone(cls, queue_id: str, item_id: str, asked: str, **call: Any) -> WorkItemChangedError:
        """``call``: the HTTP fields of the Control Room's 404, when one told."""
        return cls(
            f"Work item {item_id} is not in queue {queue_id} (deleted?): not updated ({asked}).", asked=asked, **call
        )


class AmbiguousOutcomeError(AutomationAnywhereError):
    """
    A request that must not be sent twice got no clear answer (timeout, dropped connection,
    or a 5xx): the Control Room may or may not have processed it, so it was not re-sent.
    """


class DuplicateWorkItemsError(FatalError):
    """
    The queue refused some items as duplicates of items it holds; the others were added.
    Fatal: a retry meets the same items in the queue.
    """


class StopRefusedError(AutomationAnywhereError):
    """
    Some runs were not stopped: the Control Room refused them (in ``manage_action_errors``, or
    the whole request with a 400), or their activity records do not show the deployment's
    id, so they were not asked to stop. ``not_stopped``: their execution ids.
    """

    def __init__(self, summary: str, *, not_stopped: Sequence[str] = (), **call: Any) -> None:
        self.not_stopped = list(not_stopped)
        super().__init__(summary, **call)


class NameLookupError(FatalError):
    """
    A name (or bot path) matched no object, or several, in what the Control Room shows the
    connection's user. Fatal: a retry would find the same. ``field`` is the parameter
    (``queue_name``, ``bot_path``, ``run_as_user_names``, ``pool_names``); ``values`` the names
    that did not resolve; ``candidates`` maps each of them to ``(id, name or path)`` pairs —
    the matches when there were several, near names when there was none.
    """

    def __init__(
        self, summary: str, *, field: str, values: Sequence[str], candidates: dict[str, list[tuple[str, str]]]
    ):
        self.field = field
        self.values = list(values)
        self.candidates = candidates
        super().__init__(summary)


class DeployRefusedError(FatalError):
    """
    The Control Room refused a deploy with 412: no device or run-as user can take it ("No
    compatible targets found", the default device offline, an empty pool). Not retried: the
    Control Room's setup has to change first.
    """

    @classmethod
    def of(cls, deployment: BotDeployment, refused: AutomationAnywhereError) -> DeployRefusedError:
        """The error for ``deployment``, keeping the 412's status, code, message and details."""
        if deployment.headless:
            return cls(
                f"The Control Room refused to run {deployment.describe()}: check that the API task is checked in to "
                "the public workspace, the tenant's API task licenses and concurrency, and the shared run-as user.",
                **refused.call_fields(),
            )
        pools = f" and pool(s) {', '.join(deployment.pool_ids)}" if deployment.pool_ids else " on their default devices"
        return cls(
            f"The Control Room found no device to run bot {deployment.bot_id} as run-as user(s) "
            f"{', '.join(deployment.run_as_user_ids)}{pools}: check that these users have a connected "
            "default device, that the pools have connected devices, and the users' licenses.",
            **refused.call_fields(),
        )


class ApiTasksUnavailableError(FatalError):
    """
    The Control Room has no ``/v4/automations/deploy``, which API tasks need (Automation 360
    Cloud with the v4 deploy API; on-premises Control Rooms and older versions have none).
    Raised before anything runs; not retried.
    """

    REQUIREMENT = (
        "API tasks need an Automation 360 Cloud Control Room with POST /v4/automations/deploy "
        "(API tasks run in AA's cloud: on-premises Control Rooms and versions without the v4 deploy API have none)"
    )

    @classmethod
    def of(
        cls, deployment: BotDeployment, seen: str, refused: AutomationAnywhereError | None = None
    ) -> ApiTasksUnavailableError:
        fields = refused.call_fields() if refused is not None else {}
        return cls(f"Cannot deploy {deployment.describe()}: {seen}. {cls.REQUIREMENT}.", **fields)


class DeploymentUnknownError(AutomationAnywhereError):
    """The Control Room's activity cannot tell whether (or as which deployment) a deploy ran."""
