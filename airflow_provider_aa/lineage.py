"""
OpenLineage for the provider's tasks: what each one read and wrote, and a deploy's run.

Only the tasks' ``get_openlineage_facets_on_start``/``..._on_complete`` methods import this
module (inside the method), so the provider works without OpenLineage installed.

Datasets of a Control Room live in the namespace ``automation-anywhere://<host[:port]>`` (of
the connection's host): a work queue is ``queues/<queue id>``, the bot runs an export reads
``activity``, the audit log ``audit``. A file an export writes is ``file`` + its absolute
path, or ``<scheme>://<bucket>`` + its key in object storage (OpenLineage's naming).
See docs/lineage-and-links.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from airflow.providers.common.compat.openlineage.facet import Dataset
from airflow.providers.openlineage.extractors import OperatorLineage
from attrs import define
from openlineage.client.facet_v2 import RunFacet

from airflow_provider_aa.control_room.work_items import validate_id
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook

#: Where the deploy run facet is described.
_FACET_SCHEMA = (
    "https://github.com/airflow-provider-automation-anywhere/airflow-provider-automation-anywhere/"
    "blob/main/docs/lineage-and-links.md#automationanywheredeploymentrunfacet"
)


@define
class AutomationAnywhereDeploymentRunFacet(RunFacet):
    """A bot deployment: its id, the bot's file id, and the run's status (``None``: not waited for)."""

    deploymentId: str
    botId: str
    status: str | None = None

    @staticmethod
    def _get_schema() -> str:
        return _FACET_SCHEMA


def namespace(control_room_url: str) -> str:
    """``automation-anywhere://<host[:port]>`` of a Control Room URL (no path, no credentials)."""
    return f"automation-anywhere://{urlsplit(control_room_url).netloc}"


def queue_dataset(control_room_url: str, queue_id: str) -> Dataset:
    return Dataset(namespace=namespace(control_room_url), name=f"queues/{queue_id}")


def file_dataset(path: str) -> Dataset:
    """A written file: ``file`` + absolute path locally, ``<scheme>://<bucket>`` + key in object storage."""
    parts = urlsplit(path)
    if parts.scheme in ("", "file", "local"):
        return Dataset(namespace="file", name=parts.path or path)
    return Dataset(namespace=f"{parts.scheme}://{parts.netloc}", name=parts.path.lstrip("/"))


def control_room_url(task: Any) -> str:
    """The task's Control Room URL, from its connection (no request)."""
    return AutomationAnywhereHook(task.automation_anywhere_conn_id).settings.base_url


def queue_before_run(task: Any) -> str | None:
    """A task's queue id when it is given by id (a name needs a look-up: known once the task ran)."""
    if task.queue_name is not None or task.queue_id is None:
        return None
    return validate_id(task.queue_id, "queue_id")


def queue_lineage(task: Any, queue_id: str | None, *, read: bool, written: bool) -> OperatorLineage:
    """The task's queue as an input (``read``) and/or an output (``written``); none without an id."""
    datasets = [queue_dataset(control_room_url(task), queue_id)] if queue_id else []
    return OperatorLineage(inputs=datasets if read else [], outputs=datasets if written else [])


def deployment_lineage(run: dict[str, Any] | None) -> OperatorLineage:
    """A deploy's run facet from what it pushed (``deployment_id``, ``bot_id``) and the run's ``status``."""
    if not run or not run.get("deployment_id"):
        return OperatorLineage()
    facet = AutomationAnywhereDeploymentRunFacet(
        deploymentId=str(run["deployment_id"]),
        botId=str(run.get("bot_id") or ""),
        status=run.get("status"),
    )
    return OperatorLineage(run_facets={"automationAnywhereDeployment": facet})


def export_lineage(task: Any, queue_ids: Sequence[str] | None, written: str | None) -> OperatorLineage:
    """
    An export: the Control Room records it read (for work items: of ``queue_ids``; ``None``:
    not known yet), and the file it wrote (``None``: not yet).
    """
    inputs: list[Dataset] = []
    if task.dataset != "work_items":
        name = "activity" if task.dataset == "bot_runs" else "audit"
        inputs = [Dataset(namespace=namespace(control_room_url(task)), name=name)]
    elif queue_ids:
        url = control_room_url(task)
        inputs = [queue_dataset(url, queue_id) for queue_id in queue_ids]
    return OperatorLineage(inputs=inputs, outputs=[file_dataset(written)] if written else [])
