"""The task state store's Variable fallback (Airflow 3.1/3.2): parts, clean-up, and leftovers."""

from __future__ import annotations

import json
import threading
import time
from types import SimpleNamespace

import pytest

from airflow_provider_aa.control_room.adding import AddProgress
from airflow_provider_aa.tasks import state as task_state
from airflow_provider_aa.tasks.state import LEFTOVER_AFTER, SavedAddProgress, TaskStateStore


class Variables:
    """Airflow Variables in memory, with the bytes written counted."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.bytes_written = 0

    def get(self, key, default=None, deserialize_json=False):
        if key not in self.values:
            return default
        return json.loads(self.values[key]) if deserialize_json else self.values[key]

    def set(self, key, value, serialize_json=False):
        text = json.dumps(value) if serialize_json else value
        self.bytes_written += len(text)
        self.values[key] = text

    def delete(self, key):
        self.values.pop(key, None)


@pytest.fixture
def variables(monkeypatch):
    fake = Variables()
    monkeypatch.setattr(task_state, "Variable", fake)
    return fake


def context(run_id="run-1", map_index=-1):
    return {"ti": SimpleNamespace(dag_id="dag", task_id="add", run_id=run_id, map_index=map_index)}


def test_progress_is_written_in_parts_and_linear_in_the_items(variables):
    def write(batches: int) -> int:
        variables.bytes_written = 0
        saved = SavedAddProgress(TaskStateStore(context(f"run-{batches}"), "add_progress"))
        progress = saved.load("fp")
        for number in range(batches):
            progress.in_flight_since = 1.0
            saved.save(progress)
            progress.batches.append([str(1_000_000 + number * 100 + n) for n in range(100)])
            progress.mark_id, progress.in_flight_since = 1_000_000 + number * 100 + 99, None
            saved.save(progress)
        return variables.bytes_written

    small, large = write(10), write(100)
    assert large < 11 * small  # linear (quadratic would be about 100 times)
    resumed = SavedAddProgress(TaskStateStore(context("run-100"), "add_progress")).load("fp")
    assert len(resumed.ids) == 10_000 and resumed.mark_id == 1_009_999


def test_done_removes_the_value_its_parts_and_the_index_entry(variables):
    store = TaskStateStore(context(), "add_progress")
    saved = SavedAddProgress(store)
    progress = AddProgress("fp", batches=[["1"], ["2"]], mark_id=2)
    saved.save(progress)
    assert len([key for key in variables.values if key.startswith("airflow_provider_aa.add_progress")]) == 3
    saved.clear()
    assert [key for key in variables.values if key.startswith("airflow_provider_aa.add_progress")] == []
    assert json.loads(variables.values["airflow_provider_aa.index.dag.add.-1"]) == {}


def test_leftovers_of_instances_that_died_long_ago_are_removed_by_the_next_run(variables):
    dead = TaskStateStore(context("run-dead"), "add_progress")
    SavedAddProgress(dead).save(AddProgress("fp", batches=[["1"], ["2"]], mark_id=2))
    recent = TaskStateStore(context("run-recent"), "add_progress")
    recent.save({"fingerprint": "other"})
    index = json.loads(variables.values["airflow_provider_aa.index.dag.add.-1"])
    index["airflow_provider_aa.add_progress.dag.add.run-dead.-1"]["saved_at"] = time.time() - LEFTOVER_AFTER - 1
    variables.values["airflow_provider_aa.index.dag.add.-1"] = json.dumps(index)

    TaskStateStore(context("run-next"), "add_progress").save({"fingerprint": "next"})

    left = sorted(key for key in variables.values if key.startswith("airflow_provider_aa.add_progress"))
    assert left == [
        "airflow_provider_aa.add_progress.dag.add.run-next.-1",
        "airflow_provider_aa.add_progress.dag.add.run-recent.-1",
    ]


def test_mapped_instances_writing_at_once_keep_each_others_index_entries(variables):
    """
    Mapped instances of one run start together on several workers: each reads an index before
    any writes it back (a barrier forces that interleaving). Every instance's Variables must
    stay findable for the sweep of leftovers.
    """
    instances = 4
    barrier = threading.Barrier(instances, timeout=10)
    plain_get = variables.get

    def get(key, default=None, deserialize_json=False):
        value = plain_get(key, default, deserialize_json)
        if key.startswith("airflow_provider_aa.index."):
            barrier.wait()  # every instance has read its index; none has written it yet
        return value

    variables.get = get
    stores = [TaskStateStore(context("run-1", map_index), "add_progress") for map_index in range(instances)]
    threads = [threading.Thread(target=store.save, args=({"fingerprint": "fp"},)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    variables.get = plain_get

    registered = set()
    for key, text in variables.values.items():
        if key.startswith("airflow_provider_aa.index."):
            registered |= set(json.loads(text))
    assert registered == {f"airflow_provider_aa.add_progress.dag.add.run-1.{n}" for n in range(instances)}


def test_a_later_run_sweeps_the_leftovers_of_its_own_map_index(variables):
    dead = TaskStateStore(context("run-dead", map_index=3), "add_progress")
    dead.save({"fingerprint": "fp"})
    index_name = "airflow_provider_aa.index.dag.add.3"
    index = json.loads(variables.values[index_name])
    index["airflow_provider_aa.add_progress.dag.add.run-dead.3"]["saved_at"] = time.time() - LEFTOVER_AFTER - 1
    variables.values[index_name] = json.dumps(index)

    TaskStateStore(context("run-next", map_index=3), "add_progress").save({"fingerprint": "next"})

    left = sorted(key for key in variables.values if key.startswith("airflow_provider_aa.add_progress"))
    assert left == ["airflow_provider_aa.add_progress.dag.add.run-next.3"]
    assert set(json.loads(variables.values[index_name])) == {"airflow_provider_aa.add_progress.dag.add.run-next.3"}
