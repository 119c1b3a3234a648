"""Export files: names, the write-then-replace writer, and latest_records over overlapping files."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from airflow.sdk import ObjectStoragePath

from airflow_provider_aa.control_room.errors import InvalidInputError
from airflow_provider_aa.tasks.export_files import (
    ExportFileError,
    export_name,
    export_path,
    latest_records,
    storage_path,
    write_records,
)

T0 = datetime(2026, 11, 30, tzinfo=timezone.utc)


def write(folder, dataset, start_hours, end_hours, *records):
    target = export_path(folder.as_uri(), dataset, T0 + timedelta(hours=start_hours), T0 + timedelta(hours=end_hours))
    return target, write_records(target, [list(records)])


def test_names_are_the_interval_in_utc_basic_iso():
    berlin = timezone(timedelta(hours=1))
    start = datetime(2026, 11, 30, 1, 0, tzinfo=berlin)
    assert export_name(start, start + timedelta(hours=4)) == "20261130T000000Z_20261130T040000Z.jsonl"
    with pytest.raises(InvalidInputError, match="timezone-aware"):
        export_name(datetime(2026, 11, 30), start)


def test_records_stream_page_by_page_into_one_line_each_and_replace_the_file(tmp_path):
    target = ObjectStoragePath(tmp_path.as_uri()) / "bot_runs" / "x.jsonl"
    pages = [[{"id": "1", "b": 1, "a": "é"}], [], [{"id": "2"}, {"id": "3"}]]
    assert write_records(target, pages) == (3, 3)
    lines = (tmp_path / "bot_runs" / "x.jsonl").read_bytes().splitlines()
    assert lines[0] == '{"id":"1","b":1,"a":"é"}'.encode()  # the answer's key order, as sent
    write_records(target, [[{"id": "4"}]], attempt=2)
    assert (tmp_path / "bot_runs" / "x.jsonl").read_text() == '{"id":"4"}\n'
    assert sorted(path.name for path in (tmp_path / "bot_runs").iterdir()) == ["x.jsonl"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path):
    target = ObjectStoragePath(tmp_path.as_uri()) / "audit" / "x.jsonl"
    write_records(target, [[{"id": "old"}]])

    def failing():
        yield [{"id": "new"}]
        raise RuntimeError("the Control Room went away")

    with pytest.raises(RuntimeError):
        write_records(target, failing(), attempt=3)
    assert sorted(path.name for path in (tmp_path / "audit").iterdir()) == ["x.jsonl"]
    assert (tmp_path / "audit" / "x.jsonl").read_text() == '{"id":"old"}\n'


def test_a_temporary_file_of_a_killed_try_goes_with_the_next_write_but_not_a_live_writers(tmp_path):
    (tmp_path / "audit").mkdir()
    (tmp_path / "audit" / ".x.jsonl.tmp-1-0123456789ab").write_text('{"id": "half"')  # try 1, killed
    (tmp_path / "audit" / ".x.jsonl.tmp-2-ba9876543210").write_text('{"id": "busy"')  # another writer of try 2
    write_records(ObjectStoragePath(tmp_path.as_uri()) / "audit" / "x.jsonl", [[]], attempt=2)
    assert sorted(path.name for path in (tmp_path / "audit").iterdir()) == [".x.jsonl.tmp-2-ba9876543210", "x.jsonl"]
    assert (tmp_path / "audit" / "x.jsonl").read_bytes() == b""


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "a", "modifiedOn": ', r"bot_runs/.*\.jsonl, line 2: not JSON"),
        ("[1, 2]", r"line 2: a JSON list, not a record"),
        ('{"status": "COMPLETED"}', r"line 2: a record without id"),
    ],
)
def test_a_line_that_is_not_a_record_is_named_by_file_and_line(tmp_path, line, message):
    folder = tmp_path / "bot_runs"
    folder.mkdir()
    (folder / "20261130T000000Z_20261130T040000Z.jsonl").write_text('{"id": "a"}\n' + line + "\n")
    with pytest.raises(ExportFileError, match=message):
        list(latest_records(tmp_path.as_uri(), "bot_runs"))


def test_latest_records_keeps_each_id_once_in_its_newest_version(tmp_path):
    write(tmp_path, "bot_runs", 0, 4, {"id": "a", "status": "RUNNING", "modifiedOn": "2026-11-30T03:00:00.000000001Z"})
    write(
        tmp_path,
        "bot_runs",
        4,
        8,
        {"id": "a", "status": "COMPLETED", "modifiedOn": "2026-11-30T05:00:00Z"},
        {"id": "b", "status": "RUNNING", "modifiedOn": "2026-11-30T06:00:00Z"},
    )
    # An older file written later (a backfill) does not win with its older versions.
    write(
        tmp_path,
        "bot_runs",
        -4,
        0,
        {"id": "a", "status": "DEPLOYED", "modifiedOn": "2026-11-29T23:00:00Z"},
        {"id": "b", "status": "DEPLOYED", "modifiedOn": "2026-11-30T05:59:59.999Z"},
    )
    (tmp_path / "bot_runs" / ".20261130T080000Z_20261130T120000Z.jsonl.tmp-1").write_text('{"id": "c"}\n')
    latest = list(latest_records(tmp_path.as_uri(), "bot_runs"))
    assert sorted((run["id"], run["status"]) for run in latest) == [("a", "COMPLETED"), ("b", "RUNNING")]


def test_latest_records_on_a_tie_takes_the_later_file_and_keys_work_items_by_queue(tmp_path):
    at = "2026-11-30T01:00:00Z"
    write(tmp_path, "work_items", 0, 4, {"queueId": "20", "id": "7", "status": "NEW", "updatedOn": at})
    write(
        tmp_path,
        "work_items",
        4,
        8,
        {"queueId": 20, "id": 7, "status": "ACTIVE", "updatedOn": at},
        {"queueId": "21", "id": "7", "status": "NEW", "updatedOn": at},
    )
    latest = list(latest_records(ObjectStoragePath(tmp_path.as_uri()), "work_items"))
    assert [(str(item["queueId"]), item["status"]) for item in latest] == [("20", "ACTIVE"), ("21", "NEW")]


def test_latest_records_of_nothing_exported_is_empty(tmp_path):
    assert list(latest_records(tmp_path.as_uri(), "audit")) == []


@pytest.mark.parametrize("destination", ["", " ", "s3:/bucket/aa", "file:/data/aa", 42, None])
def test_destinations_must_be_paths_urls_or_storage_paths(destination):
    with pytest.raises(InvalidInputError, match="destination must be a local path such as '/data/aa', a URL"):
        storage_path(destination)


def test_a_plain_local_path_is_a_file_url_a_relative_one_from_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert str(storage_path(" /data/aa exports ")) == "file:///data/aa exports"
    assert str(storage_path("exports/cr")) == f"file://{tmp_path}/exports/cr"
    write(tmp_path, "audit", 0, 4, {"id": 1, "createdOn": "2026-11-30T01:00:00Z"})
    assert list(latest_records(str(tmp_path), "audit")) == [{"id": 1, "createdOn": "2026-11-30T01:00:00Z"}]


def test_an_empty_line_is_skipped_and_records_round_trip(tmp_path):
    target, _ = write(tmp_path, "audit", 0, 4, {"id": 1, "createdOn": "2026-11-30T01:00:00Z", "nested": {"x": [1]}})
    with open(tmp_path / "audit" / target.name, "a") as file:
        file.write("\n")
    assert list(latest_records(tmp_path.as_uri(), "audit")) == [
        json.loads('{"id": 1, "createdOn": "2026-11-30T01:00:00Z", "nested": {"x": [1]}}')
    ]


def test_a_record_with_a_lone_surrogate_is_written_escaped_with_a_warning(tmp_path, caplog):
    odd = {"id": "7", "json": {"name": "a\ud800b", "city": "Zürich"}}  # the add took it
    target, counts = write(tmp_path, "work_items", 0, 4, {"id": "6", "json": {}}, odd)
    assert counts == (1, 2)
    lines = target.read_bytes().splitlines()
    assert lines[1] == '{"id":"7","json":{"name":"a\\ud800b","city":"Zürich"}}'.encode()
    assert json.loads(lines[1]) == odd
    assert "Record '7' holds text with a lone surrogate" in caplog.text
