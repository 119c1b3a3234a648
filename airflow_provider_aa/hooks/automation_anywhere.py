"""The Automation Anywhere hook: a Control Room session over ``requests``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cached_property
from typing import Any, TypeVar

import requests
from airflow.sdk import BaseHook

from airflow_provider_aa.airflow_compat import mask_secret
from airflow_provider_aa.control_room.adding import (
    AddProgress,
    add_fingerprint,
    add_items,
    validate_settle_delay,
)
from airflow_provider_aa.control_room.bots import (
    BotDeployment,
    BotRun,
    deploy,
    find_deployment,
    read_bot_runs,
    validate_deployment_id,
)
from airflow_provider_aa.control_room.errors import AutomationAnywhereError, InvalidInputError
from airflow_provider_aa.control_room.exchange import ApiRequest, ApiResponse, Operation, TransportFailure, drive
from airflow_provider_aa.control_room.listing import PageCursor, lookup, read_page
from airflow_provider_aa.control_room.names import (
    Workspace,
    bot_id_of,
    path_folders,
    pool_ids_of,
    queue_id_of,
    run_as_user_ids_of,
    validate_name,
    validate_names,
    validate_workspace,
)
from airflow_provider_aa.control_room.queues import connection_check
from airflow_provider_aa.control_room.session import ControlRoomSession, RetryPolicy
from airflow_provider_aa.control_room.settings import ConnectionSettings, settings_of
from airflow_provider_aa.control_room.stopping import stop_runs
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
from airflow_provider_aa.transport.requests_transport import RequestsTransport

T = TypeVar("T")


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
        ``code``/``message``/``details``).
    """

    conn_name_attr = "automation_anywhere_conn_id"
    default_conn_name = "automation_anywhere_default"
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
        return ControlRoomSession(self.settings, retry=self._retry)

    def get_conn(self) -> requests.Session:
        """The ``requests.Session`` that carries this hook's calls (pooled connections)."""
        return self._http.session

    @cached_property
    def _http(self) -> RequestsTransport:
        return RequestsTransport(self.settings)

    def run_operation(self, operation: Operation[T]) -> T:
        """Run a protocol operation (see ``control_room.exchange``) on this hook's session."""
        return drive(
            operation,
            send=self._send,
            sleep=time.sleep,
            mask=mask_secret,
            authenticator=self.session,
            lock=self._auth_lock,
        )

    def _send(self, request: ApiRequest) -> ApiResponse | TransportFailure:
        return self._http.send(request)

    def close(self) -> None:
        """Log out (when this hook logged in) and close pooled connections; never raises."""
        if "session" in self.__dict__:
            try:
                self.run_operation(self.session.logout())
            except AutomationAnywhereError as problem:
                self.log.warning("Logging out of the Control Room failed (ignored): %s", problem)
        if "_http" in self.__dict__:
            self._http.close()

    def request_json(self, request: ApiRequest) -> Any:
        """Send one authenticated request and return its decoded JSON answer."""
        return self.run_operation(self.session.request_json(request))

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
        settle_delay: float | None = None,
        keep_items: bool = True,
    ) -> list[dict[str, Any]]:
        """
        Add work items to a queue, ``batch_size`` per request, each exactly once.

        An add without a clear answer (timeout, dropped connection, 5xx) is never re-sent
        blindly. After ``settle_delay`` seconds, in which a Control Room that commits late
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
            :class:`~airflow_provider_aa.control_room.adding.DuplicateWorkItemsError` naming
            each refused item, ``"skip"`` logs a warning per item.
        :param settle_delay: seconds to let a late commit land after an ambiguous outcome
            (default: the connection's ``timeout``). Longer is safer against slow Control
            Rooms and costs that much time only when an answer was lost.
        :param keep_items: ``False`` returns nothing and keeps only the ids (in ``progress``):
            for large adds, where holding every created item costs about 2 KiB per item.
        :return: the work items created by this call in request order, ids as strings. An
            empty list sends nothing.
        """
        queue = validate_id(queue_id, "queue_id")
        items = validate_work_items(work_items)
        size = validate_batch_size(batch_size)
        key = validate_dedupe_key(dedupe_key, items)
        if on_duplicate not in ("fail", "skip"):
            raise InvalidInputError(f"on_duplicate must be 'fail' or 'skip', got {on_duplicate!r}.")
        settle = validate_settle_delay(settle_delay, self.settings.timeout)
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
                settle_delay=settle,
                dedupe_key=key,
                fail_on_duplicate=on_duplicate == "fail",
                keep_items=keep_items,
                save=on_progress or (lambda _: None),
                warn=self.log.warning,
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

    # -- bots -----------------------------------------------------------------------------

    def deploy_bot(
        self,
        bot_id: int | str,
        run_as_user_ids: int | str | Sequence[int | str],
        *,
        pool_ids: int | str | Sequence[int | str] | None = None,
        bot_input: Mapping[str, Any] | None = None,
    ) -> str:
        """
        Deploy a bot (``POST /v4/automations/deploy``; ``/v3`` where v4 answers 404) and
        return its ``deploymentId``. Each run-as user gets a run.

        :param bot_id: the bot's file id in the public repository.
        :param run_as_user_ids: the user(s) whose unattended Bot Runner runs the bot.
        :param pool_ids: device pools to run on (optional).
        :param bot_input: the bot's input variables as plain values (``str``, ``int``,
            ``float``, ``bool``, ``datetime``, ``list``, ``dict``), sent typed.
        :raises InvalidInputError: naming the bad field, before any request.
        :raises AmbiguousOutcomeError: the deploy got no clear answer; it is not re-sent, as
            the bot could run twice.
        :raises DeployRefusedError: 412, no device or run-as user can take it (not retried).
        """
        deployment = BotDeployment.validate(bot_id, run_as_user_ids, pool_ids, bot_input)
        return self.run_operation(deploy(self.session, deployment))

    def find_bot_deployment(self, deployment: BotDeployment, sent_at: float) -> str | None:
        """
        The ``deploymentId`` of a deploy of ``deployment`` sent at ``sent_at`` (epoch
        seconds, this machine's clock) whose answer never arrived, from the bot's activity;
        ``None`` when the Control Room shows no run of it for those run-as users since then.

        :raises DeploymentUnknownError: several deployments match; none can be told to be it.
        """
        return self.run_operation(find_deployment(self.session, deployment, sent_at))

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
        :raises StopRefusedError: the Control Room refused to stop some runs, with its reasons.
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
        The id of the work queue named ``name`` (exact and case-sensitive; surrounding
        whitespace ignored), looked up once per hook (``POST /v3/wlm/queues/list``).

        :raises InvalidInputError: ``name`` is not a non-empty string, before any request.
        :raises NameLookupError: no queue, or several, has this name; the message lists near
            names, or the matches.
        """
        name = validate_name(name, "queue_name")
        key = ("queue", name)
        if key not in self._ids_by_name:
            self._ids_by_name[key] = self.run_operation(queue_id_of(self.session, name))
            self.log.info("Work queue %r has the id %s.", name, self._ids_by_name[key])
        return self._ids_by_name[key]

    def get_bot_id(self, path: str, *, workspace: Workspace = "public") -> str:
        """
        The file id of the task bot at ``path`` in the repository's ``workspace``, looked up
        once per hook (``POST /v2/repository/workspaces/{workspace}/files/list``).

        :param path: the folders from the repository root down to the bot, e.g.
            ``"Bots/Finance/Invoice Processor"``; ``/`` or ``\\``, with or without the root
            folder ``Automation Anywhere``. Compared folder by folder, case-sensitively.
        :param workspace: ``"public"`` (what unattended deploys run) or ``"private"`` (the
            connection user's own).
        :raises InvalidInputError: ``path`` names no bot, before any request.
        :raises NameLookupError: no task bot, or several, is at this path.
        """
        folders = path_folders(path, "bot_path")
        key = ("bot", validate_workspace(workspace), *folders)
        if key not in self._ids_by_name:
            self._ids_by_name[key] = self.run_operation(bot_id_of(self.session, path, workspace=workspace))
            self.log.info("Bot %r has the id %s.", "/".join(folders), self._ids_by_name[key])
        return self._ids_by_name[key]

    def get_run_as_user_ids(self, names: str | Sequence[str]) -> list[str]:
        """
        The ids of the run-as users with these usernames, in the order given; the names not
        looked up by this hook before cost one request per 100 (``POST
        /v1/devices/runasusers/list``).

        :raises InvalidInputError: not a username or a list of them, before any request.
        :raises NameLookupError: naming each username matching no run-as user, or several.
        """
        return self._ids_of("run_as_user", validate_names(names, "run_as_user_names"), run_as_user_ids_of)

    def get_pool_ids(self, names: str | Sequence[str]) -> list[str]:
        """
        The ids of the device pools with these names, in the order given; the names not
        looked up by this hook before cost one request per 100 (``POST
        /v2/devices/pools/list``).

        :raises InvalidInputError: not a name or a list of them, before any request.
        :raises NameLookupError: naming each name matching no pool, or several.
        """
        return self._ids_of("pool", validate_names(names, "pool_names"), pool_ids_of)

    def _ids_of(
        self,
        kind: str,
        names: list[str],
        look_up: Callable[[ControlRoomSession, list[str]], Operation[list[str]]],
    ) -> list[str]:
        unknown = [name for name in names if (kind, name) not in self._ids_by_name]
        if unknown:
            found = self.run_operation(look_up(self.session, unknown))
            self._ids_by_name.update(((kind, name), found_id) for name, found_id in zip(unknown, found))
            self.log.info(
                "Ids of %s(s): %s.", kind.replace("_", "-"), ", ".join(f"{n!r}={i}" for n, i in zip(unknown, found))
            )
        return [self._ids_by_name[(kind, name)] for name in names]

    # -- connection test ----------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        """Log in and list one queue: what the UI's Test button and ``airflow connections test`` run."""
        try:
            return True, self.run_operation(connection_check(self.session))
        except AutomationAnywhereError as problem:
            return False, str(problem)
