"""
Control Room history in the user's storage: one JSON Lines file per dataset and interval.

Layout: ``<destination>/<dataset>/<start>_<end>.jsonl``, the interval's bounds in UTC, basic
ISO 8601 (``20261130T000000Z_20261130T040000Z.jsonl``), so that names sort by time. Work
items go one folder deeper, one per set of queues (``work_items/queues-20-22/...``), so
that exports of other queues to the same destination never replace each other's files. Each
line is one record exactly as the Control Room sent it. ``destination`` is a local path, an
``ObjectStoragePath`` or a URL string: local paths and ``file://`` work as they are,
``s3://``, ``gs://`` and others with the matching Airflow provider installed.

A file is written whole or not at all: records stream into a temporary file beside it
(``.<name>.tmp-<attempt>-<random>``, its own for each writer), which then replaces the file.
On a local disk that is an atomic rename; object stores (S3, GCS) have no rename, and fsspec
copies then deletes, the copy replacing the object whole. A failed write removes its
temporary file; one left behind by a killed earlier try is removed by the next successful
write of the same interval.

Intervals overlap (each export reaches back ``overlap`` before its interval), so a record
can be in several files, older versions in older files: :func:`latest_records` reads the
newest version of each.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from airflow.providers.common.compat.sdk import ObjectStoragePath

from airflow_provider_aa.control_room.bots import parse_instant
from airflow_provider_aa.control_room.errors import InvalidInputError
from airflow_provider_aa.control_room.history import Dataset, validate_dataset

log = logging.getLogger(__name__)

#: How an interval's bounds appear in file names (UTC).
NAME_FORMAT = "%Y%m%dT%H%M%SZ"
_EXPORT_NAME = re.compile(r"\d{8}T\d{6}Z_\d{8}T\d{6}Z\.jsonl")
_QUEUES_FOLDER = re.compile(r"queues-\d+(-\d+)*")


class ExportFileError(ValueError):
    """A file among the exports is not what the export operator writes (a line that is not a record)."""


def storage_path(destination: Any, field: str = "destination") -> ObjectStoragePath:
    """
    ``destination`` as an ``ObjectStoragePath``: a URL with a scheme (``file:///data/aa``,
    ``s3://bucket/aa``) as it is; a local path (``/data/aa``, ``~/aa``, ``exports/aa``) as
    a ``file://`` URL, a relative one from the current directory (the worker's, in a task).

    :raises InvalidInputError: for anything but an ``ObjectStoragePath``, a URL or a path.
    """
    if isinstance(destination, ObjectStoragePath):
        return destination
    text = destination.strip() if isinstance(destination, str) else ""
    if re.match(r"[A-Za-z][A-Za-z0-9+.-]*://\S", text):
        return ObjectStoragePath(text)
    # A scheme without "//" ("s3:/bucket") is a mistyped URL, not a folder named "s3:".
    if text and "://" not in text and not re.match(r"[A-Za-z][A-Za-z0-9+.-]+:", text):
        return ObjectStoragePath("file://" + str(Path(text).expanduser().absolute()))
    raise InvalidInputError(
        f"{field} must be a local path such as '/data/aa', a URL such as 'file:///data/aa' or "
        f"'s3://bucket/aa', or an ObjectStoragePath, got {destination!r}."
    )


def export_name(start: datetime, end: datetime) -> str:
    """The file name of the interval ``[start, end)`` (aware datetimes)."""
    return f"{_utc(start).strftime(NAME_FORMAT)}_{_utc(end).strftime(NAME_FORMAT)}.jsonl"


def export_path(
    destination: Any, dataset: str, start: datetime, end: datetime, queue_ids: Sequence[str] = ()
) -> ObjectStoragePath:
    """
    Where the export of ``dataset`` for the interval ``[start, end)`` goes; for work items,
    in the folder of its queues (``queue_ids``, ids as digits).
    """
    folder = storage_path(destination) / validate_dataset(dataset).name
    if queue_ids:
        folder = folder / ("queues-" + "-".join(sorted(set(queue_ids), key=lambda queue: (len(queue), queue))))
    return folder / export_name(start, end)


def write_records(
    target: ObjectStoragePath,
    pages: Iterable[list[dict[str, Any]]],
    *,
    attempt: int | str = 1,
) -> tuple[int, int]:
    """
    Write the records of ``pages`` to ``target`` as JSON Lines, replacing it only once all
    are written; one page in memory at a time.

    :param attempt: tells apart the temporary files of concurrent or successive tries.
    :return: ``(pages, records)`` written. No records: an empty file.
    :raises: whatever reading ``pages`` or the storage raises; the temporary file is removed.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    # Its own name: two writers of one file (a zombie try and its successor) never share it.
    temporary = target.parent / f".{target.name}.tmp-{attempt}-{uuid.uuid4().hex[:12]}"
    pages_done = records = 0
    try:
        with temporary.open("wb") as file:
            for page in pages:
                file.write(b"".join(_line(record) for record in page))
                pages_done += 1
                records += len(page)
        temporary.replace(target)
    except BaseException:
        _remove(temporary)
        raise
    earlier = re.compile(re.escape(f".{target.name}.tmp-") + r"(\d+)-")
    for leftover in target.parent.glob(f".{target.name}.tmp-*"):
        match = earlier.match(leftover.name)
        if match and int(match.group(1)) < int(attempt):
            _remove(leftover)  # an earlier try killed mid-write: nothing else removes it
    return pages_done, records


def _line(record: Mapping[str, Any]) -> bytes:
    # Compact and unescaped, keys in the answer's order: the same answer gives the same bytes.
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode() + b"\n"
    except UnicodeEncodeError:
        # A lone surrogate ("\ud800": text a Control Room accepted, not Unicode) has no UTF-8:
        # written as its JSON escape, which reads back as the same string.
        log.warning(
            "Record %r holds text with a lone surrogate, which UTF-8 cannot hold: written with it escaped (\\uXXXX).",
            record.get("id"),
        )
        return _LONE_SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text).encode() + b"\n"


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _remove(path: ObjectStoragePath) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def latest_records(destination: Any, dataset: str) -> Iterator[dict[str, Any]]:
    """
    Every record of ``dataset`` exported to ``destination``, each id once in its newest
    version: the one with the latest change time (``modifiedOn`` of a bot run, ``updatedOn``
    of a work item, ``createdOn`` of an audit entry), on a tie the one in the later file.

    Overlapping intervals never count a record twice. Two passes over the files keep
    memory to a small entry per id, not the records: feed the result to
    ``pandas.DataFrame(...)`` or insert it into a database as it comes. Files written
    while this reads may be missed or half seen: read when no export of the dataset runs.

    :param destination: what the export operator was given (a local path, an
        ``ObjectStoragePath`` or a URL).
    :param dataset: ``"bot_runs"``, ``"work_items"`` or ``"audit"``.
    :return: records in file order (oldest interval first); nothing when none was exported.
    :raises InvalidInputError: for a bad ``destination`` or ``dataset``.
    :raises ExportFileError: a line of a file is not a JSON object with the dataset's key
        (``id``; ``queueId`` and ``id`` for work items), naming the file and line.
    """
    checked = validate_dataset(dataset)
    folder = storage_path(destination) / checked.name
    return _latest(folder, checked)


def _export_files(folder: ObjectStoragePath) -> list[ObjectStoragePath]:
    """The export files of a dataset's folder (work items: of its queue folders), oldest interval first."""
    files: list[ObjectStoragePath] = []
    for path in folder.iterdir():
        if _EXPORT_NAME.fullmatch(path.name):
            files.append(path)
        elif _QUEUES_FOLDER.fullmatch(path.name) and path.is_dir():
            files += [inner for inner in path.iterdir() if _EXPORT_NAME.fullmatch(inner.name)]
    return sorted(files, key=lambda path: (path.name, path.parent.name))


def _latest(folder: ObjectStoragePath, dataset: Dataset) -> Iterator[dict[str, Any]]:
    if not folder.exists():
        return
    files = _export_files(folder)
    newest: dict[tuple[str, ...], tuple[float, int, int]] = {}  # key → (change time, file, line)
    for file_index, path in enumerate(files):
        for line_index, record in _records(path):
            version = (_change_time(record, dataset), file_index, line_index)
            if any(record.get(field) is None for field in dataset.key_fields):
                raise ExportFileError(
                    f"{path}, line {line_index + 1}: a record without {' and '.join(dataset.key_fields)}: "
                    "not an export of this dataset."
                )
            key = dataset.key(record)
            if key not in newest or version[:2] >= newest[key][:2]:
                newest[key] = version
    wanted: dict[int, set[int]] = {}
    for _, file_index, line_index in newest.values():
        wanted.setdefault(file_index, set()).add(line_index)
    del newest
    for file_index, path in enumerate(files):
        lines = wanted.get(file_index)
        if lines:
            yield from (record for line_index, record in _records(path) if line_index in lines)


def _records(path: ObjectStoragePath) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open("rb") as file:
        for index, line in enumerate(file):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as problem:
                raise ExportFileError(f"{path}, line {index + 1}: not JSON ({problem}).") from None
            if not isinstance(record, dict):
                raise ExportFileError(f"{path}, line {index + 1}: a JSON {type(record).__name__}, not a record.")
            yield index, record


def _change_time(record: Mapping[str, Any], dataset: Dataset) -> float:
    """Epoch seconds of the record's change time; a record without one is older than any with one."""
    value = record.get(dataset.change_time)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value / 1000  # epoch milliseconds, should a Control Room write instants so (unconfirmed)
    instant = parse_instant(value)
    return instant if instant is not None else float("-inf")


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInputError(f"interval bounds must be timezone-aware datetimes, got {moment!r}.")
    return moment.astimezone(timezone.utc)
