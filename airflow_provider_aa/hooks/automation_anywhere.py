"""The Automation Anywhere hook: a Control Room session over ``requests``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from airflow.providers.common.compat.sdk import BaseHook
from airflow.sdk.log import mask_secret

from airflow_provider_aa.control_room.adding import (
    AddProgress,
    add_fingerprint,
    add_items,
    validate_lost_answer_delay,
)
from airflow_provider_aa.control_room.any_api import any_request, call
from airflow_provider_aa.control_room.bots import (
    BotDeployment,
    BotRun,
    HeadlessRequest,
    deploy,
    find_deployment,
    read_bot_runs,
    validate_automation_name,
    validate_deployment_id,
)
from airflow_provider_aa.control_room.capabilities import (
    Capabilities,
    CompatibilityReport,
    Finding,
    check,
    login_failed,
)
from airflow_provider_aa.control_room.errors import AutomationAnywhereError, InvalidInputError
from airflow_provider_aa.control_room.exchange import (
    ApiRequest,
    ApiResponse,
    Authenticator,
    Operation,
    TransportFailure,
    drive,
)
from airflow_provider_aa.control_room.history import HistoryCursor, HistoryWindow, read_history_page, validate_dataset
from airflow_provider_aa.control_room.listing import PageCursor, lookup, read_page
from airflow_provider_aa.control_room.names import (
    Workspace,
    bot_id_of,
    name_key,
    path_folders,
    pool_ids_of,
    queue_id_of,
    queue_ids_of,
    run_as_user_ids_of,
    validate_name,
    validate_names,
    validate_workspace,
)
from airflow_provider_aa.control_room.progress import ProgressLog
from airflow_provider_aa.control_room.queues import connection_check
from airflow_provider_aa.control_room.roles import (
    EnsuredRole,
    RoleApi,
    ensure_role,
    validate_copy_from,
    validate_description,
    validate_permissions,
    validate_role_name,
)
from airflow_provider_aa.control_room.session import ControlRoomSession, RetryPolicy
from airflow_provider_aa.control_room.settings import ConnectionSettings, settings_of
from airflow_provider_aa.control_room.stopping import stop_runs
from airflow_provider_aa.control_room.work_item_changes import (
    RequeueProgress,
    UpdateApi,
    WorkItemChange,
    delete_work_items,
    requeue_fingerprint,
    requeue_items,
    update_work_item,
    validate_max_items,
    validate_requeue_statuses,
    validate_version,
)
from airflow_provider_aa.control_room.work_items import (
    display_limit_warnings,
    list_request,
    validate_batch_size,
    validate_dedupe_key,
    validate_filter,
    validate_id,
    validate_ids,
    validate_sort,
    validate_work_items,
)
from airflow_provider_aa.hooks import DEFAULT_CONN_ID
from airflow_provider_aa.tasks.errors import raises_airflow_errors

if TYPE_CHECKING:
    import requests

    from airflow_provider_aa.transport.requests_transport import RequestsTransport

T = TypeVar("T")

#: What each Control Room answers each user, learned once per process and shared by its hooks:
#: (base URL, username) → :class:`Capabilities`. A tenant without ``/v4`` costs one 404 per process.
_CAPABILITIES: dict[tuple[str, str], Capabilities] = {}
_CAPABILITIES_LOCK = threading.Lock()


def forget_capabilities() -> None:
    """Forget what this process learned of Control Rooms (for tests that change an emulator's API versions)."""
    with _CAPABILITIES_LOCK:
        _CAPABILITIES.clear()


@raises_airflow_errors
class AutomationAnywhereHook(BaseHook):
    """
    Talk to an Automation Anywhere Control Room.

    One hook holds one session: it logs in on first use (password, API key, or a pre-issued
    token, per the connection's ``auth_type``), reuses the token for every call, renews it
    before it expires, logs in again once after a 401, and retries transient failures
    (connection errors, 429 with ``Retry-After``, 502/503/504) with bounded backoff.

    :param automation_anywhere_conn_id: the Airflow connection of type ``automation_anywhere``.
    :param retry: backoff policy for transient failures (default: 5 attempts, 1 s doubling
        up to 30 s).
    :raises AutomationAnywhereError: from every method, for invalid input (before any
        request), and for failed calls (with HTTP status and the Control Room's
        ``code``/``message``/``details``). Raised as an ``AirflowException`` too, and a
        ``FatalError`` as an ``AirflowFailException`` (see ``tasks.errors``): Airflow fails a
        ``@task`` that meets one without using its retries.
    """

    conn_name_attr = "automation_anywhere_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = "automation_anywhere"
    hook_name = "Automation Anywhere"

    def __init__(
        self,
        automation_anywhere_conn_id: str = default_conn_name,
        *,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__()
        self.automation_anywhere_conn_id = automation_anywhere_conn_id
        self._retry = retry
        self._auth_lock = threading.Lock()
        #: Ids found by name: (kind, name) → id, so that each name costs one look-up per hook.
        self._ids_by_name: dict[tuple[str, ...], str] = {}

    # -- session and transport ----------------------------------------------------------

    @cached_property
    def settings(self) -> ConnectionSettings:
        """The connection's validated settings (read once per hook)."""
        conn = self.get_connection(self.automation_anywhere_conn_id)
        settings = settings_of(conn)
        for secret in settings.secrets:
            mask_secret(secret)
        for warning in (settings.plain_http_warning, *settings.warnings):
            if warning:
                self.log.warning(warning)
        return settings

    @cached_property
    def session(self) -> ControlRoomSession:
        """The Control Room session (token and login state) of this hook."""
        return ControlRoomSession(self.settings, retry=self._retry, auth_api=self.capabilities.auth)

    def get_conn(self) -> requests.Session:
        """The ``requests.Session`` that carries this hook's calls (pooled connections)."""
        return self._http.session

    @cached_property
    def capabilities(self) -> Capabilities:
        """
        The API versions the connection's Control Room answers (authentication, deploy, work
        item update, user management), learned at first need or by :meth:`check_compatibility`, shared by
        every hook of this process with the same URL and user.
        """
        key = (self.settings.base_url, self.settings.username or "")
        with _CAPABILITIES_LOCK:
            return _CAPABILITIES.setdefault(key, Capabilities())

    @cached_property
    def _http(self) -> RequestsTransport:
        # Imported at the first call, not when a DAG file imports the operators.
        from airflow_provider_aa.transport.requests_transport import RequestsTransport

        return RequestsTransport(self.settings)

    @cached_property
    def _authenticator(self) -> Authenticator:
        """The session, or the session behind this host's session cache (connection extra ``session_cache``)."""
        if not self.settings.session_cache:
            return self.session
        # Imported only when the cache is on: it is I/O of its own (files, locks).
        from airflow_provider_aa.transport.session_cache import (
            CachedAuthenticator,
            SessionCache,
            UnsafeCacheFolder,
            cache_folder,
        )

        try:
            folder = cache_folder()
        except (UnsafeCacheFolder, OSError) as problem:
            self.log.warning("The session cache is off for this task: %s. Logging in without it.", problem)
            return self.session
        return CachedAuthenticator(self.session, SessionCache(self.settings, folder))

    def run_operation(self, operation: Operation[T]) -> T:
        """Run a protocol operation (see ``control_room.exchange``) on this hook's session."""
        return drive(
            operation,
            send=self._send,
            sleep=time.sleep,
            mask=mask_secret,
            authenticator=self._authenticator,
            lock=self._auth_lock,
        )

    def _send(self, request: ApiRequest) -> ApiResponse | TransportFailure:
        return self._http.send(request)

    def close(self) -> None:
        """
        Log out (when this hook logged in) and close pooled connections; never raises. With the
        session cache on, the session is left to the host's next task (it lapses at its expiry).
        """
        # A session shared through the session cache is the next task's: not ended here.
        if "session" in self.__dict__ and self.__dict__.get("_authenticator", self.session) is self.session:
            try:
                self.run_operation(self.session.logout())
            except AutomationAnywhereError as problem:
                self.log.warning("Logging out of the Control Room failed (ignored): %s", problem)
        if "_http" in self.__dict__:
            self._http.close()

    def _request_json(self, request: ApiRequest) -> Any:
        """Send one authenticated request and return its decoded JSON answer."""
        return self.run_operation(self.session.request_json(request))

    def run(
        self,
        method: str,
        path: str,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        *,
        replay_safe: bool | None = None,
    ) -> Any:
        """
        Call any Control Room API with this hook's session (login, renewal, retries, errors),
        e.g. ``hook.run("POST", "/v1/devices/list", json={"page": {"offset": 0, "length": 100}},
        replay_safe=True)``.

        :param method: ``GET``, ``POST``, ``PUT``, ``PATCH`` or ``DELETE`` (any case).
        :param path: relative to the connection's Control Room URL, e.g. ``/v2/devices/pools/list``
            (leading ``/`` optional); no scheme or host, no ``.``/``..`` segments, no ``;``, no
            ``?``/``#``, ASCII only (see ``control_room.any_api.validate_path``).
            The authentication API is refused: the hook logs in by itself.
        :param json: the request body: JSON data (``None``: no body).
        :param params: the query string: names to ``str``/``int``/``float``/``bool`` or lists of
            them, URL-encoded.
        :param replay_safe: whether the request may be sent again after an ambiguous failure (a
            timeout, a dropped connection, a 502/503/504). ``None``: by method, GET, PUT and
            DELETE yes (RFC 9110 idempotent), POST and PATCH no. Control Room list calls are
            POSTs that only read: pass ``True`` for them to be retried. A versioned PUT or a
            DELETE sent again after its first send applied gets 409 or 404.
        :return: the decoded JSON answer; ``None`` for an empty one (e.g. 204).
        :raises InvalidInputError: bad input, before any request.
        :raises AmbiguousOutcomeError: a request that is not replay-safe got no clear answer: it
            may or may not have been processed, and it was not sent again.
        :raises AutomationAnywhereError: the call failed (HTTP status, the Control Room's
            ``code``/``message``/``details``), or the answer was not JSON (an HTML page, a file).
        """
        request = any_request(method, path, json=json, params=params, replay_safe=replay_safe)
        return self.run_operation(call(self.session, request))

    # -- work items ---------------------------------------------------------------------

    def add_work_items(
        self,
        queue_id: int | str,
        work_items: Sequence[Mapping[str, Any]],
        *,
        batch_size: int = 100,
        dedupe_key: str | None = None,
        progress: AddProgress | None = None,
        on_progress: Callable[[AddProgress], None] | None = None,
        on_duplicate: str = "fail",
        lost_answer_delay: float | None = None,
        keep_items: bool = True,
    ) -> list[dict[str, Any]]:
        """
        Add work items to a queue, ``batch_size`` per request, each exactly once.

        An add without a clear answer (timeout, dropped connection, 5xx) is never re-sent
        blindly. After ``lost_answer_delay`` seconds, in which a Control Room that commits late
        can still do so, the queue's items created since the add began are matched against
        the batch (by their data, or by the ``dedupe_key`` attribute, which also narrows the
        look-up) and only the missing items are sent again. Where the add begins is the
        queue's newest id, read once per call (one list request), so no clock needs to
        agree with the Control Room's and other producers adding meanwhile change nothing.

        :param queue_id: the work queue's id.
        :param work_items: the items' attributes (keys of the queue's work item model).
        :param dedupe_key: an attribute that identifies an item (e.g. an invoice number):
            cheaper and more exact matching than comparing all data.
        :param progress: where an earlier try of the same add stopped (from ``on_progress``):
            items it created are skipped, a batch it may have sent is checked first.
        :param on_progress: called with the progress before each batch is sent and after
            its answer: persist it (``AddProgress.header()`` and each new batch's ids) to
            continue a later try without adding twice.
        :param on_duplicate: what to do when a queue with ``disallowDuplicate`` refuses items
            as duplicates (the other items are added either way): ``"fail"`` raises
            :class:`~airflow_provider_aa.control_room.errors.DuplicateWorkItemsError` naming
            each refused item, ``"skip"`` logs a warning per item.
        :param lost_answer_delay: seconds to let a late commit land after an ambiguous outcome
            (default: the connection's ``timeout``). Longer is safer against slow Control
            Rooms and costs that much time only when an answer was lost.
        :param keep_items: ``False`` returns nothing and keeps only the ids (in ``progress``):
            for large adds, where holding every created item costs about 2 KiB per item.
        :return: the work items created by this call in request order, ids as strings. An
            empty list sends nothing.

        Logs its progress after a batch (at most one line per 10 seconds: items sent,
        the id range, the rate, the time left) and one line at the end: the count and the
        lowest and highest id.
        """
        queue = validate_id(queue_id, "queue_id")
        items = validate_work_items(work_items)
        size = validate_batch_size(batch_size)
        key = validate_dedupe_key(dedupe_key, items)
        if on_duplicate not in ("fail", "skip"):
            raise InvalidInputError(f"on_duplicate must be 'fail' or 'skip', got {on_duplicate!r}.")
        settle = validate_lost_answer_delay(lost_answer_delay, self.settings.timeout)
        for warning in display_limit_warnings(items):
            self.log.warning(warning)
        fingerprint = add_fingerprint(queue, items)
        if progress is None or progress.fingerprint != fingerprint:
            progress = AddProgress(fingerprint)
        return self.run_operation(
            add_items(
                self.session,
                queue,
                items,
                batch_size=size,
                progress=progress,
                clock=time.time,
                lost_answer_delay=settle,
                dedupe_key=key,
                fail_on_duplicate=on_duplicate == "fail",
                keep_items=keep_items,
                save=on_progress or (lambda _: None),
                warn=self.log.warning,
                note=self.log.info,
            )
        )

    def get_work_items(
        self, queue_id: int | str, work_item_ids: int | str | Sequence[int | str]
    ) -> dict[str, dict[str, Any]]:
        """
        Read work items by id, 100 ids per (``or``-filtered list) request.

        :return: ``{id: work item}`` in the order asked; ids the queue does not hold are absent.
        """
        queue = validate_id(queue_id, "queue_id")
        ids = validate_ids(work_item_ids, "work_item_ids")
        return self.run_operation(lookup(self.session, queue, ids))

    def list_work_items(
        self,
        queue_id: int | str,
        filter: Mapping[str, Any] | None = None,
        sort: Sequence[Mapping[str, Any]] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """
        Yield every work item of a queue matching ``filter``, 100 per request.

        :param filter: a Control Room filter, e.g. ``{"operator": "eq", "field": "status",
            "value": "FAILED"}``; ``and``/``or``/``not`` nest with ``operands``.
        :param sort: e.g. ``[{"field": "createdOn", "direction": "desc"}]`` (default: by id).
        :raises InvalidInputError: at the call, before any request, for a ``queue_id``,
            ``filter`` or ``sort`` of the wrong shape.
        """
        queue = validate_id(queue_id, "queue_id")
        checked_filter = validate_filter(filter, "filter")
        checked_sort = validate_sort(sort, "sort")
        return self._pages(queue, checked_filter, checked_sort)

    def _pages(
        self, queue: str, filter: dict[str, Any] | None, sort: list[dict[str, Any]] | None
    ) -> Iterator[dict[str, Any]]:
        cursor = PageCursor(list_request(queue, filter=filter, sort=sort))
        while not cursor.done:
            yield from self.run_operation(read_page(self.session, cursor))

    def update_work_item(
        self,
        queue_id: int | str,
        work_item_id: int | str,
        *,
        status: str | None = None,
        result: str | None = None,
        data: Mapping[str, Any] | None = None,
        version: int | str | None = None,
    ) -> dict[str, Any]:
        """
        Change a work item's status, result and/or data (its ``json``) under its version lock
        (see ``control_room.work_item_changes``). The item is read first (one list request) for
        its version and the fields not given; an item that already shows what is asked is not
        written. A lost answer is sent again with the same version, which cannot apply twice.

        :param status: e.g. ``"NEW"`` to queue the item again, ``"ON_HOLD"``, ``"COMPLETED"``
            (the Control Room allows only some moves, by the item's status).
        :param result: the item's result text.
        :param data: the item's attributes, replacing its ``json`` whole.
        :param version: the version the change is based on; by default the one just read.
        :return: the item as the Control Room shows it afterwards (ids and version as strings).
        :raises InvalidInputError: bad input or nothing to change, before any request.
        :raises WorkItemChangedError: the item changed since ``version`` or while this ran, or
            it is gone; nothing was overwritten, and the task fails without retries.
        :raises AutomationAnywhereError: the Control Room refused the change (e.g. HTTP 400 for
            an ACTIVE item or a status its rules do not allow from the item's status).
        """
        queue = validate_id(queue_id, "queue_id")
        item = validate_id(work_item_id, "work_item_id")
        change = WorkItemChange.validate(status, result, data)
        based_on = validate_version(version)
        return self.run_operation(
            update_work_item(self.session, queue, item, change, version=based_on, api=self._update_api)
        )

    def delete_work_items(
        self, queue_id: int | str, work_item_ids: int | str | Sequence[int | str]
    ) -> dict[str, list[str]]:
        """
        Delete work items, one request each (``DELETE /v3/wlm/queues/{q}/workitems/{id}``).
        Safe to repeat: an id the queue no longer holds is reported, not an error.

        :return: ``{"deleted": [ids], "absent": [ids]}`` in the order given: ``absent`` the ids
            the queue did not hold; an id whose delete lost its answer and was then not found
            counts as deleted.
        :raises InvalidInputError: bad input, before any request.
        :raises AutomationAnywhereError: a refused delete (e.g. HTTP 400 for an ACTIVE item) or
            an unknown queue; the message names the ids deleted before it.
        """
        queue = validate_id(queue_id, "queue_id")
        ids = validate_ids(work_item_ids, "work_item_ids")
        return self.run_operation(delete_work_items(self.session, queue, ids))

    def requeue_work_items(
        self,
        queue_id: int | str,
        statuses: str | Sequence[str] = ("FAILED",),
        filter: Mapping[str, Any] | None = None,
        *,
        max_items: int | None = None,
        progress: RequeueProgress | None = None,
        on_progress: Callable[[RequeueProgress], None] | None = None,
    ) -> list[str]:
        """
        Put a queue's items in ``statuses`` back into the queue: status ``NEW``, as Automation
        360's work item lifecycle has a client re-process an item (only the system sets
        ``READY_TO_RUN`` and ``ACTIVE``; see ``control_room.work_item_changes``). Listed 100 per
        request by ascending id and updated one request each, each with the version it was
        listed with: an item that changed meanwhile, was deleted, or is refused is skipped with
        a warning, never overwritten.

        :param statuses: the statuses to re-queue (default ``FAILED``); not ``NEW``,
            ``READY_TO_RUN``, ``ACTIVE`` or another status of an item that is still queued.
        :param filter: a Control Room filter that the items must match too (ANDed), e.g.
            ``{"operator": "substring", "field": "error", "value": "timeout"}``.
        :param max_items: re-queue at most this many (default: all).
        :param progress: where an earlier try of the same re-queue stopped (from
            ``on_progress``): its items are not touched again. Its ``skipped`` lists the ids
            not re-queued by reason (``changed``, ``refused``, ``gone``).
        :param on_progress: called with the progress before each page's first update and after
            its last: persist it to continue a later try.
        :return: the re-queued ids in ascending order (those of ``progress`` included).
            Logs its progress after a page (at most one line per 10 seconds) and one line at
            the end: the count and the lowest and highest id.
        :raises InvalidInputError: bad input, before any request.
        :raises AutomationAnywhereError: a failed call (e.g. 403 without queue rights).
        """
        queue = validate_id(queue_id, "queue_id")
        checked = validate_requeue_statuses(statuses)
        checked_filter = validate_filter(filter, "filter")
        cap = validate_max_items(max_items)
        fingerprint = requeue_fingerprint(queue, checked, checked_filter, cap)
        if progress is None or progress.fingerprint != fingerprint:
            progress = RequeueProgress(fingerprint)
        return self.run_operation(
            requeue_items(
                self.session,
                queue,
                checked,
                filter=checked_filter,
                max_items=cap,
                progress=progress,
                api=self._update_api,
                save=on_progress or (lambda _: None),
                warn=self.log.warning,
                note=self.log.info,
                clock=time.monotonic,
            )
        )

    @property
    def _update_api(self) -> UpdateApi:
        """Which API version takes work item updates, learned once per process (see :attr:`capabilities`)."""
        return self.capabilities.update

    # -- bots -----------------------------------------------------------------------------

    def deploy_bot(
        self,
        bot_id: int | str,
        run_as_user_ids: int | str | Sequence[int | str],
        *,
        pool_ids: int | str | Sequence[int | str] | None = None,
        bot_input: Mapping[str, Any] | None = None,
        automation_name: str | None = None,
    ) -> str:
        """
        Deploy a bot (``POST /v4/automations/deploy``; ``/v3`` where v4 answers 404, remembered
        for the process, see :attr:`capabilities`) and
        return its ``deploymentId``. Each run-as user gets a run.

        :param bot_id: the bot's file id in the public repository.
        :param run_as_user_ids: the user(s) whose unattended Bot Runner runs the bot.
        :param pool_ids: device pools to run on (optional).
        :param bot_input: the bot's input variables as plain values (``str``, ``int``,
            ``float``, ``bool``, ``datetime``, ``list``, ``dict``), sent typed.
        :param automation_name: v4's ``automationName``, shown in the deployment's activity
            records; a unique one lets :meth:`find_bot_deployment` find a deploy whose answer
            was lost (v3 deploys carry none).
        :raises InvalidInputError: naming the bad field, before any request.
        :raises AmbiguousOutcomeError: the deploy got no clear answer; it is not re-sent, as
            the bot could run twice.
        :raises DeployRefusedError: 412, no device or run-as user can take it (not retried).
        """
        return self._deploy(BotDeployment.validate(bot_id, run_as_user_ids, pool_ids, bot_input), automation_name)

    def deploy_api_task(
        self,
        bot_id: int | str,
        *,
        number_of_executions: int = 1,
        queue_on_slots_exhaustion: bool = False,
        shared_run_as_user_id: int | str | None = None,
        bot_input: Mapping[str, Any] | None = None,
        automation_name: str | None = None,
    ) -> str:
        """
        Deploy an API task (a headless bot that runs in the Control Room's cloud, without a
        device) through ``POST /v4/automations/deploy`` with ``headlessRequest``, and return
        its ``deploymentId``. It starts ``number_of_executions`` runs.

        :param bot_id: the API task's file id in the public repository.
        :param number_of_executions: how many runs (1 to 100).
        :param queue_on_slots_exhaustion: when the tenant's API task concurrency is used up,
            queue the runs instead of having the deploy refused.
        :param shared_run_as_user_id: the run-as user whose context the runs get (optional).
        :param bot_input: the input variables as plain values, sent typed (see :meth:`deploy_bot`).
        :param automation_name: the deployment's name (see :meth:`deploy_bot`).
        :raises InvalidInputError: naming the bad field, before any request.
        :raises ApiTasksUnavailableError: the Control Room has no ``/v4`` deploy (an
            on-premises or older Control Room); nothing was deployed.
        :raises AmbiguousOutcomeError: the deploy got no clear answer; it is not re-sent.
        """
        headless = HeadlessRequest.validate(number_of_executions, queue_on_slots_exhaustion, shared_run_as_user_id)
        deployment = BotDeployment.api_task(bot_id, headless, bot_input)
        return self._deploy(deployment, automation_name)

    def _deploy(self, deployment: BotDeployment, automation_name: str | None) -> str:
        name = validate_automation_name(automation_name)
        return self.run_operation(deploy(self.session, deployment, name, api=self.capabilities.deploy))

    def find_bot_deployment(self, deployment: BotDeployment, sent_at: float, automation_name: str | None) -> str | None:
        """
        The ``deploymentId`` of a deploy of ``deployment`` named ``automation_name`` and sent
        at ``sent_at`` (epoch seconds, this machine's clock) whose answer never arrived: the
        deployment whose activity records carry that name. ``None`` when the Control Room
        shows no run of the bot for those run-as users since then.

        :raises DeploymentUnknownError: runs of the bot for those users since then, none of
            them (or several) named ``automation_name``; the message names them.
        """
        return self.run_operation(find_deployment(self.session, deployment, sent_at, automation_name))

    def get_bot_runs(self, deployment_id: str) -> list[BotRun]:
        """
        The runs of a deployment (``POST /v3/activity/list`` filtered by ``deploymentId``),
        one per run-as user. Empty for a few seconds after deploying, until the Control Room
        has written the activity records. Once every run is ``COMPLETED`` their typed output
        variables are read too (``GET /v3/activity/execution/{id}``); convert them with
        ``control_room.bots.from_bot_values``.
        """
        return self.run_operation(read_bot_runs(self.session, validate_deployment_id(deployment_id)))

    def stop_bot_runs(self, deployment_id: str) -> list[str]:
        """
        Stop the runs of a deployment that have not finished (``POST /v3/activity/manage``
        with ``stop_executions``) and log which. Safe to repeat: finished runs are left
        alone, and no stop is sent when nothing runs.

        :param deployment_id: the ``deploymentId`` of a deploy.
        :return: the execution ids the Control Room was asked to stop (``[]``: none ran).
        :raises InvalidInputError: ``deployment_id`` is not a deployment id, before any request.
        :raises StopRefusedError: the Control Room refused to stop some runs (in its answer's
            ``manage_action_errors``, or the request with a 400), with its reasons and the ids
            sent (the runs' activity record ids; which id a Control Room takes is unconfirmed,
            see ``control_room.stopping``); or some unfinished runs listed were not asked to
            stop, as their activity records do not show ``deployment_id`` (only runs whose
            record shows it are ever stopped: the Control Room's filter is not trusted for
            this). Its ``not_stopped``: the execution ids of the runs not stopped.
        """
        checked = validate_deployment_id(deployment_id)
        stopped = self.run_operation(stop_runs(self.session, checked))
        if stopped:
            self.log.info("Asked the Control Room to stop run(s) %s of deployment %s.", ", ".join(stopped), checked)
        else:
            self.log.info("No run of deployment %s to stop: none is running.", checked)
        return stopped

    # -- names -------------------------------------------------------------------------

    def get_queue_id(self, name: str) -> str:
        """
        The id of the work queue named ``name``, looked up once per hook (``POST
        /v3/wlm/queues/list``). Case-sensitive; both the name and the Control Room's names are
        compared without their surrounding whitespace, and exactly one queue must match.

        :raises InvalidInputError: ``name`` is not a non-empty string, before any request.
        :raises NameLookupError: no queue, or several, has this name (``"Invoices "`` when
            the Control Room holds ``"Invoices"`` and ``"Invoices "``); the message lists near
            names, or the matches.
        """
        name = validate_name(name, "queue_name")
        key = ("queue", name_key(name))
        if key not in self._ids_by_name:
            self._ids_by_name[key] = self.run_operation(queue_id_of(self.session, name))
            self.log.info("Work queue %r has the id %s.", name, self._ids_by_name[key])
        return self._ids_by_name[key]

    def get_queue_ids(self, names: str | Sequence[str]) -> list[str]:
        """
        The ids of the work queues with these names, in the order given; the names not looked
        up by this hook before cost one request per 100 (compared as :meth:`get_queue_id`
        compares names).

        :raises InvalidInputError: not a name or a list of them, before any request.
        :raises NameLookupError: naming each name matching no queue, or several.
        """
        return self._ids_of("queue", validate_names(names, "queue_names"), queue_ids_of)

    def get_bot_id(self, path: str, *, workspace: Workspace = "public", api_task: bool | None = None) -> str:
        """
        The file id of the task bot or API task at ``path`` in the repository's
        ``workspace``, looked up once per hook (``POST /v2/repository/workspaces/{workspace}/files/list``).

        :param path: the folders from the repository root down to the bot, e.g.
            ``"Bots/Finance/Invoice Processor"``; ``/`` or ``\\``, with or without the root
            folder ``Automation Anywhere``. Compared folder by folder, case-sensitively, each
            folder without its surrounding whitespace; a path starting with
            ``Automation Anywhere`` may also mean a top-level folder of that name, and
            exactly one task bot or API task must match.
        :param workspace: ``"public"`` (what unattended deploys run) or ``"private"`` (the
            connection user's own).
        :param api_task: ``True``: the bot must be an API task; ``False``: a task bot;
            ``None`` (the default): either.
        :raises InvalidInputError: ``path`` names no bot, before any request; or the bot at
            ``path`` is not of the kind ``api_task`` asks for.
        :raises NameLookupError: no task bot or API task, or several, is at this path.
        """
        folders = path_folders(path, "bot_path")
        kind = {None: "bot", True: "api task", False: "task bot"}[api_task]
        key = (kind, validate_workspace(workspace), *folders)
        if key not in self._ids_by_name:
            self._ids_by_name[key] = self.run_operation(
                bot_id_of(self.session, path, workspace=workspace, api_task=api_task)
            )
            self.log.info("Bot %r has the id %s.", "/".join(folders), self._ids_by_name[key])
        return self._ids_by_name[key]

    def get_run_as_user_ids(self, names: str | Sequence[str], *, field: str = "run_as_user_names") -> list[str]:
        """
        The ids of the run-as users with these usernames, in the order given; the names not
        looked up by this hook before cost one request per 100 (``POST
        /v1/devices/runasusers/list``).

        :param field: the parameter the names came from, for errors.
        :raises InvalidInputError: not a username or a list of them, before any request.
        :raises NameLookupError: naming each username matching no run-as user, or several
            (compared as :meth:`get_queue_id` compares names).
        """
        return self._ids_of(
            "run_as_user",
            validate_names(names, field),
            lambda session, unknown: run_as_user_ids_of(session, unknown, field),
        )

    def get_pool_ids(self, names: str | Sequence[str]) -> list[str]:
        """
        The ids of the device pools with these names, in the order given; the names not
        looked up by this hook before cost one request per 100 (``POST
        /v2/devices/pools/list``).

        :raises InvalidInputError: not a name or a list of them, before any request.
        :raises NameLookupError: naming each name matching no pool, or several (compared as
            :meth:`get_queue_id` compares names).
        """
        return self._ids_of("pool", validate_names(names, "pool_names"), pool_ids_of)

    def _ids_of(
        self,
        kind: str,
        names: list[str],
        look_up: Callable[[ControlRoomSession, list[str]], Operation[list[str]]],
    ) -> list[str]:
        unknown = [name for name in names if (kind, name_key(name)) not in self._ids_by_name]
        if unknown:
            found = self.run_operation(look_up(self.session, unknown))
            self._ids_by_name.update(((kind, name_key(name)), found_id) for name, found_id in zip(unknown, found))
            self.log.info(
                "Ids of %s(s): %s.", kind.replace("_", "-"), ", ".join(f"{n!r}={i}" for n, i in zip(unknown, found))
            )
        return [self._ids_by_name[(kind, name_key(name))] for name in names]

    # -- history (exports) ---------------------------------------------------------------

    def iter_history(
        self,
        dataset: str,
        window_start: datetime,
        window_end: datetime,
        *,
        queue_ids: int | str | Sequence[int | str] | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """
        Yield, page by page (100 records at most), the records of ``dataset`` that changed in
        ``[window_start, window_end)``, as the Control Room sent them, oldest change first (see
        ``control_room.history``: bot runs by ``modifiedOn``, work items by ``updatedOn``, the
        audit log by ``createdOn``). One request per page, retried like every read; only one
        page is held at a time. Logs the pages and records read (at most one line per 10
        seconds), with the rate and, from the Control Room's total, about how many are left.

        The window is asked for with a filter on the change time, which no AA page documents
        for bot runs (nor work items). When the Control Room refuses it (400 to the first
        page), the records are read newest-first without a filter, stopping at the first one
        changed before the window (newest first within a page, one page at a time as well),
        and the process remembers that for the dataset (see :attr:`capabilities`; the
        compatibility check finds it for bot runs too); the log says which way was read.

        :param dataset: ``"bot_runs"``, ``"work_items"`` or ``"audit"``.
        :param window_start: a timezone-aware ``datetime``, inclusive.
        :param window_end: a timezone-aware ``datetime``, exclusive.
        :param queue_ids: for ``work_items`` (and only then): the queues, read one after another.
        :raises InvalidInputError: at the call, before any request, for bad input.
        """
        checked = validate_dataset(dataset)
        window = HistoryWindow.validate(window_start, window_end)
        if checked.name == "work_items":
            if queue_ids is None:
                raise InvalidInputError("queue_ids is required for dataset 'work_items'.")
            queues: list[str | None] = list(validate_ids(queue_ids, "queue_ids"))
        elif queue_ids is not None:
            raise InvalidInputError(f"queue_ids applies only to dataset 'work_items', not {dataset!r}.")
        else:
            queues = [None]
        return self._history_pages([HistoryCursor(checked, window, queue) for queue in queues])

    def _history_pages(self, cursors: list[HistoryCursor]) -> Iterator[list[dict[str, Any]]]:
        log = ProgressLog(time.monotonic, self.log.info, unit="records")
        pages = records = 0
        for number, cursor in enumerate(cursors, 1):
            where = f" of queue {cursor.queue_id}" if cursor.queue_id else ""
            name = cursor.dataset.name
            refused = self.capabilities.time_filter_refused
            if name in refused:
                cursor.read_newest_first()
                self.log.info(
                    "Reading %s%s newest-first without a time filter: the Control Room refused it earlier (%s).",
                    name,
                    where,
                    refused[name],
                )
            while not cursor.done:
                page = self.run_operation(read_history_page(self.session, cursor))
                if cursor.refusal is not None and name not in refused:
                    refused[name] = str(cursor.refusal)
                    self.log.info(
                        "Read %s%s newest-first without a time filter: the Control Room refused the filter on %s "
                        "(%s). Records changed after the window are read and skipped.",
                        name,
                        where,
                        cursor.dataset.change_time,
                        cursor.refusal,
                    )
                pages, records = pages + 1, records + len(page)
                if log.due():
                    more = "" if cursor.left is None else f", about {cursor.left} more listed"
                    log.step(
                        records,
                        # The time left only from the last queue's total: the others' are not known yet.
                        cursor.left if number == len(cursors) else None,
                        f"Read page {pages} of {cursor.dataset.name}{where}: {records} record(s) so far{more}",
                    )
                yield page

    # -- roles ---------------------------------------------------------------------------

    def ensure_role(
        self,
        name: str,
        permissions: Sequence[Mapping[str, Any]] | None = None,
        description: str | None = None,
        copy_from: str | None = None,
    ) -> EnsuredRole:
        """
        Make the role ``name`` exist with ``permissions``: create it when missing, else add
        them and remove the others of the resource types they name (scoped or unscoped as they
        are), keeping permissions of other types (added in the UI), its users, its
        ``existingRepositoryPermissions`` and every other field. Safe to repeat; the change is
        logged. Needs a connection of a user who may manage roles (e.g. ``AAE_Admin``).
        ``/v1/usermanagement`` (the documented role API) is used, ``/v2`` where v1 answers 404
        (remembered for the process, see :attr:`capabilities`).

        :param name: the role's exact name (case-sensitive).
        :param permissions: dicts with ``action`` and ``resourceType`` (optionally ``id`` and
            ``resourceId``), e.g. ``ROLE_PRESETS["bot_deployer"]`` from ``control_room.roles``;
            may be left out when ``copy_from`` is given.
        :param description: the role's description; ``None`` keeps an existing one.
        :param copy_from: the exact name of a role (built in the UI, or a system role) whose
            permissions the role gets, read from the Control Room (``GET`` of that role), with
            ``permissions`` added to them. Its ``existingRepositoryPermissions`` are not copied.
        :return: the role now and what changed (``EnsuredRole.to_dict()`` for XCom).
        :raises InvalidInputError: bad input, before any request.
        :raises NameLookupError: no role is named ``copy_from``.
        :raises AmbiguousOutcomeError: a create got no clear answer and the role is not there:
            run it again (it cannot create a second role).
        :raises AutomationAnywhereError: the Control Room refused (403: not allowed to manage
            roles; 400: e.g. a permission it does not know).
        """
        checked_name = validate_role_name(name)
        checked_copy_from = validate_copy_from(copy_from, checked_name)
        if permissions is None and checked_copy_from is None:
            raise InvalidInputError("permissions must be given (a list of permissions), or copy_from (a role's name).")
        checked = validate_permissions(() if permissions is None else permissions)
        checked_description = validate_description(description)
        outcome = self.run_operation(
            ensure_role(
                self.session,
                checked_name,
                checked,
                description=checked_description,
                api=self._role_api,
                copy_from=checked_copy_from,
            )
        )
        self.log.info("%s", outcome.summary())
        return outcome

    @property
    def _role_api(self) -> RoleApi:
        return self.capabilities.roles

    # -- connection test ----------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        """
        Log in and list one queue: what the UI's Test button and ``airflow connections test`` run.

        On success the message says what was checked (login mode, queue or activity rights),
        carries the connection's warnings (unknown extras; mode password without
        ``multiple_login``) and ends with the command of the full check
        (:meth:`check_compatibility`). It is also printed: ``airflow connections test`` silences
        logging and shows only "Connection success!" of a passing test, so the summary and its
        warnings would never reach the user there (the UI shows the returned message).
        """
        try:
            summary = self.run_operation(connection_check(self.session))
        except AutomationAnywhereError as problem:
            return False, str(problem)
        summary += (
            f" Run `python -m airflow_provider_aa.check --conn-id {self.automation_anywhere_conn_id}` "
            "for a full compatibility report."
        )
        print(summary)
        return True, summary

    def check_compatibility(
        self, *, write_queue: str | None = None, write_item: Mapping[str, Any] | None = None
    ) -> CompatibilityReport:
        """
        What the connection's Control Room offers its user (``python -m
        airflow_provider_aa.check``): login, parallel sessions, API versions, rights, activity
        filters (see ``control_room.capabilities``). Read-only probes; the API versions found
        are what this process's hooks then use.

        :param write_queue: the name of a work queue to add one work item to, update and
            delete (confirming the update API and queue rights); ``None``: nothing is written.
        :param write_item: that item's data (the queue's attributes); default ``{}``.
        :return: the report; ``report.ok`` when the user can log in and list work queues.
        """
        try:
            report = self.run_operation(check(self.session, self.capabilities, clock=time.time))
        except AutomationAnywhereError as refused:
            return login_failed(self.session, refused)
        if write_queue is None or not report.ok:
            return report
        return report.with_write(self._write_check(write_queue, dict(write_item or {})))

    def _write_check(self, queue_name: str, data: dict[str, Any]) -> Finding:
        try:
            queue = self.get_queue_id(queue_name)
            item = self.add_work_items(queue, [data])[0]["id"]
        except AutomationAnywhereError as failed:
            return Finding(
                "failed",
                f"adding a work item to queue {queue_name!r} failed: {failed}",
                advice=f"Make the user an owner or participant of queue {queue_name!r}, and give the item the "
                "queue's attributes (--item).",
            )
        done = [f"added work item {item} to queue {queue_name!r} (id {queue})"]
        problem = None
        try:
            self.update_work_item(queue, item, result="airflow_provider_aa compatibility check")
            done.append(f"updated it on /{self.capabilities.update.known}")
        except AutomationAnywhereError as failed:
            problem = f"updating it failed: {failed}"
        try:
            self.delete_work_items(queue, [item])
            done.append("deleted it")
        except AutomationAnywhereError as failed:
            problem = f"{problem}; " if problem else ""
            problem += f"deleting it failed (delete work item {item} by hand): {failed}"
        if problem:
            return Finding(
                "failed",
                "; ".join([*done, problem]),
                advice="Use a queue no bot works on (an item taken by a bot cannot be changed).",
            )
        return Finding("ok", "; ".join(done))
