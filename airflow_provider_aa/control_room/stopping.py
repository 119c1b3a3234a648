"""
Stopping a deployment's runs: what ``on_kill`` and a deferred wait the user ended send.

``POST /v3/activity/manage`` with ``{"stop_executions": {"execution_ids": [...]}}``. Seen in
public clients of the Control Room: n8n's Automation Anywhere node ("ExecutionOrchestrator":
manage, action ``stop_executions``) and a Python A360 client that reads refusals from the
answer's ``manage_action_errors`` (each with an ``error_response``) and treats 400 as
"not stopped". Whether a Control Room answers anything more than that is unconfirmed; the
answer is read leniently.

Which id goes in ``execution_ids`` is unconfirmed: the provider sends the ``id`` of each
unfinished run's activity record (``POST /v3/activity/list``), the name "execution id"
suggests, and only the runs it has checked belong to the deployment; one production client
(leoporfi/sam) sends the deployment id instead. So a refusal — ``manage_action_errors``, or
a 400 — is never taken for a stop: :class:`StopRefusedError` names the runs not stopped and
the ids sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_aa.control_room.bots import (
    BOT_RUN_FAILURE_STATUSES,
    BOT_RUN_SUCCESS_STATUSES,
    activity_request,
    read_runs,
)
from airflow_provider_aa.control_room.errors import AutomationAnywhereError, StopRefusedError
from airflow_provider_aa.control_room.exchange import ApiRequest, Operation

if TYPE_CHECKING:
    from airflow_provider_aa.control_room.session import ControlRoomSession

#: Runs in these statuses are over: a stop would change nothing, so none is asked for.
FINISHED_BOT_RUN_STATUSES = frozenset(BOT_RUN_SUCCESS_STATUSES + BOT_RUN_FAILURE_STATUSES)


def stop_request(execution_ids: Sequence[str]) -> ApiRequest:
    """
    Ask the Control Room to stop runs. Replay-safe: stopping a run twice stops it once, so
    the session may re-send it after an ambiguous outcome.
    """
    return ApiRequest("POST", "/v3/activity/manage", {"stop_executions": {"execution_ids": list(execution_ids)}})


def stop_runs(session: ControlRoomSession, deployment_id: str) -> Operation[list[str]]:
    """
    Stop the runs of a deployment that have not finished; return their execution ids (empty,
    without a stop request, when every run has finished or there is no run yet).

    One activity list request, then at most one stop request for all the runs. The
    Control Room's ``deploymentId`` filter is not trusted for this destructive call: only
    runs whose own record shows ``deployment_id`` are stopped (one that ignores the filter
    lists everyone's runs), and an unfinished record without a ``deploymentId`` is left
    running and reported.

    :raises StopRefusedError: some runs were not stopped (``not_stopped``): the Control Room
        refused them (e.g. one finished in between; the message names each with its
        reason), or the whole stop request with a 400 (named, with the ids sent), or their
        records carry no ``deploymentId`` (named too). The others were stopped.
    :raises AutomationAnywhereError: a failed call (e.g. 403: no permission).
    """
    listing = activity_request(deployment_id)
    answer = yield from session.request_json(listing)
    runs = read_runs(answer, listing, deployment_id)
    shown = {str(record["id"]) for record in answer["list"] if str(record.get("deploymentId")) == deployment_id}
    unfinished = [run.execution_id for run in runs if run.status not in FINISHED_BOT_RUN_STATUSES]
    ours = [execution_id for execution_id in unfinished if execution_id in shown]
    unshown = [execution_id for execution_id in unfinished if execution_id not in shown]
    problems, not_stopped = [], list(unshown)
    if unshown:
        problems.append(
            f"{len(unshown)} unfinished run(s) listed for deployment {deployment_id} were not asked to stop, as "
            f"their activity records show no deploymentId (they may be other deployments' runs): "
            f"{', '.join(unshown)}; check them in the Control Room"
        )
    call: dict[str, Any] = {"method": listing.method, "path": listing.path, "status": 200}
    if ours:
        request = stop_request(ours)
        call = {"method": request.method, "path": request.path, "status": 200}
        try:
            refusals = _refusals((yield from session.request_json(request)))
        except AutomationAnywhereError as error:
            if error.status != 400:
                raise
            call = error.call_fields()
            refusals = [(execution_id, "the stop request was refused (HTTP 400)") for execution_id in ours]
        named = {execution_id for execution_id, _ in refusals}
        # An entry naming no id that was sent: any run may be the one refused.
        refused = [execution_id for execution_id in ours if execution_id in named or not named <= set(ours)]
        if refused:
            reasons = "; ".join(f"run {execution_id}: {reason}" for execution_id, reason in refusals)
            problems.insert(
                0,
                f"The Control Room did not stop {len(refused)} of {len(ours)} run(s) of deployment "
                f"{deployment_id}: {reasons}. Not stopped: {', '.join(refused)} (execution_ids sent: the runs' "
                "activity record ids, not the deployment id; which one a Control Room takes is unconfirmed)",
            )
            not_stopped = [*refused, *not_stopped]
            ours = [execution_id for execution_id in ours if execution_id not in refused]
    if problems:
        stopped = f" Asked to stop: {', '.join(ours)}." if ours else ""
        raise StopRefusedError(". ".join(problems) + "." + stopped, not_stopped=not_stopped, **call)
    return ours


def _refusals(answer: Any) -> list[tuple[str, str]]:
    """``(execution id, reason)`` for each entry of the answer's ``manage_action_errors``."""
    errors = answer.get("manage_action_errors") if isinstance(answer, dict) else None
    if not isinstance(errors, list):
        return []
    refusals = []
    for entry in errors:
        if not isinstance(entry, dict):
            refusals.append(("?", str(entry)))
            continue
        execution_id = str(entry.get("execution_id") or entry.get("executionId") or entry.get("id") or "?")
        reason = entry.get("error_response", entry.get("message", ""))
        if isinstance(reason, dict):
            reason = ", ".join(f"{key}={value!r}" for key, value in reason.items() if value not in (None, ""))
        refusals.append((execution_id, str(reason) or "(no reason given)"))
    return refusals
