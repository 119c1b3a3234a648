"""State of a task instance that survives its retries and rescheduled pokes."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from airflow.providers.common.compat.sdk import Variable

from airflow_provider_aa.control_room.adding import AddProgress
from airflow_provider_aa.control_room.work_item_changes import RequeueProgress

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

_log = logging.getLogger(__name__)

#: What reaching a Variable raises where no task runner (supervisor) is connected.
_OUTSIDE_TASK_RUNNER = (ImportError, AttributeError, RuntimeError)

#: Variables of task instances that died without cleaning up are removed after this long,
#: by the next run of the same task (Airflow 3.1/3.2 only; 3.3's store is Airflow's own).
LEFTOVER_AFTER = 14 * 24 * 3600.0


class TaskStateStore:
    """
    JSON values per task instance and ``name``: Airflow 3.3's task state store, else
    (Airflow 3.1/3.2) Variables named after the task instance. Without a task instance (a
    bare ``execute({})``) nothing is kept. Outside a task runner — ``operator.execute()``
    called by a unit test with a mocked task instance — Variables cannot be reached: one
    warning is logged and nothing is kept, so the operator still works, without
    protection across tries.

    A value may come in numbered *parts* (``save(value, part=3)``), so that a growing state
    is written piece by piece instead of whole every time; :meth:`done` forgets them all.

    On Airflow 3.1/3.2 each task keeps, per map index, an index Variable of the Variables its
    instances wrote (``airflow_provider_aa.index.<dag_id>.<task_id>.<map_index>``); a run of
    the task removes the ones older than :data:`LEFTOVER_AFTER` that a dead task instance
    of the same map index left behind. Variables have no compare-and-set, so an index is
    read, changed and written whole: one per map index keeps the mapped instances of a run,
    which run at the same time on several workers, from losing each other's entries (one
    shared index did). Two runs of the same task with the same map index starting within the
    same instant can still lose an entry: its Variables are then left behind, never used again.

    Used to add work items exactly once across retries (``add_progress``), to deploy a bot
    once (``bot_deployment``) and to carry a bot run wait's clocks across rescheduled pokes
    and retries (``bot_run_wait``).
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
        self._index = (
            f"airflow_provider_aa.index.{ti.dag_id}.{ti.task_id}.{ti.map_index}"
            if ti is not None and self._variable
            else None
        )
        self._registered = False

    def load(self, part: int | None = None) -> Any:
        if self._state is not None:
            return self._state.get(self._name(self._key, part))
        if self._variable is not None:
            try:
                return Variable.get(self._name(self._variable, part), default=None, deserialize_json=True)
            except _OUTSIDE_TASK_RUNNER:
                self._unreachable()
        return None

    def save(self, value: Any, part: int | None = None) -> None:
        if self._state is not None:
            self._state.set(self._name(self._key, part), value)
        elif self._variable is not None:
            try:
                if not self._registered:
                    self._register()
                Variable.set(self._name(self._variable, part), value, serialize_json=True)
            except _OUTSIDE_TASK_RUNNER:
                self._unreachable()

    def done(self, parts: int = 0) -> None:
        """Forget the value and its ``parts`` parts: the task is over, a later run starts afresh."""
        names = [None, *range(parts)]
        if self._state is not None:
            for part in names:
                self._state.delete(self._name(self._key, part))
        elif self._variable is not None:
            try:
                for part in names:
                    Variable.delete(self._name(self._variable, part))
                self._unregister()
            except _OUTSIDE_TASK_RUNNER:
                self._unreachable()

    @staticmethod
    def _name(base: str, part: int | None) -> str:
        return base if part is None else f"{base}.part{part}"

    def _register(self) -> None:
        """Note this instance's Variables in the task's index; sweep what dead instances left."""
        assert self._index is not None and self._variable is not None
        index = _as_index(Variable.get(self._index, default=None, deserialize_json=True))
        now = time.time()
        for name, entry in list(index.items()):
            if name != self._variable and now - float(entry.get("saved_at", now)) > LEFTOVER_AFTER:
                Variable.delete(name)
                part = 0  # parts are numbered from 0 without gaps
                while Variable.get(self._name(name, part), default=None) is not None:
                    Variable.delete(self._name(name, part))
                    part += 1
                del index[name]
        index[self._variable] = {"saved_at": now}
        Variable.set(self._index, index, serialize_json=True)
        self._registered = True

    def _unregister(self) -> None:
        assert self._index is not None
        index = _as_index(Variable.get(self._index, default=None, deserialize_json=True))
        if index.pop(self._variable or "", None) is not None:
            Variable.set(self._index, index, serialize_json=True)

    def _unreachable(self) -> None:
        _log.warning(
            "No task runner to keep %s across tries (Airflow Variables are unreachable, e.g. execute() "
            "called from a unit test): going on without it.",
            self._key,
        )
        self._variable = None


class PartedProgress(Protocol):
    """
    Progress kept in parts: ``PARTS`` names both the list of its finished parts (an add's
    batches, a re-queue's pages) and the header's count of them.
    """

    PARTS: ClassVar[str]

    def header(self) -> dict[str, Any]: ...

    @classmethod
    def load(cls, header: Any, part: Callable[[int], Any], fingerprint: str) -> Any:
        """The progress saved as ``header`` and parts (``part(n)``), or a fresh one for another ``fingerprint``."""


_P = TypeVar("_P", bound=PartedProgress)


class SavedProgress(Generic[_P]):
    """
    A progress in the task state store: a small header after every step, and each finished
    part as a part of its own, written once — bytes written grow linearly with the work, not
    quadratically. A subclass names its progress type (``kind``).
    """

    kind: type[_P]

    def __init__(self, store: TaskStateStore) -> None:
        self._store = store
        self._written = 0

    def load(self, fingerprint: str) -> _P:
        """The saved progress of the same work (same ``fingerprint``), or a fresh start."""
        progress: _P = self.kind.load(self._store.load(), lambda part: self._store.load(part=part), fingerprint)
        self._written = len(getattr(progress, progress.PARTS))
        return progress

    def save(self, progress: _P) -> None:
        # Parts before the header that counts them: a try that dies in between leaves a
        # header that knows only complete parts.
        parts = getattr(progress, progress.PARTS)
        for part in range(self._written, len(parts)):
            self._store.save(parts[part], part=part)
        self._written = len(parts)
        self._store.save(progress.header())

    def clear(self) -> None:
        """Forget the progress: its header and every part, also those of an earlier try."""
        header = self._store.load()
        saved = int(header.get(self.kind.PARTS) or 0) if isinstance(header, dict) else 0
        self._store.done(parts=max(self._written, saved))


def _as_index(value: Any) -> dict[str, dict[str, Any]]:
    return {name: entry for name, entry in value.items() if isinstance(entry, dict)} if isinstance(value, dict) else {}


class SavedRequeueProgress(SavedProgress[RequeueProgress]):
    """A re-queue's progress in the task state store: each finished page's re-queued ids a part."""

    kind = RequeueProgress


class SavedAddProgress(SavedProgress[AddProgress]):
    """An add's progress in the task state store: each batch's ids a part."""

    kind = AddProgress
