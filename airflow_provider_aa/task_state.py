"""State of a task instance that survives its retries and rescheduled pokes."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from airflow.sdk import Variable

if TYPE_CHECKING:
    from airflow.sdk import Context


_log = logging.getLogger(__name__)

#: What reaching a Variable raises where no task runner (supervisor) is connected.
_OUTSIDE_TASK_RUNNER = (ImportError, AttributeError, RuntimeError)


class TaskStateStore:
    """
    One JSON value per task instance and ``name``: Airflow 3.3's task state store, else
    (Airflow 3.1/3.2) a Variable named after the task instance. Without a task instance (a
    bare ``execute({})``) nothing is kept. Outside a task runner — ``operator.execute()``
    called by a unit test with a mocked task instance — Variables cannot be reached: one
    warning is logged and nothing is kept, so the operator still works, without
    protection across tries.

    Used to add work items exactly once across retries (``add_progress``), and to carry a
    bot run wait's clocks across rescheduled pokes and retries (``bot_run_wait``).
    """

    def __init__(self, context: Context, name: str) -> None:
        self._state = context.get("task_state_store")
        self._key = f"automation_anywhere_{name}"
        ti = context.get("ti")
        self._variable = (
            f"airflow_provider_aa.{name}.{ti.dag_id}.{ti.task_id}.{ti.run_id}.{ti.map_index}"
            if self._state is None and ti is not None and getattr(ti, "run_id", None)
            else None
        )

    def load(self) -> Any:
        if self._state is not None:
            return self._state.get(self._key)
        if self._variable is not None:
            try:
                return Variable.get(self._variable, default=None, deserialize_json=True)
            except _OUTSIDE_TASK_RUNNER:
                self._unreachable()
        return None

    def save(self, value: Any) -> None:
        if self._state is not None:
            self._state.set(self._key, value)
        elif self._variable is not None:
            try:
                Variable.set(self._variable, value, serialize_json=True)
            except _OUTSIDE_TASK_RUNNER:
                self._unreachable()

    def done(self) -> None:
        """Forget the value: the task is over, a later run starts afresh."""
        if self._state is not None:
            self._state.delete(self._key)
        elif self._variable is not None:
            try:
                Variable.delete(self._variable)
            except _OUTSIDE_TASK_RUNNER:
                self._unreachable()

    def _unreachable(self) -> None:
        _log.warning(
            "No task runner to keep %s across tries (Airflow Variables are unreachable, e.g. execute() "
            "called from a unit test): going on without it.",
            self._key,
        )
        self._variable = None
