"""Adding exactly once without a network: matching, the mark's filter, saved progress, no clocks compared."""

from __future__ import annotations

import json

import pytest

from airflow_provider_aa.control_room.adding import AddProgress, add_batch, add_fingerprint, validate_lost_answer_delay
from airflow_provider_aa.control_room.errors import AmbiguousOutcomeError, AutomationAnywhereError, InvalidInputError
from airflow_provider_aa.control_room.exchange import Sleep
from airflow_provider_aa.control_room.work_items import added_since_filter, match_created
from automation_anywhere_emulator.filters import query

# -- match_created ----------------------------------------------------------------------------


def candidate(item_id, **data):
    return {"id": item_id, "status": "NEW", "json": data}


def ids(matches):
    return [None if match is None else match["id"] for match in matches]


def test_items_match_by_their_data_regardless_of_key_order():
    batch = [{"a": 1, "b": "x"}, {"a": 2}]
    found = match_created(batch, [candidate("7", a=2), candidate("8", b="x", a=1)], dedupe_key=None)
    assert ids(found) == ["8", "7"]
    assert found[0] == candidate("8", b="x", a=1)


def test_data_that_differs_in_any_attribute_or_type_does_not_match():
    batch = [{"a": 1, "b": "x"}]
    assert ids(match_created(batch, [candidate("1", a=1), candidate("2", a=1, b="y")], dedupe_key=None)) == [None]
    assert ids(match_created([{"a": 1}], [candidate("3", a="1")], dedupe_key=None)) == [None]


def test_each_candidate_answers_one_item_oldest_first():
    batch = [{"a": 1}, {"a": 1}, {"a": 1}]
    # Numerically oldest first: "9" before "10" (a text sort would put "10" first).
    found = match_created(batch, [candidate("10", a=1), candidate("9", a=1)], dedupe_key=None)
    assert ids(found) == ["9", "10", None]


def test_a_dedupe_key_matches_on_that_attribute_alone_as_text():
    batch = [{"k": "A", "v": 1}, {"k": 7, "v": 2}, {"k": "C", "v": 3}]
    candidates = [candidate("21", k="7", v="other"), candidate("20", k="A", v="changed by the server")]
    assert ids(match_created(batch, candidates, dedupe_key="k")) == ["20", "21", None]


def test_a_dedupe_key_value_is_claimed_once_oldest_first():
    batch = [{"k": "A", "n": 1}, {"k": "A", "n": 2}]
    candidates = [candidate("32", k="A"), candidate("31", k="A"), candidate("33", k="A")]
    assert ids(match_created(batch, candidates, dedupe_key="k")) == ["31", "32"]


def test_a_candidate_without_data_matches_nothing():
    assert ids(match_created([{"a": 1}], [{"id": "5"}, {"id": "6", "json": None}], dedupe_key=None)) == [None]
    assert ids(match_created([{"k": "A"}], [{"id": "5"}], dedupe_key="k")) == [None]


def test_no_candidates_no_matches():
    assert match_created([{"a": 1}, {"a": 2}], [], dedupe_key=None) == [None, None]


@pytest.mark.parametrize("dedupe_key", [None, "k"])
def test_matching_a_large_batch_reads_each_item_and_candidate_once(monkeypatch, dedupe_key):
    # Linear, not quadratic: a batch of 1,000 of which half was created, after 1,000 items
    # of another producer, computes 2,500 identities; comparing each item with every
    # unclaimed candidate computed over a million.
    from airflow_provider_aa.control_room import work_items

    identities = 0
    identity = work_items._identity

    def counted(data, key):
        nonlocal identities
        identities += 1
        return identity(data, key)

    monkeypatch.setattr(work_items, "_identity", counted)
    batch = [{"k": f"K{n}", "n": n} for n in range(1000)]
    others = [candidate(str(n), k=f"other-{n}", n=n) for n in range(1, 1001)]
    ours = [candidate(str(2000 + n), k=f"K{n}", n=n) for n in range(0, 1000, 2)]
    candidates = list(reversed(others + ours))
    found = match_created(batch, candidates, dedupe_key=dedupe_key)
    assert ids(found) == [str(2000 + n) if n % 2 == 0 else None for n in range(1000)]
    assert identities == len(batch) + len(candidates)


# -- one add's input: validated once, not copied, fingerprinted item by item ---------------------


def test_validated_items_are_the_callers_own_and_are_not_validated_again(monkeypatch):
    from airflow_provider_aa.control_room import work_items

    items = [{"n": n, "text": "x" * 50} for n in range(3)]
    checked = work_items.validate_work_items(items)
    assert list(checked) == items and all(mine is theirs for mine, theirs in zip(checked, items))
    monkeypatch.setattr(work_items, "check_depth", lambda *_: pytest.fail("validated twice"))
    assert work_items.validate_work_items(checked) is checked


def test_the_fingerprint_serialises_one_item_at_a_time(monkeypatch):
    from airflow_provider_aa.control_room import adding, work_items

    items = [{"n": n, "text": "x" * 50} for n in range(1000)]
    longest = max(len(json.dumps(item)) for item in items)
    written: list[int] = []
    dumps = json.dumps

    def measured(value, **kwargs):
        text = dumps(value, **kwargs)
        written.append(len(text))
        return text

    # Whichever module serialises: neither may write the whole input as one text.
    monkeypatch.setattr(work_items.json, "dumps", measured)
    monkeypatch.setattr(adding.json, "dumps", measured)
    assert len(add_fingerprint("20", items)) == 64
    assert written and max(written) <= longest


def test_the_same_input_has_the_same_fingerprint_and_any_change_another():
    def items():
        return [{"n": n, "vendor": "Acme", "amount": 1.5} for n in range(3)]

    same = add_fingerprint("20", items())
    assert add_fingerprint("20", items()) == same
    assert add_fingerprint("20", [dict(reversed(list(item.items()))) for item in items()]) == same  # key order
    changed = items()
    changed[2]["amount"] = 1.25
    others = {
        add_fingerprint("21", items()),
        add_fingerprint("20", changed),
        add_fingerprint("20", items()[:2]),
        add_fingerprint("20", list(reversed(items()))),
        add_fingerprint("20", [{"n": 0}, {"n": 1}, {"n": 2}]),
    }
    assert same not in others and len(others) == 5


# -- added_since_filter -------------------------------------------------------------------------


def test_without_a_dedupe_key_the_filter_is_the_mark_alone():
    assert added_since_filter(40957, None, [None]) == {"operator": "gt", "field": "id", "value": "40957"}
    assert added_since_filter(0, None, []) == {"operator": "gt", "field": "id", "value": "0"}


def test_one_dedupe_value_is_an_eq_and_the_mark():
    assert added_since_filter(12, "invoice", ["INV-1"]) == {
        "operator": "and",
        "operands": [
            {"operator": "gt", "field": "id", "value": "12"},
            {"operator": "eq", "field": "invoice", "value": "INV-1"},
        ],
    }


def test_several_dedupe_values_are_an_or_of_distinct_text_values():
    assert added_since_filter(12, "invoice", ["INV-1", 2, "INV-1", "2"]) == {
        "operator": "and",
        "operands": [
            {"operator": "gt", "field": "id", "value": "12"},
            {
                "operator": "or",
                "operands": [
                    {"operator": "eq", "field": "invoice", "value": "INV-1"},
                    {"operator": "eq", "field": "invoice", "value": "2"},
                ],
            },
        ],
    }


def test_the_filter_selects_only_items_above_the_mark():
    held = [candidate(n, k="A") for n in (99, 100, 101)] + [candidate(102, k="B")]
    body = {"filter": added_since_filter(100, "k", ["A"])}
    assert [item["id"] for item in query(held, body)["list"]] == [101]


# -- AddProgress ---------------------------------------------------------------------------------


def saved(progress):
    """What a store keeps of ``progress`` (JSON round trip): the header and the parts."""
    header = json.loads(json.dumps(progress.header()))
    parts = {n: json.loads(json.dumps(batch)) for n, batch in enumerate(progress.batches)}
    return header, parts


def test_the_header_holds_a_few_numbers_not_the_ids():
    progress = AddProgress("fp", batches=[["1", "2"], ["3", None]], mark_id=3, in_flight_since=1234.5)
    assert progress.header() == {"fingerprint": "fp", "batches": 2, "mark_id": 3, "in_flight_since": 1234.5}
    assert progress.ids == ["1", "2", "3", None]


@pytest.mark.parametrize(
    "progress",
    [
        AddProgress("fp"),
        AddProgress("fp", mark_id=0, in_flight_since=5.0),
        AddProgress("fp", batches=[["1", "2"], [None, "4"]], mark_id=4),
        AddProgress("fp", batches=[["40957"]], mark_id=40957, in_flight_since=1.5),
    ],
)
def test_header_and_parts_load_back_as_they_were(progress):
    header, parts = saved(progress)
    assert AddProgress.load(header, parts.get, "fp") == progress


def test_ids_saved_as_numbers_load_as_strings():
    loaded = AddProgress.load({"fingerprint": "fp", "batches": 1, "mark_id": "8"}, {0: [7, None, 8]}.get, "fp")
    assert loaded == AddProgress("fp", batches=[["7", None, "8"]], mark_id=8)


@pytest.mark.parametrize(
    "header",
    [None, "fp", [], {"fingerprint": "other", "batches": 1, "mark_id": 5}, {"batches": 1}],
)
def test_nothing_saved_or_another_adds_progress_is_a_fresh_start(header):
    assert AddProgress.load(header, {0: ["1"]}.get, "fp") == AddProgress("fp")


def test_loading_stops_at_a_part_that_is_missing():
    header = {"fingerprint": "fp", "batches": 3, "mark_id": 9, "in_flight_since": None}
    asked = []

    def part(number):
        asked.append(number)
        return {0: ["1", "2"], 2: ["5", "6"]}.get(number)

    loaded = AddProgress.load(header, part, "fp")

    assert loaded.batches == [["1", "2"]] and loaded.ids == ["1", "2"]
    assert asked == [0, 1]  # parts after the gap are not taken


def test_a_part_that_is_not_a_list_counts_as_missing():
    header = {"fingerprint": "fp", "batches": 2, "mark_id": 9}
    assert AddProgress.load(header, {0: ["1"], 1: {"oops": 1}}.get, "fp").batches == [["1"]]


@pytest.mark.parametrize(
    ("old", "expected"),
    [
        # The highest id saved is a mark no item of the unfinished batch can be at or below.
        ({"ids": ["500", None, 501], "in_flight_since": 7.0}, AddProgress("fp", [["500", None, "501"]], 501, 7.0)),
        ({"ids": ["500"], "in_flight_since": None}, AddProgress("fp", [["500"]], 500)),
        # Nothing created yet but a send in flight: only mark 0 misses none of ours.
        ({"ids": [], "in_flight_since": 7.0}, AddProgress("fp", [], 0, 7.0)),
        ({"ids": [], "in_flight_since": None}, AddProgress("fp")),
    ],
)
def test_progress_saved_by_the_earlier_provider_version_is_continued(old, expected):
    assert AddProgress.load({"fingerprint": "fp", **old}, {}.get, "fp") == expected


# -- validate_lost_answer_delay -------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [(None, 30.0), (0, 0.0), (2.5, 2.5), (3600, 3600.0)])
def test_lost_answer_delays_from_0_to_an_hour(value, expected):
    result = validate_lost_answer_delay(value, 30.0)
    assert result == expected and isinstance(result, float)


@pytest.mark.parametrize(
    "value", [-1, -0.001, 3600.5, 86400, True, False, "5", "30s", [30], float("nan"), float("inf")]
)
def test_other_lost_answer_delays_are_refused(value):
    with pytest.raises(InvalidInputError, match=r"lost_answer_delay must be a number of seconds from 0 to 3600, got "):
        validate_lost_answer_delay(value, 30.0)


# -- reconciling without a clock ------------------------------------------------------------------


class FakeQueue:
    """
    A queue behind a session-like ``request_json``: adds commit (or not) and lose their
    answer as scripted, listings are answered by the emulator's filter grammar.
    """

    def __init__(self, held, adds):
        self.held = list(held)
        self.adds = list(adds)  # per add: "lost after commit", "lost" or "ok"
        self.next_id = max((int(item["id"]) for item in self.held), default=0) + 1
        self.sent = []

    def request_json(self, request):
        self.sent.append(request)
        if request.path.endswith("/list"):
            return query(self.held, request.json)
        outcome = self.adds.pop(0)
        created = []
        if outcome != "lost":
            for entry in request.json["workItems"]:
                created.append({"id": self.next_id, "json": entry["json"], "createdOn": "2030-01-01T00:00:00Z"})
                self.next_id += 1
            self.held += created
        if outcome != "ok":
            raise AmbiguousOutcomeError("no answer", method=request.method, path=request.path)
        return {"list": created}
        yield  # a generator like the real session's


def run(operation):
    """Drive an add, recording its sleeps; returns (result, sleeps)."""
    slept = []
    while True:
        try:
            action = operation.send(None)
        except StopIteration as finished:
            return finished.value, slept
        assert isinstance(action, Sleep), action
        slept.append(action.seconds)


def sent_adds(queue):
    return [r.json["workItems"] for r in queue.sent if not r.path.endswith("/list")]


SEND_TIME = 1_800_000_000.0  # 2027-01-15T08:00:00Z on the local clock


@pytest.mark.parametrize("our_clock", [SEND_TIME, SEND_TIME - 5 * 3600, SEND_TIME + 5 * 3600, 0.0])
def test_items_above_the_mark_match_whenever_the_control_room_says_they_were_created(our_clock):
    held = [
        # At or below the mark: never ours, however well createdOn fits the send.
        {"id": 9, "json": {"a": 2}, "createdOn": "2027-01-15T08:00:00Z"},
        {"id": 10, "json": {"a": 1}, "createdOn": "2027-01-15T08:00:00.5Z"},
        # Above the mark: ours, whatever createdOn says (a Control Room clock hours off).
        {"id": 11, "json": {"a": 1}, "createdOn": "2027-01-15T03:00:00Z"},
        {"id": 12, "json": {"a": 2}, "createdOn": "2027-01-15T13:00:00Z"},
        {"id": 13, "json": {"a": 3}},
    ]
    queue = FakeQueue(held, ["lost"])

    outcome, slept = run(
        add_batch(queue, "7", [{"a": 1}, {"a": 2}], mark_id=10, clock=lambda: our_clock, lost_answer_delay=0)
    )

    assert ids(outcome.created) == ["11", "12"] and outcome.reconciled == 2
    assert sent_adds(queue) == [[{"json": {"a": 1}}, {"json": {"a": 2}}]]  # sent once, not again
    assert slept == []
    assert queue.sent[-1].json["filter"] == {"operator": "gt", "field": "id", "value": "10"}


@pytest.mark.parametrize("our_clock", [SEND_TIME, SEND_TIME - 5 * 3600, SEND_TIME + 5 * 3600])
def test_look_alikes_at_or_below_the_mark_are_never_taken_for_ours(our_clock):
    held = [
        {"id": 9, "json": {"a": 1}, "createdOn": "2027-01-15T08:00:00Z"},
        {"id": 10, "json": {"a": 1}, "createdOn": "2027-01-15T08:00:01Z"},
    ]
    queue = FakeQueue(held, ["lost", "ok"])

    outcome, _ = run(add_batch(queue, "7", [{"a": 1}], mark_id=10, clock=lambda: our_clock, lost_answer_delay=0))

    assert ids(outcome.created) == ["11"] and outcome.reconciled == 0
    assert len(sent_adds(queue)) == 2


def test_with_a_dedupe_key_only_the_missing_items_are_sent_again():
    # The lost add committed A only (as if B had been refused); B at the mark is an older add.
    held = [{"id": 50, "json": {"k": "B"}}, {"id": 51, "json": {"k": "A", "v": "as the server keeps it"}}]
    queue = FakeQueue(held, ["lost", "ok"])

    outcome, _ = run(
        add_batch(
            queue, "7", [{"k": "A"}, {"k": "B"}], mark_id=50, clock=lambda: 0.0, lost_answer_delay=0, dedupe_key="k"
        )
    )

    assert ids(outcome.created) == ["51", "52"] and outcome.reconciled == 1
    assert sent_adds(queue) == [[{"json": {"k": "A"}}, {"json": {"k": "B"}}], [{"json": {"k": "B"}}]]
    listing = next(r for r in queue.sent if r.path.endswith("/list")).json
    assert listing["filter"] == added_since_filter(50, "k", ["A", "B"])
    assert listing["sort"] == [{"field": "id", "direction": "asc"}]


def test_the_lost_answer_delay_counts_from_the_send_on_our_own_clock():
    ticks = iter([1000.0, 1004.0])  # the send, then the moment before the listing
    queue = FakeQueue([], ["lost after commit"])

    outcome, slept = run(add_batch(queue, "7", [{"a": 1}], mark_id=0, clock=lambda: next(ticks), lost_answer_delay=30))

    assert slept == [26.0]
    assert ids(outcome.created) == ["1"]


def test_an_earlier_trys_send_is_checked_before_anything_is_sent():
    queue = FakeQueue([{"id": 5, "json": {"a": 1}}], [])
    outcome, slept = run(
        add_batch(queue, "7", [{"a": 1}], mark_id=4, clock=lambda: 1000.0, lost_answer_delay=30, maybe_sent_since=990.0)
    )
    assert ids(outcome.created) == ["5"] and outcome.reconciled == 1
    assert sent_adds(queue) == [] and slept == [20.0]


def test_an_earlier_send_long_past_its_lost_answer_delay_is_checked_at_once():
    queue = FakeQueue([], ["ok"])
    outcome, slept = run(
        add_batch(queue, "7", [{"a": 1}], mark_id=0, clock=lambda: 1000.0, lost_answer_delay=30, maybe_sent_since=1.0)
    )
    assert ids(outcome.created) == ["1"] and slept == []


def test_a_send_time_from_a_clock_ahead_of_ours_waits_no_longer_than_the_lost_answer_delay():
    queue = FakeQueue([], ["ok"])
    _, slept = run(
        add_batch(
            queue,
            "7",
            [{"a": 1}],
            mark_id=0,
            clock=lambda: 1000.0,
            lost_answer_delay=30,
            maybe_sent_since=1000.0 + 7200,
        )
    )
    assert all(seconds <= 30 for seconds in slept)


def test_three_lost_adds_fail_saying_what_is_in_the_queue():
    queue = FakeQueue([], ["lost", "lost", "lost"])
    with pytest.raises(AutomationAnywhereError, match="no clear answer 3 times; 0 are in the queue, 1 are not"):
        run(add_batch(queue, "7", [{"a": 1}], mark_id=0, clock=lambda: 0.0, lost_answer_delay=0))
    listings = [r for r in queue.sent if r.path.endswith("/list")]
    assert len(listings) == 3 and len(sent_adds(queue)) == 3


def test_items_the_batch_already_claimed_are_not_taken_twice_in_the_one_by_one_path():
    """A 409 makes the batch go one item per add; a lost answer there must not claim a sibling's item."""
    from airflow_provider_aa.control_room.errors import AutomationAnywhereError

    class Refusing(FakeQueue):
        def request_json(self, request):
            if not request.path.endswith("/list") and self.adds[0] == "409":
                self.adds.pop(0)
                self.sent.append(request)
                raise AutomationAnywhereError("duplicate", status=409, method=request.method, path=request.path)
            return (yield from super().request_json(request))

    queue = Refusing([{"id": 100, "json": {"k": "old"}}], ["409", "ok", "lost", "ok"])
    outcome, _ = run(
        add_batch(
            queue,
            "7",
            [{"k": "A", "v": 1}, {"k": "A", "v": 2}],
            mark_id=100,
            clock=lambda: 0.0,
            lost_answer_delay=0,
            dedupe_key="k",
        )
    )
    assert ids(outcome.created) == ["101", "102"]  # not ["101", "101"]: item 1 was added, not lost
