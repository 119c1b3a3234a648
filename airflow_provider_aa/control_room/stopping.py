"""
Stopping a deployment's runs: what ``on_kill`` and a deferred wait the user ended send.

``POST /v3/activity/manage`` with ``{"stop_executions": {"execution_ids": [...]}}`` takes
execution ids, the ``id`` of the runs' activity records (``POST /v3/activity/list``). Seen in
public clients of the Control Room: n8n's Automation Anywhere node ("ExecutionOrchestrator":
manage, action ``stop_executions``) and a Python A360 client that reads refusals from the
answer's ``manage_action_errors`` (each with an ``error_response``) and treats 400 as
"not stopped". Whether a Control Room answers anything more than that is unconfirmed; the
answer is read leniently.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider_aa.control_room.bots import (
    BOT_RUN_FAILURE_STATUSES,
    BOT_RUN_SUCCESS_STATUSES,
    activity_request,
    read_runs,
)
from airflow_provider_aa.control_room.errors import AutomationAnywhereError
from airflow_provider_aa.control_room.exchange import ApiRequest, Operation
from airflow_provider_aa.control_room.session import ControlRoomSession

#: Runs in these statuses are over: a stop would change nothing, so none is asked for.
FINISHED_BOT_RUN_STATUSES = frozenset(BOT_RUN_SUCCESS_STATUSES + BOT_RUN_FAILURE_STATUSES)


class StopRefusedError(AutomationAnywhereError):
    """The Control Room answered the stop but refused to stop some of the runs."""


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

    One activity list request, then at most one stop request for all the runs.

    :raises StopRefusedError: the Control Room refused to stop some runs (e.g. one finished
        in between); the message names each with the Control Room's reason.
    :raises AutomationAnywhereError: a failed call.
    """
    listing = activity_request(deployment_id)
    runs = read_runs((yield from session.request_json(listing)), listing, deployment_id)
    unfinished = [run.execution_id for run in runs if run.status not in FINISHED_BOT_RUN_STATUSES]
    if not unfinished:
        return []
    request = stop_request(unfinished)
    refusals = _refusals((yield from session.request_json(request)))
    if refusals:
        reasons = "; ".join(f"run {execution_id}: {reason}" for execution_id, reason in refusals)
        raise StopRefusedError(
            f"The Control Room did not stop {len(refusals)} of {len(unfinished)} run(s) of deployment "
            f"{deployment_id}: {reasons}",
            method=request.method,
            path=request.path,
            status=200,
        )
    return unfinished


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
