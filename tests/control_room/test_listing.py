"""Paging listings: PageCursor, read_all and lookup, without a network."""

from __future__ import annotations

import random

import pytest

from airflow_provider_aa.control_room.errors import AutomationAnywhereError
from airflow_provider_aa.control_room.listing import PageCursor, lookup, read_all
from airflow_provider_aa.control_room.work_items import list_request
from automation_anywhere_emulator.filters import query

FIRST = list_request("7")


def page(ids, total=None):
    answer = {"list": [{"id": str(n), "json": {"n": n}} for n in ids]}
    if total is not None:
        answer["page"] = {"offset": 0, "total": total, "totalFilter": total}
    return answer


class FakeSession:
    """A session whose ``request_json`` answers from ``answer(request)``, recording requests."""

    def __init__(self, answer):
        self.answer = answer
        self.sent = []

    def request_json(self, request):
        self.sent.append(request)
        return self.answer(request)
        yield  # a generator like the real one, which never needs to send anything here


def run(operation):
    """Drive an operation that, with a FakeSession, yields no action."""
    with pytest.raises(StopIteration) as finished:
        operation.send(None)
    return finished.value.value


def capped_server(records, cap, *, total=True):
    """A Control Room returning at most ``cap`` records a page, with or without ``totalFilter``."""

    def answer(request):
        result = query(records, request.json, page_cap=cap)
        if not total:
            del result["page"]
        return result

    return answer


def test_a_cursor_starts_at_offset_0_and_moves_by_what_it_got():
    cursor = PageCursor(FIRST)
    assert cursor.request() == list_request("7", offset=0)
    assert not cursor.done
    items = cursor.read(page(range(40), total=230), cursor.request())
    assert [item["id"] for item in items] == [str(n) for n in range(40)]
    assert cursor.offset == 40 and not cursor.done
    assert cursor.request().json["page"] == {"offset": 40, "length": 100}


def test_pages_capped_below_what_was_asked_are_read_up_to_total_filter():
    records = [{"id": n} for n in range(1, 231)]
    session = FakeSession(capped_server(records, 40))

    items = run(read_all(session, FIRST))

    assert [item["id"] for item in items] == [str(n) for n in range(1, 231)]
    assert [r.json["page"] for r in session.sent] == [{"offset": o, "length": 100} for o in range(0, 230, 40)]


def test_total_filter_ends_the_listing_without_asking_for_an_empty_page():
    cursor = PageCursor(FIRST)
    cursor.read(page(range(100), total=200), cursor.request())
    assert not cursor.done
    cursor.read(page(range(100, 200), total=200), cursor.request())
    assert cursor.done and cursor.offset == 200


def test_an_empty_page_ends_the_listing_even_below_total_filter():
    # The queue shrank while it was read (items deleted): totalFilter is out of date.
    cursor = PageCursor(FIRST)
    cursor.read(page(range(100), total=500), cursor.request())
    assert cursor.read(page([], total=500), cursor.request()) == []
    assert cursor.done


def test_a_short_page_without_total_filter_ends_the_listing():
    session = FakeSession(capped_server([{"id": n} for n in range(1, 131)], None, total=False))
    items = run(read_all(session, FIRST))
    assert len(items) == 130
    assert [r.json["page"]["offset"] for r in session.sent] == [0, 100]


def test_a_full_page_without_total_filter_asks_for_the_next():
    session = FakeSession(capped_server([{"id": n} for n in range(1, 101)], None, total=False))
    assert len(run(read_all(session, FIRST))) == 100
    assert [r.json["page"]["offset"] for r in session.sent] == [0, 100]  # the second page: empty


def test_a_capped_page_without_total_filter_is_taken_for_the_last():
    # Documented limit: with neither a total nor a full page, nothing tells a cap from the end.
    session = FakeSession(capped_server([{"id": n} for n in range(1, 231)], 40, total=False))
    assert len(run(read_all(session, FIRST))) == 40
    assert len(session.sent) == 1


def test_a_short_page_is_judged_against_the_length_asked():
    cursor = PageCursor(list_request("7", length=10))
    cursor.read(page(range(10)), cursor.request())
    assert not cursor.done
    cursor.read(page(range(10, 19)), cursor.request())
    assert cursor.done


@pytest.mark.parametrize("total", [None, "many", {"n": 1}, [3]])
def test_an_unreadable_total_filter_counts_as_none(total):
    cursor = PageCursor(FIRST)
    answer = {"page": {"totalFilter": total}, "list": [{"id": 1}]}
    cursor.read(answer, cursor.request())
    assert cursor.done  # 1 of 100: a short page ends it


def test_a_page_repeating_the_previous_one_is_an_error_naming_the_offset():
    records = [{"id": n} for n in range(1, 301)]
    session = FakeSession(lambda request: query(records, request.json, ignore_offset=True))

    with pytest.raises(AutomationAnywhereError, match="page at offset 100 with the same items") as caught:
        run(read_all(session, FIRST))

    assert "ignores the page offset" in str(caught.value)
    assert (caught.value.method, caught.value.path) == ("POST", "/v3/wlm/queues/7/workitems/list")
    assert len(session.sent) == 2  # stopped at once, not after reading the same page forever


def test_a_repeated_page_is_caught_without_total_filter_too():
    cursor = PageCursor(FIRST)
    cursor.read(page(range(100)), cursor.request())
    with pytest.raises(AutomationAnywhereError, match="offset 100"):
        cursor.read(page(range(100)), cursor.request())


def test_an_answer_without_a_list_of_items_is_an_error():
    cursor = PageCursor(FIRST)
    with pytest.raises(AutomationAnywhereError, match="no 'list' of work items"):
        cursor.read({"page": {"totalFilter": 3}}, cursor.request())


def test_ids_come_back_as_strings_whatever_the_control_room_sends():
    cursor = PageCursor(FIRST)
    items = cursor.read({"list": [{"id": 7, "queueId": 3, "json": {"n": 1}}]}, cursor.request())
    assert items == [{"id": "7", "queueId": "3", "json": {"n": 1}}]


# -- lookup -----------------------------------------------------------------------------------


def test_250_ids_are_looked_up_in_3_filtered_listings_in_the_order_asked():
    held = [{"id": n, "json": {"n": n}} for n in range(1, 301) if n not in (17, 260)]
    session = FakeSession(lambda request: query(held, request.json))
    asked = [str(n) for n in range(1, 251)]
    random.Random(4).shuffle(asked)

    found = run(lookup(session, "7", asked))

    assert list(found) == [n for n in asked if n != "17"]  # the order asked; 17 is not in the queue
    assert found["5"]["json"] == {"n": 5}
    filters = [r.json["filter"] for r in session.sent]
    assert [f["operator"] for f in filters] == ["or"] * 3
    assert [[o["value"] for o in f["operands"]] for f in filters] == [asked[:100], asked[100:200], asked[200:]]
    assert all(o["operator"] == "eq" and o["field"] == "id" for f in filters for o in f["operands"])
    assert all(r.path == "/v3/wlm/queues/7/workitems/list" for r in session.sent)


def test_one_id_is_looked_up_with_an_eq_filter():
    session = FakeSession(lambda request: query([{"id": 9}], request.json))
    assert run(lookup(session, "7", ["9"])) == {"9": {"id": "9"}}
    assert session.sent[0].json["filter"] == {"operator": "eq", "field": "id", "value": "9"}


def test_a_lookup_pages_when_the_control_room_caps_pages():
    held = [{"id": n} for n in range(1, 151)]
    session = FakeSession(lambda request: query(held, request.json, page_cap=30))

    found = run(lookup(session, "7", [str(n) for n in range(1, 151)]))

    assert list(found) == [str(n) for n in range(1, 151)]
    pages = [(len(r.json["filter"]["operands"]), r.json["page"]["offset"]) for r in session.sent]
    assert pages == [(100, 0), (100, 30), (100, 60), (100, 90), (50, 0), (50, 30)]


def test_a_lookup_on_a_server_ignoring_offsets_fails_clearly():
    held = [{"id": n} for n in range(1, 151)]
    session = FakeSession(lambda request: query(held, request.json, page_cap=30, ignore_offset=True))
    with pytest.raises(AutomationAnywhereError, match="offset 30"):
        run(lookup(session, "7", [str(n) for n in range(1, 151)]))
