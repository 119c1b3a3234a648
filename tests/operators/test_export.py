"""The export operator against the emulator over HTTP: backfills, reruns, paging, faults."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from airflow_provider_aa.control_room.errors import AutomationAnywhereError, InvalidInputError, NameLookupError
from airflow_provider_aa.control_room.history import control_room_instant
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from airflow_provider_aa.operators.export import AutomationAnywhereExportOperator
from airflow_provider_aa.tasks.export_files import latest_records

ACTIVITY = "POST /v3/activity/list"
HISTORY_RUNS = 300


def context(start: datetime, end: datetime, try_number: int = 1) -> dict:
    return {"data_interval_start": start, "data_interval_end": end, "ti": SimpleNamespace(try_number=try_number)}


def exporter(destination, dataset="bot_runs", **kwargs) -> AutomationAnywhereExportOperator:
    return AutomationAnywhereExportOperator(
        task_id=f"export_{dataset}", dataset=dataset, destination=destination, **kwargs
    )


def hours_ago(hours: float) -> datetime:
    return datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours)


def lines(path) -> list[str]:
    return path.read_text().splitlines()


@pytest.fixture
def history(aa_emulator, monkeypatch, no_sleep):
    aa_emulator.use_connection(monkeypatch)
    aa_emulator.configure(history_runs=HISTORY_RUNS, activity_delay=0, pickup_delay=0, work_delay=3600)
    return aa_emulator


def test_a_backfill_of_overlapping_intervals_counts_each_run_once_and_a_rerun_writes_the_same_file(history, tmp_path):
    task = exporter(tmp_path.as_uri(), overlap=timedelta(hours=8))
    intervals = [(hours_ago(h + 8), hours_ago(h)) for h in (32, 24, 16)]  # 8 h each, windows of 16 h
    results = [task.execute(context(start, end)) for start, end in intervals]

    folder = tmp_path / "bot_runs"
    names = [f"{start:%Y%m%dT%H%M%SZ}_{end:%Y%m%dT%H%M%SZ}.jsonl" for start, end in intervals]
    assert sorted(path.name for path in folder.iterdir()) == names
    assert results[0] == {
        "dataset": "bot_runs",
        "interval_start": intervals[0][0].isoformat(),
        "interval_end": intervals[0][1].isoformat(),
        "window_start": (intervals[0][0] - timedelta(hours=8)).isoformat(),
        "window_end": intervals[0][1].isoformat(),
        "path": (folder / names[0]).as_uri(),
        "records": len(lines(folder / names[0])),
        "pages": max(1, -(-len(lines(folder / names[0])) // 100)),  # 100 per page, one page when empty
    }
    written = [len(lines(folder / name)) for name in names]
    assert all(written) and [result["records"] for result in results] == written

    ids = [run["id"] for run in latest_records(tmp_path.as_uri(), "bot_runs")]
    assert len(ids) == len(set(ids)) < sum(written)  # the files share runs, the view counts each once
    # The same runs as one export of the whole span.
    whole = tmp_path / "whole"
    exporter(whole.as_uri(), overlap=timedelta(0)).execute(
        context(intervals[0][0] - timedelta(hours=8), intervals[-1][1])
    )
    assert sorted(ids) == sorted(run["id"] for run in latest_records(whole.as_uri(), "bot_runs"))

    before = (folder / names[1]).read_bytes()
    assert task.execute(context(*intervals[1], try_number=2)) == results[1]
    assert (folder / names[1]).read_bytes() == before  # byte for byte
    assert sorted(path.name for path in folder.iterdir()) == names


def test_latest_records_has_the_newest_status_of_a_run_that_changed_between_exports(history, tmp_path):
    hook = AutomationAnywhereHook()
    deployment = hook.deploy_bot(501, [29])
    now = datetime.now(timezone.utc).replace(microsecond=0)
    task = exporter(tmp_path.as_uri(), overlap=timedelta(hours=1))
    assert task.execute(context(now - timedelta(minutes=30), now + timedelta(minutes=30)))["records"] >= 1
    hook.stop_bot_runs(deployment)  # RUNNING → RUN_ABORTED: modifiedOn moves on
    task.execute(context(now + timedelta(minutes=30), now + timedelta(minutes=90)))

    exported = [line for path in (tmp_path / "bot_runs").iterdir() for line in lines(path) if deployment in line]
    assert len(exported) == 2 and '"status":"RUNNING"' in exported[0] + exported[1]
    (run,) = [run for run in latest_records(tmp_path.as_uri(), "bot_runs") if run["deploymentId"] == deployment]
    assert run["status"] == "RUN_ABORTED"


def test_a_page_cap_below_what_is_asked_still_reads_everything(history, tmp_path):
    start, end = hours_ago(24), hours_ago(0)
    uncapped = exporter((tmp_path / "a").as_uri(), overlap=timedelta(0)).execute(context(start, end))
    history.configure(page_cap=7)
    requests_before = history.counters.requests(ACTIVITY)
    capped = exporter((tmp_path / "b").as_uri(), overlap=timedelta(0)).execute(context(start, end))
    assert capped["records"] == uncapped["records"] > 100
    # Each page after the first starts at the last change time read: 6 new records of 7.
    assert capped["pages"] == 1 + -(-(capped["records"] - 7) // 6)
    assert capped["pages"] == history.counters.requests(ACTIVITY) - requests_before
    assert (tmp_path / "a" / "bot_runs").iterdir().__next__().read_bytes() == next(
        (tmp_path / "b" / "bot_runs").iterdir()
    ).read_bytes()


def test_a_lost_page_answer_is_asked_again(history, tmp_path, no_sleep):
    start, end = hours_ago(24), hours_ago(0)
    clean = exporter((tmp_path / "a").as_uri(), overlap=timedelta(0)).execute(context(start, end))
    history.faults.add("drop_after_commit", count=1, path="/activity/list")
    requests_before = history.counters.requests(ACTIVITY)
    faulty = exporter((tmp_path / "b").as_uri(), overlap=timedelta(0)).execute(context(start, end))
    assert faulty["records"] == clean["records"] and faulty["pages"] == clean["pages"]
    assert history.counters.requests(ACTIVITY) - requests_before == faulty["pages"] + 1 and len(no_sleep) == 1


def test_an_interval_without_changes_is_an_empty_file(history, tmp_path):
    result = exporter(tmp_path.as_uri(), "audit", overlap=timedelta(0)).execute(context(hours_ago(400), hours_ago(396)))
    assert (result["records"], result["pages"]) == (0, 1)
    assert (tmp_path / "audit" / result["path"].rsplit("/", 1)[1]).read_bytes() == b""


def test_audit_and_work_items_by_queue_name(history, tmp_path):
    audit = exporter(tmp_path.as_uri(), "audit", overlap=timedelta(days=3)).execute(
        context(hours_ago(1), hours_ago(-1))
    )
    assert audit["records"] == HISTORY_RUNS
    history.add_work_items(20, [{"n": 1}, {"n": 2}])
    history.add_work_items(22, [{"n": 3}])
    task = exporter(tmp_path.as_uri(), "work_items", queue_names=["Invoices", "Orders"], overlap=timedelta(0))
    items = task.execute(context(hours_ago(1), hours_ago(-1)))
    assert items["records"] == 3
    assert [item["queueId"] for item in latest_records(tmp_path.as_uri(), "work_items")] == ["20", "20", "22"]


def test_every_queue_name_that_matches_no_queue_is_named_in_one_error(history, tmp_path):
    task = exporter(tmp_path.as_uri(), "work_items", queue_names=["Invoices", "Invoice", "Order"], overlap=timedelta(0))
    with pytest.raises(NameLookupError) as unresolved:
        task.execute(context(hours_ago(1), hours_ago(-1)))
    assert "'Invoice'" in str(unresolved.value) and "'Order'" in str(unresolved.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dataset": "runs"}, "dataset must be one of"),
        ({"dataset": "work_items"}, "Give queue_ids or queue_names"),
        ({"dataset": "work_items", "queue_ids": [20], "queue_names": ["Invoices"]}, "not both"),
        ({"dataset": "bot_runs", "queue_ids": [20]}, "queue_ids applies only to dataset 'work_items'"),
        ({"dataset": "audit", "queue_names": "Invoices"}, "queue_names applies only"),
        ({"dataset": "audit", "overlap": timedelta(hours=-1)}, "overlap must be a timedelta of 0 or more"),
        ({"dataset": "audit", "overlap": 3600}, "overlap must be a timedelta"),
        ({"dataset": "audit", "destination": 42}, "destination must be a local path such as '/data/aa', a URL"),
    ],
)
def test_bad_parameters_fail_when_the_task_is_made(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        AutomationAnywhereExportOperator(task_id="export", **{"destination": "file:///tmp/aa", **kwargs})


def test_bad_templated_values_and_a_run_without_data_interval_fail_before_any_request(aa_emulator, monkeypatch):
    aa_emulator.use_connection(monkeypatch)
    with pytest.raises(InvalidInputError, match="destination must be"):
        exporter("s3:/not/a/url").execute(context(hours_ago(4), hours_ago(0)))
    with pytest.raises(InvalidInputError, match=r"queue_ids\[0\] must be a positive integer"):
        exporter("file:///tmp/aa", "work_items", queue_ids=["x"]).execute(context(hours_ago(4), hours_ago(0)))
    with pytest.raises(InvalidInputError, match="neither a data interval nor a DAG run's run_after"):
        exporter("file:///tmp/aa").execute({"data_interval_start": None, "data_interval_end": None})
    assert aa_emulator.counters.requests() == 0


def test_a_run_triggered_without_a_logical_date_exports_the_overlap_before_it(history, tmp_path, capfd):
    run_after = hours_ago(0)
    triggered = {
        "data_interval_start": None,
        "data_interval_end": None,
        "dag_run": SimpleNamespace(run_after=run_after),
        "ti": SimpleNamespace(try_number=1),
    }
    result = exporter(tmp_path.as_uri(), overlap=timedelta(hours=6)).execute(triggered)
    assert (result["interval_start"], result["interval_end"]) == (run_after.isoformat(), run_after.isoformat())
    assert result["window_start"] == (run_after - timedelta(hours=6)).isoformat() and result["records"] > 0
    assert f"{run_after:%Y%m%dT%H%M%SZ}_{run_after:%Y%m%dT%H%M%SZ}.jsonl" in result["path"]
    assert "data interval has no length" in capfd.readouterr().out


def test_work_items_of_other_queues_never_replace_each_others_file(history, tmp_path):
    history.configure(pause_bot=True)
    history.add_work_items(20, [{"n": 1}, {"n": 2}])
    history.add_work_items(22, [{"n": 3}])
    start, end = hours_ago(1), hours_ago(-1)
    for queues in ([20], [22], ["22", 20]):
        exporter(tmp_path.as_uri(), "work_items", queue_ids=queues, overlap=timedelta(0)).execute(context(start, end))
    folders = sorted(path.name for path in (tmp_path / "work_items").iterdir())
    assert folders == ["queues-20", "queues-20-22", "queues-22"]
    latest = list(latest_records(tmp_path.as_uri(), "work_items"))
    assert sorted(item["json"]["n"] for item in latest) == [1, 2, 3]  # each once, none replaced


def test_a_run_that_changes_while_the_window_is_read_does_not_make_another_run_missed(history, tmp_path):
    # Page by page (one run each); the first run read is stopped while the rest are read: its
    # change time moves past the window. Paging by offset would then skip the run after it.
    history.configure(history_runs=0, page_cap=1, pickup_delay=3600)
    hook = AutomationAnywhereHook()
    started = datetime.now(timezone.utc) - timedelta(minutes=1)
    first, second, third = (hook.deploy_bot(501, [29]) for _ in range(3))
    hook.stop_bot_runs(second)  # finished before the export: it must be in the file
    window_end = datetime.now(timezone.utc) + timedelta(seconds=1)
    seen: list[str] = []
    for page in hook.iter_history("bot_runs", started, window_end):
        seen += [run["deploymentId"] for run in page]
        if len(seen) == 1:
            hook.stop_bot_runs(seen[0])
    hook.close()
    assert seen[0] == first and set(seen) == {first, second, third}


def test_an_overlap_shorter_than_the_interval_is_warned_of(history, tmp_path, capfd):
    start, end = hours_ago(8), hours_ago(0)
    exporter(tmp_path.as_uri(), overlap=timedelta(hours=8)).execute(context(start, end))
    assert "is shorter than the data interval" not in capfd.readouterr().out
    exporter(tmp_path.as_uri(), overlap=timedelta(hours=1)).execute(context(start, end))
    assert "overlap (1:00:00) is shorter than the data interval (8:00:00)" in capfd.readouterr().out


@pytest.mark.parametrize("hours", [24, 72])  # records outside the window; all in it (the first page comes again)
def test_a_control_room_that_ignores_the_filter_fails_the_export_at_once(history, tmp_path, hours):
    history.configure(ignore_filter=True)
    requests_before = history.counters.requests(ACTIVITY)
    with pytest.raises(AutomationAnywhereError, match="does not honour the history listing's filter"):
        exporter(tmp_path.as_uri(), overlap=timedelta(0)).execute(context(hours_ago(hours), hours_ago(-1)))
    assert history.counters.requests(ACTIVITY) - requests_before <= 2
    assert list((tmp_path / "bot_runs").iterdir()) == []  # no file, no temporary file


def test_items_sharing_one_instant_beyond_a_page_are_all_read_while_read_ones_change(history):
    # 1,500 items at two instants (adds of 1,000 and 500); after each page a record read
    # changes (a later updatedOn): within an instant, offsets would then skip one record each.
    history.configure(pause_bot=True)
    added = history.add_work_items(20, [{"n": n} for n in range(1000)])
    added += history.add_work_items(20, [{"n": n} for n in range(1000, 1500)])
    assert len({item["updatedOn"] for item in added}) == 2
    hook = AutomationAnywhereHook()
    seen: list[str] = []
    for page in hook.iter_history("work_items", hours_ago(1), hours_ago(-1), queue_ids=20):
        seen += [item["id"] for item in page]
        history.update_work_item(20, page[0]["id"], username="bot_runner", result=f"changed {len(seen)}")
    hook.close()
    assert {item["id"] for item in added} <= set(seen)


def test_a_control_room_refusing_time_filters_exports_every_run_of_the_window_once_read_newest_first(
    history, tmp_path, capfd
):
    start, end = hours_ago(30), hours_ago(6)  # runs after the window too: read and skipped
    filtered = exporter((tmp_path / "a").as_uri(), overlap=timedelta(0)).execute(context(start, end))
    history.configure(refuse_time_filters=True)
    task = exporter((tmp_path / "b").as_uri(), overlap=timedelta(0))
    requests_before = history.counters.requests(ACTIVITY)
    refused = task.execute(context(start, end))

    written = [json.loads(line) for line in lines(tmp_path / "b" / "bot_runs" / refused["path"].rsplit("/", 1)[1])]
    ids = [run["id"] for run in written]
    assert refused["records"] == filtered["records"] == len(ids) == len(set(ids)) > 100  # every run, none twice
    in_window = [control_room_instant(start) <= run["modifiedOn"] < control_room_instant(end) for run in written]
    assert all(in_window)  # none outside
    assert sorted(ids) == sorted(run["id"] for run in latest_records((tmp_path / "a").as_uri(), "bot_runs"))
    # The refused first page, then the pages down to the first run before the window.
    assert history.counters.requests(ACTIVITY) - requests_before == refused["pages"] + 1
    out = capfd.readouterr().out
    assert "Read bot_runs newest-first without a time filter: the Control Room refused the filter on modifiedOn" in out


def test_the_hook_remembers_the_refusal_and_reads_other_queues_newest_first_at_once(history, tmp_path, capfd):
    history.configure(pause_bot=True, refuse_time_filters=True)
    history.add_work_items(20, [{"n": 1}, {"n": 2}])
    history.add_work_items(22, [{"n": 3}])
    hook = AutomationAnywhereHook()
    pages = list(hook.iter_history("work_items", hours_ago(1), hours_ago(-1), queue_ids=[20, 22]))
    hook.close()
    assert sorted(item["json"]["n"] for page in pages for item in page) == [1, 2, 3]
    # Queue 20: the refused filtered page, a page, and the second pass of a window reaching
    # the present (items changed meanwhile); queue 22: a page and the second pass.
    assert history.counters.requests("POST /v3/wlm/queues/{queueId}/workitems/list") == 5
    assert "Reading work_items of queue 22 newest-first without a time filter" in capfd.readouterr().out
