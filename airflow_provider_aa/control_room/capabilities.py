"""
What a Control Room offers one connection's user: the compatibility check's probes, and the
API versions the provider learns once per process (:class:`Capabilities`).

The check only reads, or sends requests the Control Room must refuse; each probe and why its
answer tells what it reports:

=======================  ==========================================  ===========================
what                     request                                     reading
=======================  ==========================================  ===========================
login                    the session's own login, then               the auth API version that
                         ``POST /v3/wlm/queues/list`` (one queue)    answered; 401 = refused
parallel sessions        a second login with ``multipleLogin``, then a fresh login of the first
                         a call of the first session                 session = it was ended
deploy API               ``POST /v4/automations/deploy`` with ``{}``  404: no such route (then
                         (no bot, no user: nothing can run)          ``/v3``); 400/403/412/422:
                                                                     the route exists
API tasks                the deploy API's finding (no request)       v4 deploy = they can be
                                                                     deployed (AA's cloud, the
                                                                     tenant's licenses); v3 only
                                                                     or none = they cannot
work item update API     ``GET /v4/wlm/queues/{id}``, then ``/v3``,  v4 get-queue and update came
                         of a queue the user sees                    together (v.34): v4 404 and
                                                                     v3 200 = no v4
user management API      ``POST /{v}/usermanagement/roles/list``     404: no such version (then
                         (one role), in ``ROLE_API_VERSIONS`` order  the next); 200 or 403: it
                                                                     exists
queues, activity, audit  the list calls, one record each             200 visible, 403 not allowed
activity time filter     ``POST /v3/activity/list``, ``modifiedOn``  400/422 refused; records
                         within a day of the year 2000               listed = ignored; none =
                                                                     accepted
=======================  ==========================================  ===========================

The parallel-session probe runs only for mode password with ``multiple_login``: a second
``multipleLogin`` login ends nobody's session, while a second API-key or single-session login
may end the first (``UM1114``), which could be a running task's: those modes report
``unknown``. With ``write`` the hook also adds, updates and deletes one work item.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from airflow_provider_aa.control_room.auth import AuthApi
from airflow_provider_aa.control_room.bots import DEPLOY_VERSIONS, ApiTasksUnavailableError, DeployApi
from airflow_provider_aa.control_room.errors import AutomationAnywhereError, SessionConflictError
from airflow_provider_aa.control_room.exchange import ApiRequest, Operation
from airflow_provider_aa.control_room.history import HistoryWindow, window_filter
from airflow_provider_aa.control_room.queues import queue_list_request
from airflow_provider_aa.control_room.roles import ROLE_API_VERSIONS, RoleApi
from airflow_provider_aa.control_room.session import ControlRoomSession
from airflow_provider_aa.control_room.work_item_changes import UPDATE_VERSIONS, UpdateApi
from airflow_provider_aa.control_room.work_items import path_id

#: Statuses that show a route exists although it refused the request.
_ROUTE_EXISTS = frozenset({400, 403, 405, 409, 412, 415, 422})
#: A window no Control Room holds activity of: records listed for it show the filter ignored.
_EMPTY_WINDOW = HistoryWindow(datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(2000, 1, 2, tzinfo=timezone.utc))


@dataclass
class Capabilities:
    """
    The API versions a Control Room answers for one user, learned at first need (or by the
    check) and then kept: the hook shares one per connection URL and user in a process.
    """

    auth: AuthApi = field(default_factory=AuthApi)
    deploy: DeployApi = field(default_factory=DeployApi)
    update: UpdateApi = field(default_factory=UpdateApi)
    roles: RoleApi = field(default_factory=RoleApi)
    #: History datasets whose time filter the Control Room refused: dataset name → its answer
    #: (the export then reads them newest-first without a filter, see ``history``).
    time_filter_refused: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    """One probe's result: ``status`` (a word), what was seen, what the provider uses, advice."""

    status: str
    detail: str
    uses: str | None = None
    advice: str | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"status": self.status, **self.facts, "detail": self.detail}
        if self.uses is not None:
            shown["uses"] = self.uses
        return shown


NOT_PROBED = Finding("unknown", "not probed: the login failed")

#: The report's findings, in the order shown.
REPORT_KEYS = (
    "login",
    "parallel_sessions",
    "deploy_api",
    "api_tasks",
    "work_item_update_api",
    "user_management_api",
    "queue_access",
    "activity_access",
    "audit_access",
    "activity_time_filter",
)


@dataclass(frozen=True)
class CompatibilityReport:
    """What :func:`check` found; ``ok`` when the provider can do its core work (log in, list queues)."""

    findings: Mapping[str, Finding]
    write: Finding | None = None

    @property
    def ok(self) -> bool:
        return self.findings["login"].status == "ok" and self.findings["queue_access"].status == "visible"

    @property
    def advice(self) -> list[str]:
        found = [*self.findings.values(), *([self.write] if self.write else [])]
        return [finding.advice for finding in found if finding.advice]

    def with_write(self, write: Finding) -> CompatibilityReport:
        return CompatibilityReport(self.findings, write)

    def to_dict(self) -> dict[str, Any]:
        shown: dict[str, Any] = {key: self.findings[key].to_dict() for key in REPORT_KEYS}
        if self.write is not None:
            shown["write"] = self.write.to_dict()
        shown["advice"] = self.advice
        return shown

    def text(self) -> str:
        width = max(map(len, REPORT_KEYS))
        lines = []
        for key, finding in [*self.findings.items(), *([("write", self.write)] if self.write else [])]:
            lines.append(f"{key:<{width}}  {finding.status}: {finding.detail}")
            if finding.uses:
                lines.append(f"{'':<{width}}  provider uses: {finding.uses}")
        lines.append("")
        lines.append(
            "Result: the provider can log in and list work queues."
            if self.ok
            else "Result: the provider cannot do its core work (log in and list work queues)."
        )
        lines.extend(f"Advice: {advice}" for advice in self.advice)
        return "\n".join(lines)


@dataclass(frozen=True)
class _Answer:
    status: int | None
    body: Any = None
    error: AutomationAnywhereError | None = None


def _ask(session: ControlRoomSession, request: ApiRequest) -> Operation[_Answer]:
    try:
        body = yield from session.request_json(request)
    except AutomationAnywhereError as refused:
        return _Answer(refused.status, error=refused)
    return _Answer(200, body)


def _page_total(body: Any) -> Any:
    page = body.get("page") if isinstance(body, Mapping) else None
    return page.get("total") if isinstance(page, Mapping) else None


def _records(body: Any) -> list[Any]:
    listed = body.get("list") if isinstance(body, Mapping) else None
    return listed if isinstance(listed, list) else []


def _failure(answer: _Answer) -> str:
    if answer.error is None:
        return "no answer"
    code = f", {answer.error.code}" if answer.error.code else ""
    return f"HTTP {answer.status}{code}" if answer.status is not None else str(answer.error)


def check(
    session: ControlRoomSession, capabilities: Capabilities, *, clock: Callable[[], float]
) -> Operation[CompatibilityReport]:
    """
    Probe what the Control Room offers ``session``'s user (see the module's table) and record
    the API versions found in ``capabilities``. Never raises for a refused probe: each one is
    a finding; only the login and the queue list decide ``ok``.
    """
    findings = dict.fromkeys(REPORT_KEYS, NOT_PROBED)
    queues = yield from _ask(session, queue_list_request(length=1))
    findings["login"] = login = _login_finding(session, queues)
    if login.status != "ok":
        return CompatibilityReport(findings)
    findings["queue_access"] = _access(
        "work queues",
        queues,
        "list work queues, add and follow work items",
        "Give the user queue rights: AAE_Queue Admin (11.3) or owner/participant of the work "
        "queues it uses (Automation 360, Workload > Queues > the queue's members).",
        missing="The provider needs the /v3 work queue API of Automation 360; this Control Room "
        "(11.x: /v2/wlm) does not offer it.",
    )
    findings["parallel_sessions"] = yield from _parallel_sessions(session, clock)
    findings["deploy_api"] = yield from _deploy_api(session, capabilities.deploy)
    findings["api_tasks"] = _api_tasks(findings["deploy_api"])
    first_queue = next((queue.get("id") for queue in _records(queues.body) if isinstance(queue, Mapping)), None)
    findings["work_item_update_api"] = yield from _update_api(session, capabilities.update, first_queue)
    findings["user_management_api"] = yield from _user_management_api(session, capabilities.roles)
    activity = yield from _ask(session, ApiRequest("POST", "/v3/activity/list", {"page": {"offset": 0, "length": 1}}))
    findings["activity_access"] = _access(
        "activity",
        activity,
        "follow deployed bots' runs, stop them, export bot_runs",
        "Give the user a role with 'View everyone's in-progress activity' (or AAE_Admin) to follow "
        "bot runs and export bot_runs; 'View my in-progress activity' shows only its own runs.",
        missing="Without /v3/activity/list the provider cannot follow bot runs or export bot_runs.",
    )
    audit = yield from _ask(
        session, ApiRequest("POST", "/v1/audit/messages/list", {"page": {"offset": 0, "length": 1}})
    )
    findings["audit_access"] = _access(
        "the audit log",
        audit,
        "export the audit dataset",
        "Give the user 'View everyone audit log actions' (or AAE_Admin) to export the audit dataset.",
    )
    findings["activity_time_filter"] = yield from _time_filter(session, activity, capabilities)
    return CompatibilityReport(findings)


def login_failed(session: ControlRoomSession, error: AutomationAnywhereError) -> CompatibilityReport:
    """
    The report when logging in failed: the driver raises a refused login (it serves the
    session's ``Authenticate``), so the caller of :func:`check` makes this report of it.
    """
    findings = dict.fromkeys(REPORT_KEYS, NOT_PROBED)
    findings["login"] = _failed_login(session, str(error))
    return CompatibilityReport(findings)


def _failed_login(session: ControlRoomSession, reason: str) -> Finding:
    return Finding(
        "failed",
        reason,
        advice="Fix the login first: check the connection's host, user and secret (see the login's error).",
        facts={"mode": session.settings.auth_type},
    )


def _login_finding(session: ControlRoomSession, first: _Answer) -> Finding:
    settings = session.settings
    lifetime = session.token_lifetime()
    if lifetime is None or first.status == 401:
        return _failed_login(session, str(first.error) if first.error is not None else "no token")
    if settings.auth_type == "token":
        endpoint = f"pre-issued token, renewed by POST /{session.auth_version}/authentication/token"
    else:
        multiple = " with multipleLogin" if settings.multiple_login and settings.auth_type == "password" else ""
        endpoint = f"POST /{session.auth_version}/authentication{multiple}"
    return Finding(
        "ok",
        f"{endpoint} as {settings.username or 'the token user'!r} (auth_type {settings.auth_type!r}); "
        f"token lives {lifetime:.0f} s",
        uses=endpoint,
        facts={"endpoint": endpoint, "mode": settings.auth_type, "token_lifetime_seconds": round(lifetime)},
    )


def _access(what: str, answer: _Answer, needed_for: str, advice: str, missing: str | None = None) -> Finding:
    if answer.status == 200:
        total = _page_total(answer.body)
        shown = f" ({total} listed)" if total is not None else ""
        return Finding("visible", f"the user may list {what}{shown}")
    if answer.status == 403:
        return Finding("no permission", f"HTTP 403 to the list of {what}: cannot {needed_for}", advice=advice)
    if answer.status == 404:
        return Finding("not available", f"HTTP 404: this Control Room has no such list of {what}", advice=missing)
    return Finding("unknown", f"the list of {what} failed: {_failure(answer)}")


def _parallel_sessions(session: ControlRoomSession, clock: Callable[[], float]) -> Operation[Finding]:
    settings = session.settings
    if settings.auth_type != "password" or not settings.multiple_login:
        why = {
            "api_key": "an API-key login may end the user's other sessions (UM1114) when the user lacks "
            "'Allow multiple sessions'",
            "token": "a pre-issued token is ended by any later login of its user",
        }.get(settings.auth_type, "a login without multipleLogin ends the user's other sessions (UM1114)")
        advice = {
            "password": "Set the connection's extra 'multiple_login' to true (the user needs 'Allow multiple "
            "sessions'): the triggerer and the workers each hold a session.",
            "api_key": "Make sure the user has 'Allow multiple sessions' (Administration > Users): the triggerer "
            "and the workers each hold a session, and newer Control Rooms require it for API keys too.",
            "token": "A pre-issued token cannot outlive its user's next login: prefer auth_type 'api_key' with "
            "a user allowed multiple sessions.",
        }[settings.auth_type]
        return Finding("unknown", f"not probed: {why}, which could be a running task's", advice=advice)
    second = ControlRoomSession(settings, retry=session.retry, clock=clock, auth_api=AuthApi(session.auth_version))
    before = session.logins_made
    try:
        yield from second.authenticate(None)
    except SessionConflictError:
        return Finding(
            "no",
            "a second multipleLogin login was refused (UM1116)",
            advice="Allow the user multiple sessions in the Control Room, or set 'multiple_login' to false "
            "and run one task of the connection at a time.",
        )
    except AutomationAnywhereError as failed:
        return Finding("unknown", f"a second login failed: {failed}")
    try:
        yield from _ask(session, queue_list_request(length=1))
    finally:
        yield from second.logout()
    if session.logins_made > before:
        return Finding(
            "no",
            "a second multipleLogin login ended the first session",
            advice="Allow the user multiple sessions ('Allow multiple sessions' in Administration > Users).",
        )
    return Finding("yes", "a second multipleLogin session left the first one working (then logged out)")


def _deploy_api(session: ControlRoomSession, api: DeployApi) -> Operation[Finding]:
    for version in DEPLOY_VERSIONS:
        answer = yield from _ask(session, ApiRequest("POST", f"/{version}/automations/deploy", {}, replay_safe=False))
        if answer.status == 404:
            continue
        if answer.status in _ROUTE_EXISTS or answer.status == 200:
            api.known = version
            uses = f"POST /{version}/automations/deploy"
            refused = f" (HTTP {answer.status} to an empty deploy: the route exists)"
            if answer.status == 403:
                return Finding(
                    version,
                    f"{uses} exists, but the user may not deploy (HTTP 403)",
                    uses=uses,
                    advice="Give the user a role that may run bots (repositorymanager 'run', and the run-as users) "
                    "to deploy bots.",
                )
            advice = None
            if version != DEPLOY_VERSIONS[0]:
                advice = (
                    "This Control Room has no /v4 deploy: bots are deployed on /v3, which sends no automation_name, "
                    "so a deploy whose answer was lost cannot be found by name. A Control Room with /v4 deploys lifts this."
                )
            return Finding(version, f"{uses} answers{refused}", uses=uses, advice=advice)
        return Finding("unknown", f"POST /{version}/automations/deploy failed: {_failure(answer)}")
    return Finding(
        "none",
        "neither /v4 nor /v3/automations/deploy exists (HTTP 404 to both)",
        advice="This Control Room offers no deploy API the provider knows: the bot operators will fail.",
    )


def _api_tasks(deploy_api: Finding) -> Finding:
    """Whether API tasks can be deployed: they need the v4 deploy API (see ``bots.ApiTasksUnavailableError``)."""
    v4 = DEPLOY_VERSIONS[0]
    if deploy_api.status == v4:
        return Finding(
            "available",
            f"POST /{v4}/automations/deploy answers, which deploys API tasks (headlessRequest); they also need "
            "API task licenses on this Automation 360 Cloud tenant, which the check cannot see",
            uses=f"POST /{v4}/automations/deploy with headlessRequest",
        )
    if deploy_api.status == "unknown":
        return Finding("unknown", "the deploy API could not be probed")
    return Finding(
        "unavailable",
        f"no POST /{v4}/automations/deploy (deploy API: {deploy_api.status})",
        advice=f"api_task=True fails on this Control Room before anything runs: {ApiTasksUnavailableError.REQUIREMENT}.",
    )


def _update_api(session: ControlRoomSession, api: UpdateApi, queue_id: Any) -> Operation[Finding]:
    if queue_id is None:
        return Finding(
            "unknown",
            "no work queue visible to read through /v4 and /v3",
            uses=f"/{UPDATE_VERSIONS[0]} first, /{UPDATE_VERSIONS[-1]} after a 404, learned at the first update",
        )
    queue = path_id(str(queue_id), "queue id")
    seen: dict[str, int | None] = {}
    for version in UPDATE_VERSIONS:
        answer = yield from _ask(session, ApiRequest("GET", f"/{version}/wlm/queues/{queue}"))
        seen[version] = answer.status
        if answer.status in (200, 403):
            api.known = version
            uses = f"PUT /{version}/wlm/queues/{{id}}/workitems/{{id}}"
            advice = None
            if version != UPDATE_VERSIONS[0]:
                advice = (
                    "Work item updates go to /v3, which AA deprecates from v.34 (end of life v.38 to v.41): "
                    "plan the Control Room's upgrade."
                )
            return Finding(version, f"GET /{version}/wlm/queues/{queue} answers HTTP {answer.status}", uses, advice)
        if answer.status != 404:
            break
    shown = ", ".join(f"/{version}: {status}" for version, status in seen.items())
    return Finding("unknown", f"reading queue {queue} gave {shown}")


def _user_management_api(session: ControlRoomSession, api: RoleApi) -> Operation[Finding]:
    for version in ROLE_API_VERSIONS:
        request = ApiRequest(
            "POST", f"/{version}/usermanagement/roles/list", {"page": {"offset": 0, "length": 1}}, replay_safe=True
        )
        answer = yield from _ask(session, request)
        if answer.status == 404:
            continue
        uses = f"/{version}/usermanagement/roles"
        if answer.status == 200:
            api.version = version
            return Finding(version, f"POST {uses}/list answers; the user may read roles", uses=uses)
        if answer.status == 403:
            api.version = version
            return Finding(
                version,
                f"POST {uses}/list exists; the user may not manage roles (HTTP 403)",
                uses=uses,
                advice="hook.ensure_role needs a user that may manage roles (AAE_Admin); other tasks do not.",
            )
        return Finding("unknown", f"POST {uses}/list failed: {_failure(answer)}")
    return Finding(
        "none",
        f"no /usermanagement/roles/list of {' or '.join(ROLE_API_VERSIONS)} exists (HTTP 404 to each)",
        advice="hook.ensure_role cannot work on this Control Room; manage roles in its UI.",
    )


def _time_filter(session: ControlRoomSession, activity: _Answer, capabilities: Capabilities) -> Operation[Finding]:
    if activity.status != 200:
        return Finding("unknown", "not probed: the activity list did not answer")
    body = {
        "filter": window_filter("modifiedOn", _EMPTY_WINDOW),
        "sort": [{"field": "modifiedOn", "direction": "asc"}],
        "page": {"offset": 0, "length": 1},
    }
    answer = yield from _ask(session, ApiRequest("POST", "/v3/activity/list", body, replay_safe=True))
    export = "the bot_runs export filters and sorts on modifiedOn"
    if answer.status in (400, 422):
        capabilities.time_filter_refused.setdefault("bot_runs", str(answer.error))
        return Finding(
            "refused",
            f"a filter on modifiedOn is refused ({_failure(answer)})",
            uses="the bot_runs export reads newest-first without a filter, stopping before the window",
            advice="This Control Room refuses filters on activity time fields: the bot_runs export reads every "
            "run changed since the window began, so export recent windows (e.g. daily).",
        )
    if answer.status != 200:
        return Finding("unknown", f"the filtered activity list failed: {_failure(answer)}")
    if _records(answer.body):
        return Finding(
            "ignored",
            "a filter on modifiedOn is accepted but not applied: records outside the window were listed",
            uses=export,
            advice="This Control Room ignores filters on activity time fields: the bot_runs export stops with "
            "an error rather than write wrong records; export work_items and audit.",
        )
    total = _page_total(activity.body)
    unverified = "" if total else " (no activity yet: whether it filters is not shown)"
    return Finding("accepted", f"a filter on modifiedOn is accepted{unverified}", uses=export)
