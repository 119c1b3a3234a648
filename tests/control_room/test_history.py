"""History listings for exports: request builders and pages, against a scripted Control Room."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_aa.control_room.errors import AutomationAnywhereError, InvalidInputError
from airflow_provider_aa.control_room.history import (
    DATASETS,
    HistoryWindow,
    control_room_instant,
    history_request,
    read_history_page,
    validate_dataset,
)
from airflow_provider_aa.control_room.listing import PageCursor
from tests.control_room.scripted import Script, answer, expect, login, lost, run

START = datetime(2026, 11, 29, 20, 0, tzinfo=timezone.utc)
END = datetime(2026, 11, 30, 0, 0, tzinfo=timezone.utc)
WINDOW = HistoryWindow.validate(START, END)


def window_body(field, offset=0):
    return {
        "filter": {
            "operator": "and",
            "operands": [
                {"operator": "ge", "field": field, "value": "2026-11-29T20:00:00.000Z"},
                {"operator": "lt", "field": field, "value": "2026-11-30T00:00:00.000Z"},
            ],
        },
        "sort": [{"field": field, "direction": "asc"}, {"field": "id", "direction": "asc"}],
        "page": {"offset": offset, "length": 100},
    }


@pytest.mark.parametrize(
    ("dataset", "path", "field"),
    [
        ("bot_runs", "/v3/activity/list", "modifiedOn"),
        ("work_items", "/v3/wlm/queues/20/workitems/list", "updatedOn"),
        ("audit", "/v1/audit/messages/list", "createdOn"),
    ],
)
def test_each_dataset_is_a_window_on_its_change_time_sorted_on_it_then_id(dataset, path, field):
    request = history_request(DATASETS[dataset], WINDOW, "20" if dataset == "work_items" else None)
    assert (request.method, request.path, request.json) == ("POST", path, window_body(field))
    assert request.replay_safe  # a read: a lost answer is asked again


def test_instants_are_utc_with_milliseconds_whatever_the_zone():
    berlin = timezone(timedelta(hours=1))
    assert control_room_instant(datetime(2026, 11, 30, 1, 0, 0, 123_999, tzinfo=berlin)) == "2026-11-30T00:00:00.123Z"


def every_page(session, cursor):
    pages = []
    while not cursor.done:
        pages.append((yield from read_history_page(session, cursor)))
    return pages


def test_pages_are_the_records_as_sent_and_a_short_page_with_a_total_is_not_the_end(session, token):
    first = [{"id": 7, "modifiedOn": "2026-11-29T21:00:00Z", "progress": 100}]  # numbers stay numbers
    second = [{"id": "8", "modifiedOn": "2026-11-29T22:00:00Z"}]
    script = Script(
        [
            login(token),
            (
                expect("POST", "/v3/activity/list", json=window_body("modifiedOn"), token=token),
                answer(200, {"page": {"totalFilter": 2}, "list": first}),  # capped below the 100 asked
            ),
            (expect("POST", "/v3/activity/list", json=window_body("modifiedOn", 1)), lost("dropped")),
            (
                expect("POST", "/v3/activity/list", json=window_body("modifiedOn", 1)),
                answer(200, {"page": {"totalFilter": 2}, "list": second}),
            ),
        ]
    )
    pages = run(every_page(session, PageCursor(history_request(DATASETS["bot_runs"], WINDOW))), script, session=session)
    assert pages == [first, second]


def test_an_empty_window_is_one_empty_page(session, token):
    script = Script(
        [
            login(token),
            (expect("POST", "/v1/audit/messages/list"), answer(200, {"page": {"totalFilter": 0}, "list": []})),
        ]
    )
    cursor = PageCursor(history_request(DATASETS["audit"], WINDOW))
    assert run(read_history_page(session, cursor), script, session=session) == [] and cursor.done


def test_an_answer_without_a_list_of_records_fails_naming_the_call(session, token):
    script = Script([login(token), (expect("POST", "/v3/activity/list"), answer(200, {"items": []}))])
    with pytest.raises(AutomationAnywhereError, match="list") as caught:
        run(
            read_history_page(session, PageCursor(history_request(DATASETS["bot_runs"], WINDOW))),
            script,
            session=session,
        )
    assert caught.value.path == "/v3/activity/list"


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (START.replace(tzinfo=None), END, "window_start must be a timezone-aware datetime"),
        (START, "2026-11-30", "window_end must be a timezone-aware datetime"),
        (END, START, "window_end .* is before window_start"),
    ],
)
def test_bad_windows_are_refused_naming_the_bound(start, end, message):
    with pytest.raises(InvalidInputError, match=message):
        HistoryWindow.validate(start, end)


def test_unknown_datasets_are_refused_listing_the_known_ones():
    with pytest.raises(InvalidInputError, match="'bot_runs', 'work_items', 'audit'"):
        validate_dataset("runs")


def test_records_are_keyed_by_id_as_text_and_work_items_by_queue_too():
    assert DATASETS["bot_runs"].key({"id": 7}) == DATASETS["bot_runs"].key({"id": "7"}) == ("7",)
    assert DATASETS["work_items"].key({"queueId": 20, "id": 7}) == ("20", "7")
