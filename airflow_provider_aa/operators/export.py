"""Export Control Room history (bot runs, work items, the audit log) to the user's storage."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseOperator

from airflow_provider_aa.control_room.errors import InvalidInputError
from airflow_provider_aa.control_room.history import HistoryWindow, validate_dataset
from airflow_provider_aa.hooks import DEFAULT_CONN_ID
from airflow_provider_aa.tasks.errors import TaskErrors, check_id_or_name

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context
    from airflow.providers.openlineage.extractors import OperatorLineage


class AutomationAnywhereExportOperator(TaskErrors, BaseOperator):
    """
    Export what changed in the Control Room during the run's data interval to a JSON Lines
    file: the pattern of Automation Anywhere's CoE Manager (a pull every few hours, each
    reaching back a day, duplicates removed when read) as one task.

    The window read is the data interval widened backwards by ``overlap``:
    ``[data_interval_start - overlap, data_interval_end)``, on each dataset's change time
    (bot runs ``modifiedOn``, work items ``updatedOn``, audit ``createdOn``; see
    ``control_room.history``). The file is named after the data interval alone:
    ``<destination>/<dataset>/<start>_<end>.jsonl`` (UTC, ``%Y%m%dT%H%M%SZ``; work items in a
    folder per set of queues, ``work_items/queues-20-22/``), so a rerun or retry of an
    interval replaces its own file, and a backfill writes one file per interval. A run without
    a data interval of some length (a manual run; a ``timedelta`` or cron schedule, which
    Airflow 3 makes a trigger timetable) exports the ``overlap`` before it, with a warning:
    schedule with ``DeltaDataIntervalTimetable`` or ``CronDataIntervalTimetable``. Records
    stream page by page into a temporary file that replaces the file only once all are
    written: no partial file, whatever fails. Identical data gives an identical file.

    Pages go by change time, then id, each from the last change time read on. A record that
    changes while the window is read gets a later change time: it leaves the window (the
    next export reads it) or comes again later in this file; no other record is skipped for
    it. :func:`~airflow_provider_aa.tasks.export_files.latest_records` keeps one version per id (the
    newest): read the exports through it. The overlap reads again what the Control Room
    listed late; keep it at least as long as the data interval (a warning says when not).

    The window is asked for with a filter on the change time, which no AA page documents
    for bot runs or work items. A Control Room that refuses it (a 400) is read newest-first
    without a filter instead, down to the first record changed before the window: the same
    records, at the cost of reading those changed since the window ended (see
    ``control_room.history``); the task log says which way it read.

    :param dataset: ``"bot_runs"`` (every run with status, times, bot, run-as user and
        device; needs "View everyone's activity"), ``"work_items"`` (items of the queues
        created or changed in the window; needs rights on the queues) or ``"audit"`` (the
        audit log; needs the audit log permission).
    :param destination: a local path, a URL string or an ``ObjectStoragePath`` (templated):
        ``/data/aa`` and ``file:///data/aa`` work as they are (a relative path is taken from
        the worker's current directory), ``s3://…``, ``gs://…`` and others with the matching
        Airflow provider installed.
    :param overlap: how far before the data interval the window begins (default one day,
        as the CoE Manager does); ``timedelta(0)`` reads the data interval only (records
        listed late are then missed).
    :param queue_ids: for ``work_items``, exactly one of ``queue_ids`` and ``queue_names``:
        a queue id or a list of them (templated).
    :param queue_names: the queues by name instead (templated), looked up when the task runs.
    :param automation_anywhere_conn_id: connection of type ``automation_anywhere``.

    XCom (return value): ``{"dataset", "interval_start", "interval_end", "window_start",
    "window_end", "path", "records", "pages"}`` — the data interval and the window read (ISO
    8601 strings), the file written, the number of records and pages. An interval without
    changes writes an empty file.

    OpenLineage: the Control Room records read (the queues, ``activity`` or ``audit``) as
    inputs, the file written as the output (docs/lineage-and-links.md).

    :raises InvalidInputError: when the task is made, for a bad ``dataset``, ``overlap``,
        ``destination`` type or queue parameters; when it runs, for bad templated values or a
        run without a data interval — before any request.
    :raises AutomationAnywhereError: for a failed call (pages are retried like every read).
    """

    template_fields: Sequence[str] = ("destination", "queue_ids", "queue_names")
    ui_color = "#ffb81c"

    def __init__(
        self,
        *,
        dataset: str,
        destination: Any,
        overlap: timedelta = timedelta(days=1),
        queue_ids: int | str | Sequence[int | str] | None = None,
        queue_names: str | Sequence[str] | None = None,
        automation_anywhere_conn_id: str = DEFAULT_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.dataset = validate_dataset(dataset).name
        if self.dataset == "work_items":
            check_id_or_name("queue_ids", queue_ids, "queue_names", queue_names)
        else:
            for name, value in (("queue_ids", queue_ids), ("queue_names", queue_names)):
                if value is not None:
                    raise InvalidInputError(f"{name} applies only to dataset 'work_items', not {dataset!r}.")
        if not isinstance(overlap, timedelta) or overlap < timedelta(0):
            raise InvalidInputError(f"overlap must be a timedelta of 0 or more, got {overlap!r}.")
        if not isinstance(destination, str):
            # Imported here and when the task runs: a DAG file giving a string does not pay for it.
            from airflow_provider_aa.tasks.export_files import storage_path

            storage_path(destination)  # a string may be a template: checked when the task runs
        self.destination = destination
        self.overlap = overlap
        self.queue_ids = queue_ids
        self.queue_names = queue_names
        self.automation_anywhere_conn_id = automation_anywhere_conn_id
        #: What this try read and wrote, for lineage: (queue ids, file written).
        self._exported: tuple[list[str], str] | None = None

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_aa.control_room.names import validate_names
        from airflow_provider_aa.control_room.work_items import validate_ids
        from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
        from airflow_provider_aa.tasks.export_files import export_path, storage_path, write_records

        interval_start, interval_end = _data_interval(context)
        if interval_start == interval_end:
            self.log.warning(
                "This run's data interval has no length (a manual run, or a DAG scheduled with a "
                "timedelta or cron string, which Airflow 3 turns into a trigger timetable): exporting the "
                "overlap before %s only. For one file per interval, schedule with "
                "DeltaDataIntervalTimetable or CronDataIntervalTimetable (airflow.timetables.interval).",
                interval_end.isoformat(),
            )
        elif self.overlap < interval_end - interval_start:
            self.log.warning(
                "overlap (%s) is shorter than the data interval (%s): a record the Control Room lists late, or "
                "one changed while an earlier window was read, is read by no later export.",
                self.overlap,
                interval_end - interval_start,
            )
        window = HistoryWindow.validate(interval_start - self.overlap, interval_end)
        storage_path(self.destination)  # a rendered template is checked before any request
        ids = validate_ids(self.queue_ids, "queue_ids") if self.queue_ids is not None else None
        names = validate_names(self.queue_names, "queue_names") if self.queue_names is not None else None
        hook = AutomationAnywhereHook(self.automation_anywhere_conn_id)
        try:
            queues = hook.get_queue_ids(names) if names is not None else ids
            target = export_path(self.destination, self.dataset, interval_start, interval_end, queues or ())
            self.log.info(
                "Exporting %s changed from %s to %s into %s.",
                self.dataset,
                window.start.isoformat(),
                window.end.isoformat(),
                target,
            )
            pages = hook.iter_history(self.dataset, window.start, window.end, queue_ids=queues)
            pages_written, records = write_records(target, pages, attempt=context["ti"].try_number)
        finally:
            hook.close()
        self.log.info("Wrote %d %s record(s) in %d page(s) to %s.", records, self.dataset, pages_written, target)
        self._exported = (list(queues or ()), str(target))
        return {
            "dataset": self.dataset,
            "interval_start": interval_start.isoformat(),
            "interval_end": interval_end.isoformat(),
            "window_start": window.start.isoformat(),
            "window_end": window.end.isoformat(),
            "path": str(target),
            "records": records,
            "pages": pages_written,
        }

    def get_openlineage_facets_on_start(self) -> OperatorLineage:
        """The records to read, when known without a request (the file is named once the task runs)."""
        from airflow_provider_aa import lineage
        from airflow_provider_aa.control_room.work_items import validate_ids

        queues = validate_ids(self.queue_ids, "queue_ids") if self.queue_ids is not None else None
        return lineage.export_lineage(self, queues, None)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage:
        """The records read as inputs, the file written as the output."""
        from airflow_provider_aa import lineage

        if self._exported is None:
            return lineage.export_lineage(self, None, None)
        return lineage.export_lineage(self, *self._exported)


def _data_interval(context: Context) -> tuple[datetime, datetime]:
    """The run's data interval; a run without one (triggered without a logical date) has none: its ``run_after``."""
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    if start is not None and end is not None:
        return start, end
    run_after = getattr(context.get("dag_run"), "run_after", None)
    if run_after is None:
        raise InvalidInputError(
            "This task has neither a data interval nor a DAG run's run_after: the export reads the window "
            "that ends at the run's data interval end."
        )
    return run_after, run_after
