"""History listings for exports: request builders and pages, against a scripted Control Room."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_aa.control_room.errors import AutomationAnywhereError, InvalidInputError
from airflow_provider_aa.control_room.history import (
    DATASETS,
    HistoryCursor,
    HistoryWindow,
    control_room_instant,
    history_request,
    read_history_page,
    validate_dataset,
)
from tests.control_room.scripted import Script, answer, expect, login, lost, run

START = datetime(2026, 11, 29, 20, 0, tzinfo=timezone.utc)
END = datetime(2026, 11, 30, 0, 0, tzinfo=timezone.utc)
WINDOW = HistoryWindow.validate(START, END)


def window_body(field, since=None, offset=0, last_id=None):
    window = {
        "operator": "and",
        "operands": [
            {"operator": "ge", "field": field, "value": "2026-11-29T20:00:00.000Z"},
            {"operator": "lt", "field": field, "value": "2026-11-30T00:00:00.000Z"},
        ],
    }
    if since is not None:
        operands = [window, {"operator": "ge", "field": field, "value": since}]
        if last_id is not None:
            later = [
                {"operator": "gt", "field": field, "value": since},
                {"operator": "gt", "field": "id", "value": last_id},
            ]
            operands.append({"operator": "or", "operands": later})
        window = {"operator": "and", "operands": operands}
    return {
        "filter": window,
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


#: The next page goes on from the first page's last change time, exactly as sent, past the
#: one record read at that instant.
AFTER_7 = {"since": "2026-11-29T21:00:00Z"}


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
            (expect("POST", "/v3/activity/list", json=window_body("modifiedOn", **AFTER_7)), lost("dropped")),
            (
                expect("POST", "/v3/activity/list", json=window_body("modifiedOn", **AFTER_7)),
                # From the last change time on: record 7 again (dropped), then 8.
                answer(200, {"page": {"totalFilter": 2}, "list": first + second}),
            ),
        ]
    )
    pages = run(every_page(session, HistoryCursor(DATASETS["bot_runs"], WINDOW)), script, session=session)
    assert pages == [first, second]


def test_an_empty_window_is_one_empty_page(session, token):
    script = Script(
        [
            login(token),
            (expect("POST", "/v1/audit/messages/list"), answer(200, {"page": {"totalFilter": 0}, "list": []})),
        ]
    )
    cursor = HistoryCursor(DATASETS["audit"], WINDOW)
    assert run(read_history_page(session, cursor), script, session=session) == [] and cursor.done


def test_an_answer_without_a_list_of_records_fails_naming_the_call(session, token):
    script = Script([login(token), (expect("POST", "/v3/activity/list"), answer(200, {"items": []}))])
    with pytest.raises(AutomationAnywhereError, match="list") as caught:
        run(
            read_history_page(session, HistoryCursor(DATASETS["bot_runs"], WINDOW)),
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


def test_a_control_room_that_ignores_the_offset_is_not_read_forever(session, token):
    page = [{"id": "7", "modifiedOn": "2026-11-29T21:00:00Z"}]
    script = Script([login(token)])
    for _ in range(3):  # the page, itself again from its change time (offset 1 asked next), then again
        script.add((expect("POST", "/v3/activity/list"), answer(200, {"page": {"totalFilter": 5}, "list": page})))
    with pytest.raises(AutomationAnywhereError, match="the offset is ignored"):
        run(every_page(session, HistoryCursor(DATASETS["bot_runs"], WINDOW)), script, session=session)


def test_the_next_page_starts_at_the_last_change_time_and_drops_the_records_read_there(session, token):
    tied = "2026-11-29T21:00:00.500Z"
    first = [
        {"id": "1", "modifiedOn": "2026-11-29T20:30:00Z"},
        {"id": "2", "modifiedOn": tied},
        {"id": "3", "modifiedOn": tied},
    ]
    rest = [{"id": "4", "modifiedOn": tied}, {"id": "5", "modifiedOn": "2026-11-29T23:00:00Z"}]
    script = Script(
        [
            login(token),
            (
                expect("POST", "/v3/activity/list", json=window_body("modifiedOn")),
                answer(200, {"page": {"totalFilter": 5}, "list": first}),
            ),
            (
                # Record 1 changed meanwhile and left the window: an offset of 3 would skip record 5.
                # From the last record read on (the second at that instant): it again, then the rest.
                expect("POST", "/v3/activity/list", json=window_body("modifiedOn", since=tied, offset=1)),
                answer(200, {"page": {"totalFilter": 4}, "list": first[2:] + rest}),
            ),
        ]
    )
    pages = run(every_page(session, HistoryCursor(DATASETS["bot_runs"], WINDOW)), script, session=session)
    assert pages == [first, rest]


def test_a_page_of_records_all_read_already_moves_on_by_offset(session, token):
    tied = "2026-11-29T21:00:00.500Z"
    one, two = {"id": "1", "modifiedOn": tied}, {"id": "2", "modifiedOn": tied}
    script = Script(
        [
            login(token),
            (expect("POST", "/v3/activity/list"), answer(200, {"page": {"totalFilter": 2}, "list": [one]})),
            (
                expect("POST", "/v3/activity/list", json=window_body("modifiedOn", since=tied)),
                answer(200, {"page": {"totalFilter": 2}, "list": [one]}),  # pages capped at one record
            ),
            (
                expect("POST", "/v3/activity/list", json=window_body("modifiedOn", since=tied, offset=1)),
                answer(200, {"page": {"totalFilter": 2}, "list": [two]}),
            ),
        ]
    )
    pages = run(every_page(session, HistoryCursor(DATASETS["bot_runs"], WINDOW)), script, session=session)
    assert [page for page in pages if page] == [[one], [two]]


def test_an_instant_shared_by_more_records_than_a_page_is_read_by_offset_within_it(session, token):
    tied = "2026-11-29T21:00:00.500Z"
    records = [{"id": str(n), "modifiedOn": tied} for n in range(1, 6)]
    script = Script([login(token)])
    script.add(
        (
            expect("POST", "/v3/activity/list", json=window_body("modifiedOn")),
            answer(200, {"page": {"totalFilter": 5}, "list": records[:2]}),  # pages capped at two records
        )
    )
    # Within the instant by offset, each page from the last record read on: it shows that no
    # record before it left the instant meanwhile.
    for offset in (1, 2, 3):
        script.add(
            (
                expect("POST", "/v3/activity/list", json=window_body("modifiedOn", since=tied, offset=offset)),
                answer(200, {"page": {"totalFilter": 5}, "list": records[offset : offset + 2]}),
            )
        )
    read = run(every_page(session, HistoryCursor(DATASETS["bot_runs"], WINDOW)), script, session=session)
    assert [page for page in read if page] == [records[:2], records[2:3], records[3:4], records[4:]]


def test_bot_runs_leaving_an_instant_beyond_a_page_while_read_make_none_missed(session, token):
    tied = "2026-11-29T21:00:00.500Z"
    runs = [{"id": f"run-{n}", "modifiedOn": tied} for n in range(1, 6)]
    finished = {"id": "run-2", "modifiedOn": "2026-11-29T23:00:00Z"}
    pages = [
        (None, 0, runs[:2]),  # pages capped at two
        (tied, 1, runs[1:3]),  # run-2 again (read), run-3
        # run-2 finished meanwhile (a later modifiedOn): offset 2 is now run-4, and plain offsets
        # would have skipped it. The page does not start at run-3, the last read: back off.
        (tied, 2, [runs[3], runs[4]]),
        (tied, 0, [runs[0], runs[2]]),
        (tied, 1, [runs[2], runs[3]]),
        (tied, 2, [runs[3], runs[4]]),
        (tied, 3, [runs[4], finished]),
    ]
    script = Script([login(token)])
    for since, offset, listed in pages:
        body = window_body("modifiedOn", since=since, offset=offset)
        script.add(
            (expect("POST", "/v3/activity/list", json=body), answer(200, {"page": {"totalFilter": 5}, "list": listed}))
        )
    read = run(every_page(session, HistoryCursor(DATASETS["bot_runs"], WINDOW)), script, session=session)
    assert [record for page in read for record in page] == [*runs, finished]


ITEMS = "/v3/wlm/queues/20/workitems/list"


def test_work_items_sharing_an_instant_beyond_a_page_go_on_by_id_and_none_is_lost_when_some_change(session, token):
    tied = "2026-11-29T21:00:00.500Z"
    records = [{"id": str(n), "updatedOn": tied} for n in range(1, 6)]
    changed = {"id": "1", "updatedOn": "2026-11-29T23:00:00Z"}  # record 1, changed after it was read
    script = Script(
        [
            login(token),
            (expect("POST", ITEMS), answer(200, {"page": {"totalFilter": 5}, "list": records[:2]})),
            (
                # Pages capped at two records; record 1 left the instant: an offset of 2 would skip record 3.
                expect("POST", ITEMS, json=window_body("updatedOn", since=tied, last_id="2")),
                answer(200, {"page": {"totalFilter": 4}, "list": records[2:4]}),
            ),
            (
                expect("POST", ITEMS, json=window_body("updatedOn", since=tied, last_id="4")),
                answer(200, {"page": {"totalFilter": 2}, "list": [records[4], changed]}),
            ),
        ]
    )
    read = run(every_page(session, HistoryCursor(DATASETS["work_items"], WINDOW, "20")), script, session=session)
    assert read == [records[:2], records[2:4], [records[4], changed]]


IN_WINDOW = [{"id": str(n), "updatedOn": f"2026-11-29T2{n}:00:00Z"} for n in (1, 2)]


@pytest.mark.parametrize(
    ("first", "second", "problem"),
    [
        # A Control Room that ignores the filter: the same records again, from the first on.
        (IN_WINDOW, IN_WINDOW, "'1' came back, but updatedOn .* is before '2026-11-29T22:00:00Z'"),
        (
            [IN_WINDOW[1], {"id": "1", "updatedOn": IN_WINDOW[1]["updatedOn"]}],
            None,
            "'1' came back, but it is not after the record before",
        ),
        ([{"id": "9", "updatedOn": "2026-11-28T10:00:00Z"}], None, "'9' came back, but updatedOn .* is outside"),
        ([{"id": "9", "updatedOn": "2026-11-30T00:00:00Z"}], None, "outside the window"),
        ([{"id": "9"}], None, "updatedOn None is outside the window"),
        (IN_WINDOW[::-1], None, "'1' came back, but it is not after"),  # not sorted as asked
    ],
)
def test_answers_that_do_not_honour_the_filter_or_sort_stop_with_a_clear_error(session, token, first, second, problem):
    script = Script([login(token)])
    for page in (first, second):
        if page is not None:
            script.add((expect("POST", ITEMS), answer(200, {"page": {"totalFilter": 9}, "list": page})))
    with pytest.raises(AutomationAnywhereError, match="does not honour the history listing's filter") as caught:
        run(every_page(session, HistoryCursor(DATASETS["work_items"], WINDOW, "20")), script, session=session)
    assert re.search(problem, str(caught.value))


def test_a_record_read_again_at_the_instant_after_the_last_one_is_refused(session, token):
    tied = "2026-11-29T21:00:00.500Z"
    one, two = {"id": "1", "updatedOn": tied}, {"id": "2", "updatedOn": tied}
    script = Script(
        [
            login(token),
            (expect("POST", ITEMS), answer(200, {"page": {"totalFilter": 3}, "list": [one, two]})),
            (expect("POST", ITEMS), answer(200, {"page": {"totalFilter": 2}, "list": [two]})),  # "id gt 2" ignored
        ]
    )
    with pytest.raises(
        AutomationAnywhereError, match="'2' came back, but it is not after record '2', the last one read"
    ):
        run(every_page(session, HistoryCursor(DATASETS["work_items"], WINDOW, "20")), script, session=session)


def test_a_listing_that_never_ends_stops_after_its_most_pages(session, token):
    script = Script([login(token)])
    for n in range(3):
        page = [{"id": str(n), "modifiedOn": f"2026-11-29T21:00:0{n}Z"}]
        script.add((expect("POST", "/v3/activity/list"), answer(200, {"page": {"totalFilter": 9}, "list": page})))
    cursor = HistoryCursor(DATASETS["bot_runs"], WINDOW, max_pages=3)
    with pytest.raises(AutomationAnywhereError, match="did not end after 3 pages"):
        run(every_page(session, cursor), script, session=session)


def newest_first_body(offset=0):
    return {
        "sort": [{"field": "modifiedOn", "direction": "desc"}, {"field": "id", "direction": "desc"}],
        "page": {"offset": offset, "length": 100},
    }


def run_at(name, hour, minute=0):
    return {"id": name, "modifiedOn": f"2026-11-{29 if hour < 24 else 30}T{hour % 24:02d}:{minute:02d}:00Z"}


REFUSED = answer(400, {"code": "BAD_REQUEST", "message": "filter: the field 'modifiedOn' cannot be filtered on"})


def test_a_refused_time_filter_reads_newest_first_skipping_later_runs_and_stops_before_the_window(session, token):
    after, d, c, b, a = run_at("e", 25), run_at("d", 23), run_at("c", 22), run_at("b", 20), run_at("a", 19)
    script = Script(
        [
            login(token),
            (expect("POST", "/v3/activity/list", json=window_body("modifiedOn")), REFUSED),
            (
                expect("POST", "/v3/activity/list", json=newest_first_body()),
                answer(200, {"page": {"totalFilter": 9}, "list": [after, d, c]}),  # pages capped at three
            ),
            (
                # From the last run passed on (c, at 2): another run changed meanwhile and moved to
                # the head, so the rest moved down one place: d and c again (passed: dropped).
                expect("POST", "/v3/activity/list", json=newest_first_body(offset=2)),
                answer(200, {"page": {"totalFilter": 9}, "list": [d, c, b]}),
            ),
            (
                # b, then a: changed before the window, the end.
                expect("POST", "/v3/activity/list", json=newest_first_body(offset=4)),
                answer(200, {"page": {"totalFilter": 9}, "list": [b, a, run_at("z", 18)]}),
            ),
        ]
    )
    cursor = HistoryCursor(DATASETS["bot_runs"], WINDOW)
    pages = run(every_page(session, cursor), script, session=session)
    assert [page for page in pages if page] == [[d, c], [b]]  # each once; none after or before the window
    assert cursor.done and cursor.refusal is not None and cursor.refusal.status == 400


def test_newest_first_backs_off_when_records_before_the_offset_were_removed(session, token):
    items = [{"id": str(n), "updatedOn": f"2026-11-29T2{3 - n}:00:00Z"} for n in range(4)]  # newest first
    pages = [
        (0, items[:2]),  # pages capped at two
        # Item 0 was deleted: item 1, the last passed, moved up to offset 0, and the page from
        # offset 1 starts after it: back off instead of taking item 3 and skipping item 2.
        (1, items[2:4]),
        (0, items[1:3]),
        (1, items[2:4]),
        # The window reaches past the first record read: the second pass ends at once.
        (0, items[1:3]),
    ]
    script = Script([login(token)])
    for offset, listed in pages:
        body = {
            "sort": [{"field": "updatedOn", "direction": "desc"}, {"field": "id", "direction": "desc"}],
            "page": {"offset": offset, "length": 100},
        }
        script.add((expect("POST", ITEMS, json=body), answer(200, {"page": {"totalFilter": 3}, "list": listed})))
    cursor = HistoryCursor(DATASETS["work_items"], WINDOW, "20")
    cursor.read_newest_first()
    read = run(every_page(session, cursor), script, session=session)
    assert [item for page in read for item in page] == items


@pytest.mark.parametrize(
    ("pages", "problem"),
    [
        ([[run_at("a", 21), run_at("b", 22)]], "'b' came back, but it is not before the record before it"),
        ([[run_at("b", 23), run_at("a", 22)]] * 2, "the page is the same as the page before: the offset is ignored"),
        ([[run_at("b", 23), {"id": "a"}]], "'a' came back, but its modifiedOn None is not an instant"),
    ],
)
def test_newest_first_answers_out_of_order_or_the_same_page_again_stop_with_a_clear_error(
    session, token, pages, problem
):
    script = Script([login(token)])
    for listed in pages:
        script.add((expect("POST", "/v3/activity/list"), answer(200, {"page": {"totalFilter": 9}, "list": listed})))
    cursor = HistoryCursor(DATASETS["bot_runs"], WINDOW)
    cursor.read_newest_first()
    with pytest.raises(AutomationAnywhereError, match=problem):
        run(every_page(session, cursor), script, session=session)


def test_a_window_reaching_the_present_is_read_again_from_the_head_for_runs_changed_meanwhile(session, token):
    window = HistoryWindow.validate(START, END + timedelta(days=1))
    head, older, changed = run_at("b", 23), run_at("a", 21), run_at("a", 25)
    script = Script(
        [
            login(token),
            (
                expect("POST", "/v3/activity/list", json=newest_first_body()),
                answer(200, {"page": {"totalFilter": 2}, "list": [head, older]}),
            ),
            (
                # a changed while the first pass was read: the second pass reads from the head down
                # to the first pass's head (b, read there: dropped).
                expect("POST", "/v3/activity/list", json=newest_first_body()),
                answer(200, {"page": {"totalFilter": 2}, "list": [changed, head]}),
            ),
        ]
    )
    cursor = HistoryCursor(DATASETS["bot_runs"], window)
    cursor.read_newest_first()
    assert run(every_page(session, cursor), script, session=session) == [[head, older], [changed]]
