"""
Look-ups by name driven through a real ControlRoomSession against a scripted Control Room:
the requests (filters, paging, one request per 100 names), exact matching on our side, and
errors that name the field, the value and the candidates.
"""

from __future__ import annotations

import pytest

from airflow_provider_aa.control_room import names
from airflow_provider_aa.control_room.errors import (
    AutomationAnywhereError,
    FatalError,
    InvalidInputError,
    NameLookupError,
)
from airflow_provider_aa.control_room.names import (
    API_TASK_TYPE,
    TASK_BOT_TYPE,
    bot_id_of,
    path_folders,
    path_readings,
    pool_ids_of,
    queue_id_of,
    run_as_user_ids_of,
    validate_name,
    validate_names,
)
from airflow_provider_aa.tasks.errors import check_id_or_name
from tests.control_room.scripted import Script, answer, expect, jwt_token, login, new_session, run

QUEUES = "/v3/wlm/queues/list"
PUBLIC_FILES = "/v2/repository/workspaces/public/files/list"
RUN_AS_USERS = "/v1/devices/runasusers/list"
POOLS = "/v2/devices/pools/list"
FOLDER_TYPE = "application/vnd.aa.directory"


@pytest.fixture
def token():
    return jwt_token()


@pytest.fixture
def session():
    return new_session()


def body(filter=None, sort_field="name", offset=0):
    sent = {"sort": [{"field": sort_field, "direction": "asc"}], "page": {"offset": offset, "length": 100}}
    if filter is not None:
        sent["filter"] = filter
    return sent


def eq(field, value):
    return {"operator": "eq", "field": field, "value": value}


def sub(field, value):
    return {"operator": "substring", "field": field, "value": value}


def listing(*entries, total=None):
    return answer(
        200, {"page": {"offset": 0, "totalFilter": len(entries) if total is None else total}, "list": list(entries)}
    )


def bot(bot_id, path, kind=TASK_BOT_TYPE, name=None):
    return {"id": bot_id, "name": name or path.split("\\")[-1], "path": path, "type": kind}


IS_BOT = {"operator": "or", "operands": [eq("type", TASK_BOT_TYPE), eq("type", API_TASK_TYPE)]}


def bot_filter(name):
    return {"operator": "and", "operands": [IS_BOT, sub("name", name)]}


FINANCE = "Automation Anywhere\\Bots\\Finance\\Invoice Processor"
ARCHIVE = "Automation Anywhere\\Bots\\Archive\\Invoice Processor"


# -- input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", "   ", True, 2.5, ["Invoices"]])
def test_a_name_must_be_a_non_empty_string(value):
    with pytest.raises(InvalidInputError, match="queue_name must be a non-empty name"):
        validate_name(value, "queue_name")


def test_a_whole_number_is_a_name_rendered_as_a_native_object():
    assert validate_name(2024, "queue_name") == "2024"


def test_names_are_kept_as_given_and_deduplicated_by_their_key_in_order():
    assert validate_name(" Invoices\xa0", "queue_name") == " Invoices\xa0"
    assert validate_names(" b ", "pool_names") == [" b "]
    assert validate_names(["b", "a", "b ", "a\xa0", "a"], "pool_names") == ["b", "a"]
    assert validate_names(("x",), "pool_names") == ["x"]


@pytest.mark.parametrize("value", ["\xa0", " \u2007\t"])
def test_a_name_of_whitespace_only_is_refused(value):
    with pytest.raises(InvalidInputError, match="pool_names\\[0\\] must be a non-empty name"):
        validate_names([value], "pool_names")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "pool_names is empty"),
        ({"a": 1}, "pool_names must be a name or a list of names, got dict"),
        (["a", 7.5], r"pool_names\[1\] must be a non-empty name"),
        ("['a', 'b']", "a list rendered by a template: set render_template_as_native_obj=True"),
    ],
)
def test_bad_names_say_what_is_wrong(value, message):
    with pytest.raises(InvalidInputError, match=message):
        validate_names(value, "pool_names")


def test_a_name_in_brackets_that_is_no_list_is_a_name():
    assert validate_names("[draft] pool", "pool_names") == ["[draft] pool"]


@pytest.mark.parametrize(
    "path",
    [
        "Bots/Finance/Invoice Processor",
        "Bots\\Finance\\Invoice Processor",
        "/Bots/Finance/Invoice Processor/",
        "  Bots//Finance\\/Invoice Processor ",
        "Bots/ Finance\xa0/Invoice Processor",
    ],
)
def test_a_bot_path_is_its_folders_each_by_its_key(path):
    assert path_folders(path) == ("Bots", "Finance", "Invoice Processor")
    assert path_readings(path_folders(path)) == {("Bots", "Finance", "Invoice Processor")}


@pytest.mark.parametrize("path", [FINANCE, "Automation Anywhere/Bots/Finance/Invoice Processor"])
def test_a_path_from_the_root_may_also_mean_a_top_level_folder_named_like_it(path):
    folders = path_folders(path)
    assert folders == ("Automation Anywhere", "Bots", "Finance", "Invoice Processor")
    assert path_readings(folders) == {folders, ("Bots", "Finance", "Invoice Processor")}


def test_only_the_root_folder_ignores_case():
    assert path_readings(path_folders("automation anywhere\\Bots\\Report")) == {
        ("automation anywhere", "Bots", "Report"),
        ("Bots", "Report"),
    }
    assert path_folders("bots/finance/Invoice Processor") == ("bots", "finance", "Invoice Processor")


@pytest.mark.parametrize("path", ["/", "\\\\", "Automation Anywhere", "Automation Anywhere\\", "", None, 501])
def test_a_path_naming_no_bot_is_refused(path):
    with pytest.raises(InvalidInputError, match="bot_path"):
        path_folders(path)


def test_id_or_name_exactly_one():
    check_id_or_name("queue_id", 20, "queue_name", None)
    check_id_or_name("queue_id", None, "queue_name", "Invoices")
    check_id_or_name("pool_ids", None, "pool_names", None, required=False)
    with pytest.raises(InvalidInputError, match="Give queue_id or queue_name, not both"):
        check_id_or_name("queue_id", 20, "queue_name", "Invoices")
    with pytest.raises(InvalidInputError, match=r"^Give queue_id or queue_name\.$"):
        check_id_or_name("queue_id", None, "queue_name", None)


# -- queues ---------------------------------------------------------------------------------------


def test_a_queue_is_found_by_its_exact_name(session, token):
    # A Control Room whose eq ignores case answers more than asked for: matched exactly here.
    script = Script(
        [
            login(token),
            (
                expect("POST", QUEUES, json=body(sub("name", "Invoices")), token=token),
                listing({"id": 23, "name": "INVOICES"}, {"id": "20", "name": "Invoices"}),
            ),
        ]
    )
    assert run(queue_id_of(session, " Invoices\n"), script, session=session) == "20"


def test_a_queue_name_matching_several_queues_names_each_without_listing_more(session, token):
    script = Script(
        [
            login(token),
            (
                expect("POST", QUEUES, json=body(sub("name", "Invoices"))),
                listing({"id": 20, "name": "Invoices"}, {"id": 23, "name": "Invoices"}),
            ),
        ]
    )
    with pytest.raises(NameLookupError) as failed:
        run(queue_id_of(session, "Invoices"), script, session=session)
    error = failed.value
    assert str(error) == (
        "queue_name 'Invoices': 2 work queues match: id 20 ('Invoices'), id 23 ('Invoices'). Give queue_id instead."
    )
    assert (error.field, error.values, error.candidates) == (
        "queue_name",
        ["Invoices"],
        {"Invoices": [("20", "Invoices"), ("23", "Invoices")]},
    )
    # Retrying cannot mend a name: fatal, so Airflow fails the task without using its retries.
    assert isinstance(error, FatalError)


def test_an_entry_listed_twice_is_one_queue(session, token):
    script = Script(
        [
            login(token),
            (expect("POST", QUEUES), listing({"id": 20, "name": "Invoices"}, {"id": "20", "name": "Invoices"})),
        ]
    )
    assert run(queue_id_of(session, "Invoices"), script, session=session) == "20"


def test_a_queue_name_matching_nothing_lists_near_names(session, token):
    everything = [
        {"id": 20, "name": "Invoices"},
        {"id": 21, "name": "Payments"},
        {"id": 23, "name": "invoices-eu"},
        {"id": 24, "name": "Orders"},
        {"id": 25, "name": "Invoice"},
    ]
    script = Script(
        [
            login(token),
            (expect("POST", QUEUES, json=body(sub("name", "invoices"))), listing()),
            (expect("POST", QUEUES, json=body()), listing(*everything)),
        ]
    )
    with pytest.raises(NameLookupError) as failed:
        run(queue_id_of(session, "invoices"), script, session=session)
    # The same but for case first, then names containing it (or in it), then similar ones.
    assert str(failed.value) == (
        "queue_name 'invoices': no work queue matches. Near names: 'Invoices' (id 20), 'Invoice' (id 25), "
        "'invoices-eu' (id 23)."
    )
    assert failed.value.candidates == {"invoices": [("20", "Invoices"), ("25", "Invoice"), ("23", "invoices-eu")]}


def test_a_queue_name_like_nothing_lists_what_the_user_sees(session, token):
    script = Script(
        [
            login(token),
            (expect("POST", QUEUES), listing()),
            (
                expect("POST", QUEUES, json=body()),
                listing({"id": 22, "name": "Orders"}, {"id": 21, "name": "Payments"}),
            ),
        ]
    )
    with pytest.raises(NameLookupError, match="Nothing similar among the 2 work queue") as failed:
        run(queue_id_of(session, "Zebra"), script, session=session)
    assert "'Orders' (id 22), 'Payments' (id 21)." in str(failed.value)
    assert failed.value.candidates == {"Zebra": []}


def test_no_queue_at_all_points_at_permissions(session, token):
    script = Script([login(token), (expect("POST", QUEUES), listing()), (expect("POST", QUEUES), listing())])
    with pytest.raises(NameLookupError, match="sees no work queue: check the name, and the user's permissions"):
        run(queue_id_of(session, "Invoices"), script, session=session)


def test_near_names_are_looked_for_in_a_bounded_listing(session, token, monkeypatch):
    monkeypatch.setattr(names, "CANDIDATE_SCAN_LIMIT", 3)
    page = [{"id": n, "name": f"Queue {n}"} for n in range(1, 4)]
    script = Script(
        [
            login(token),
            (expect("POST", QUEUES), listing()),
            (expect("POST", QUEUES, json=body()), listing(*page, total=500)),
        ]
    )
    with pytest.raises(NameLookupError, match=r"Nothing similar among the more than 3 work queue\(s\).*, \.\.\.\."):
        run(queue_id_of(session, "Zebra"), script, session=session)


def test_a_long_answer_is_paged(session, token):
    first = [{"id": n, "name": "Other"} for n in range(1, 101)]
    script = Script(
        [
            login(token),
            (expect("POST", QUEUES, json=body(sub("name", "Invoices"))), listing(*first, total=101)),
            (
                expect("POST", QUEUES, json=body(sub("name", "Invoices"), offset=100)),
                listing({"id": 20, "name": "Invoices"}, total=101),
            ),
        ]
    )
    assert run(queue_id_of(session, "Invoices"), script, session=session) == "20"


def test_an_id_that_is_no_number_is_an_error(session, token):
    script = Script([login(token), (expect("POST", QUEUES), listing({"id": "q-20", "name": "Invoices"}))])
    with pytest.raises(AutomationAnywhereError, match="listed work queue 'Invoices' with the id 'q-20'"):
        run(queue_id_of(session, "Invoices"), script, session=session)


def test_a_refused_listing_is_the_calls_error(session, token):
    script = Script([login(token), (expect("POST", QUEUES), answer(403, {"code": "WLM_ACCESS_DENIED"}))])
    with pytest.raises(AutomationAnywhereError) as failed:
        run(queue_id_of(session, "Invoices"), script, session=session)
    assert (failed.value.status, failed.value.code, failed.value.path) == (403, "WLM_ACCESS_DENIED", QUEUES)


# -- bots -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["Bots/Finance/Invoice Processor", FINANCE, "\\Bots\\Finance\\Invoice Processor"])
def test_a_bot_is_found_by_its_path_among_bots_of_the_same_name(session, token, path):
    script = Script(
        [
            login(token),
            (
                expect("POST", PUBLIC_FILES, json=body(bot_filter("Invoice Processor")), token=token),
                listing(bot(503, ARCHIVE), bot(501, FINANCE)),
            ),
        ]
    )
    assert run(bot_id_of(session, path), script, session=session) == "501"


def test_an_api_task_is_found_by_its_path_as_a_task_bot_is(session, token):
    classifier = "Automation Anywhere\\Bots\\Finance\\Invoice Classifier"
    script = Script(
        [
            login(token),
            (
                expect("POST", PUBLIC_FILES, json=body(bot_filter("Invoice Classifier")), token=token),
                listing(bot(701, classifier, API_TASK_TYPE)),
            ),
        ]
    )
    assert run(bot_id_of(session, "Bots/Finance/Invoice Classifier"), script, session=session) == "701"


def test_folders_and_other_files_never_match(session, token):
    # A Control Room that ignores the type filter: a folder, and a file of another type, at the path.
    script = Script(
        [
            login(token),
            (
                expect("POST", PUBLIC_FILES),
                listing(bot(9004, FINANCE, FOLDER_TYPE), bot(88, FINANCE, "text/plain"), bot(501, FINANCE)),
            ),
        ]
    )
    assert run(bot_id_of(session, "Bots/Finance/Invoice Processor"), script, session=session) == "501"


def test_a_path_given_as_the_parent_folder_is_completed_with_the_name(session, token):
    parent_only = {"id": 501, "name": "Invoice Processor", "path": "Automation Anywhere\\Bots\\Finance"}
    script = Script([login(token), (expect("POST", PUBLIC_FILES), listing(parent_only))])
    assert run(bot_id_of(session, "Bots/Finance/Invoice Processor"), script, session=session) == "501"


def test_the_private_workspace(session, token):
    script = Script(
        [
            login(token),
            (
                expect("POST", "/v2/repository/workspaces/private/files/list", json=body(bot_filter("Draft"))),
                listing(bot(601, "Automation Anywhere\\Bots\\Drafts\\Draft")),
            ),
        ]
    )
    assert run(bot_id_of(session, "Bots/Drafts/Draft", workspace="private"), script, session=session) == "601"


def test_an_unknown_workspace_is_refused_before_any_request(session):
    with pytest.raises(InvalidInputError, match="workspace must be 'public' or 'private'"):
        run(bot_id_of(session, "Bots/x", workspace="shared"), Script([]), session=session)


def test_a_bot_path_compares_case_sensitively_and_names_the_bot_elsewhere(session, token):
    every_bot = [
        bot(9001, "Automation Anywhere\\Bots", FOLDER_TYPE),
        bot(503, ARCHIVE),
        bot(501, FINANCE),
        bot(504, "Automation Anywhere\\Bots\\Finance\\Invoice Processor v2"),
        bot(502, "Automation Anywhere\\Bots\\Finance\\Report Builder"),
    ]
    script = Script(
        [
            login(token),
            (expect("POST", PUBLIC_FILES, json=body(bot_filter("invoice processor"))), listing()),
            (expect("POST", PUBLIC_FILES, json=body(IS_BOT)), listing(*every_bot)),
        ]
    )
    with pytest.raises(NameLookupError) as failed:
        run(bot_id_of(session, "Bots/Finance/invoice processor"), script, session=session)
    message = str(failed.value)
    assert message.startswith("bot_path 'Bots/Finance/invoice processor': no bot matches. Near names: ")
    ids = [entry_id for entry_id, _ in failed.value.candidates["Bots/Finance/invoice processor"]]
    assert ids[:2] == ["501", "503"] and "9001" not in ids  # case differs, then the same name elsewhere
    assert f"'{FINANCE}' (id 501), '{ARCHIVE}' (id 503)" in message  # paths as the Control Room writes them


def test_two_bots_at_one_path_are_named_with_their_paths(session, token):
    script = Script([login(token), (expect("POST", PUBLIC_FILES), listing(bot(501, FINANCE), bot(507, FINANCE)))])
    with pytest.raises(NameLookupError) as failed:
        run(bot_id_of(session, "Bots/Finance/Invoice Processor"), script, session=session)
    assert str(failed.value) == (
        "bot_path 'Bots/Finance/Invoice Processor': 2 bots match: "
        f"id 501 ('{FINANCE}'), id 507 ('{FINANCE}'). Give bot_id instead."
    )


# -- run-as users and pools -----------------------------------------------------------------------


def test_run_as_users_are_found_with_one_request_in_the_order_given(session, token):
    wanted = {"operator": "or", "operands": [sub("username", "runner_reports"), sub("username", "runner_finance")]}
    script = Script(
        [
            login(token),
            (
                expect("POST", RUN_AS_USERS, json=body(wanted, sort_field="username"), token=token),
                listing({"id": 29, "username": "runner_finance"}, {"id": 30, "username": "runner_reports"}),
            ),
        ]
    )
    found = run(
        run_as_user_ids_of(session, ["runner_reports", "runner_finance", "runner_reports"]), script, session=session
    )
    assert found == ["30", "29"]


def test_one_run_as_user_is_a_substring_filter(session, token):
    script = Script(
        [
            login(token),
            (
                expect("POST", RUN_AS_USERS, json=body(sub("username", "runner_finance"), sort_field="username")),
                listing({"id": 29, "username": "runner_finance"}, {"id": 31, "username": "runner_finance_eu"}),
            ),
        ]
    )
    assert run(run_as_user_ids_of(session, "runner_finance"), script, session=session) == ["29"]


def test_more_than_100_names_take_a_request_per_100(session, token):
    usernames = [f"runner_{n:03}" for n in range(150)]

    def users(request):
        asked = [operand["value"] for operand in request.json["filter"]["operands"]]
        return listing(*({"id": 1000 + int(name[-3:]), "username": name} for name in asked))

    script = Script([login(token), (expect("POST", RUN_AS_USERS), users), (expect("POST", RUN_AS_USERS), users)])
    assert run(run_as_user_ids_of(session, usernames), script, session=session) == [str(1000 + n) for n in range(150)]
    assert [len(request.json["filter"]["operands"]) for request in script.sent[1:]] == [100, 50]


def test_every_name_that_fails_is_named_in_one_error(session, token):
    script = Script(
        [
            login(token),
            (
                expect("POST", RUN_AS_USERS),
                listing(
                    {"id": 29, "username": "runner_finance"},
                    {"id": 40, "username": "twin"},
                    {"id": 41, "username": "twin"},
                ),
            ),
            (
                expect("POST", RUN_AS_USERS, json=body(sort_field="username")),
                listing({"id": 29, "username": "runner_finance"}, {"id": 30, "username": "runner_reports"}),
            ),
        ]
    )
    with pytest.raises(NameLookupError) as failed:
        run(run_as_user_ids_of(session, ["runner_finance", "twin", "runner_report"]), script, session=session)
    assert str(failed.value) == (
        "run_as_user_names: 2 of 3 could not be resolved:\n"
        "  'twin': 2 run-as users match: id 40 ('twin'), id 41 ('twin'). Give run_as_user_ids instead.\n"
        "  'runner_report': no run-as user matches. Near names: 'runner_reports' (id 30)."
    )
    assert failed.value.values == ["twin", "runner_report"]


def test_pools_by_name(session, token):
    wanted = {"operator": "or", "operands": [sub("name", "Finance Runners"), sub("name", "Empty Pool")]}
    script = Script(
        [
            login(token),
            (
                expect("POST", POOLS, json=body(wanted)),
                listing({"id": 62, "name": "Empty Pool"}, {"id": 61, "name": "Finance Runners"}),
            ),
        ]
    )
    assert run(pool_ids_of(session, ["Finance Runners", "Empty Pool"]), script, session=session) == ["61", "62"]


def test_an_unknown_pool(session, token):
    script = Script(
        [
            login(token),
            (expect("POST", POOLS), listing()),
            (expect("POST", POOLS, json=body()), listing({"id": 61, "name": "Finance Runners"})),
        ]
    )
    with pytest.raises(NameLookupError, match=r"^pool_names 'Finance Runner': no device pool matches\. Near names"):
        run(pool_ids_of(session, "Finance Runner"), script, session=session)


# -- names as the Control Room keeps them (whitespace and all) ------------------------------------

NAMED_ALIKE = [{"id": 20, "name": "Invoices"}, {"id": 24, "name": "Invoices "}, {"id": 25, "name": "Invoices EU"}]


def test_a_name_with_a_trailing_space_names_both_queues_it_may_mean(session, token):
    script = Script([login(token), (expect("POST", QUEUES, json=body(sub("name", "Invoices"))), listing(*NAMED_ALIKE))])
    with pytest.raises(NameLookupError) as failed:
        run(queue_id_of(session, "Invoices "), script, session=session)
    assert str(failed.value) == (
        "queue_name 'Invoices ': 2 work queues match: id 20 ('Invoices'), id 24 ('Invoices ', as given). "
        "Names are compared without their surrounding whitespace. Give queue_id instead."
    )
    assert failed.value.candidates == {"Invoices ": [("20", "Invoices"), ("24", "Invoices ")]}


@pytest.mark.parametrize("given", ["Invoices", " Invoices", "Invoices\xa0"])
def test_any_spelling_of_a_name_written_twice_names_both_queues(session, token, given):
    script = Script([login(token), (expect("POST", QUEUES, json=body(sub("name", "Invoices"))), listing(*NAMED_ALIKE))])
    with pytest.raises(NameLookupError, match="2 work queues match") as failed:
        run(queue_id_of(session, given), script, session=session)
    assert failed.value.candidates == {given: [("20", "Invoices"), ("24", "Invoices ")]}


def test_a_name_matches_the_one_queue_written_with_other_whitespace(session, token):
    script = Script(
        [
            login(token),
            (
                expect("POST", QUEUES, json=body(sub("name", "Invoices"))),
                listing({"id": 24, "name": "Invoices\xa0"}, {"id": 25, "name": "Invoices EU"}),
            ),
        ]
    )
    assert run(queue_id_of(session, "Invoices"), script, session=session) == "24"


ROOT_REPORT = "Automation Anywhere\\Report"
TOP_REPORT = "Automation Anywhere\\Automation Anywhere\\Report"


@pytest.mark.parametrize("path", ["Automation Anywhere/Report", "Automation Anywhere\\ Report\xa0"])
def test_a_path_starting_with_the_roots_name_names_both_bots_it_may_mean(session, token, path):
    script = Script(
        [
            login(token),
            (
                expect("POST", PUBLIC_FILES, json=body(bot_filter("Report"))),
                listing(bot(510, ROOT_REPORT), bot(511, TOP_REPORT), bot(512, "Automation Anywhere\\Bots\\Report")),
            ),
        ]
    )
    with pytest.raises(NameLookupError) as failed:
        run(bot_id_of(session, path), script, session=session)
    assert str(failed.value) == (
        f"bot_path {path!r}: 2 bots match: id 510 ('{ROOT_REPORT}'), id 511 ('{TOP_REPORT}'). Paths are compared "
        "folder by folder, each without its surrounding whitespace, and may start with the root folder "
        "'Automation Anywhere' or leave it out. Give bot_id instead."
    )


@pytest.mark.parametrize(
    ("path", "found"),
    [
        ("Report", "510"),
        ("/Report", "510"),
        ("automation anywhere/Report", "510"),  # the top-level folder's name compares case-sensitively
        ("Automation Anywhere/Automation Anywhere/Report", "511"),
        (TOP_REPORT, "511"),
    ],
)
def test_a_path_that_means_one_of_them_finds_it(session, token, path, found):
    script = Script(
        [
            login(token),
            (
                expect("POST", PUBLIC_FILES, json=body(bot_filter("Report"))),
                listing(bot(510, ROOT_REPORT), bot(511, TOP_REPORT)),
            ),
        ]
    )
    assert run(bot_id_of(session, path), script, session=session) == found


def test_a_bot_path_with_a_trailing_space_names_both_bots(session, token):
    builder = "Automation Anywhere\\Bots\\Finance\\Report Builder"
    script = Script(
        [
            login(token),
            (
                expect("POST", PUBLIC_FILES, json=body(bot_filter("Report Builder"))),
                listing(bot(502, builder), bot(512, builder + " ")),
            ),
        ]
    )
    with pytest.raises(NameLookupError) as failed:
        run(bot_id_of(session, "Bots/Finance/Report Builder "), script, session=session)
    assert str(failed.value).startswith(
        f"bot_path 'Bots/Finance/Report Builder ': 2 bots match: id 502 ('{builder}'), id 512 ('{builder} ', as given). "
    )


def test_every_name_that_does_not_resolve_is_named_whatever_the_reason(session, token):
    users = [
        {"id": 29, "username": "runner_finance"},
        {"id": 30, "username": "runner_reports"},
        {"id": 32, "username": "runner_finance "},
    ]
    wanted = {
        "operator": "or",
        "operands": [sub("username", name) for name in ("runner_finance", "runner_reports", "nobody")],
    }
    script = Script(
        [
            login(token),
            (expect("POST", RUN_AS_USERS, json=body(wanted, sort_field="username")), listing(*users)),
            (expect("POST", RUN_AS_USERS, json=body(sort_field="username")), listing(*users)),
        ]
    )
    with pytest.raises(NameLookupError) as failed:
        run(run_as_user_ids_of(session, ["runner_finance ", "runner_reports", "nobody"]), script, session=session)
    assert str(failed.value) == (
        "run_as_user_names: 2 of 3 could not be resolved:\n"
        "  'runner_finance ': 2 run-as users match: id 29 ('runner_finance'), id 32 ('runner_finance ', as given). "
        "Names are compared without their surrounding whitespace. Give run_as_user_ids instead.\n"
        "  'nobody': no run-as user matches. Nothing similar among the 3 run-as user(s) the connection's user sees: "
        "'runner_finance' (id 29), 'runner_finance ' (id 32), 'runner_reports' (id 30)."
    )
    assert failed.value.values == ["runner_finance ", "nobody"]


def test_a_pool_name_ending_in_a_no_break_space_names_both_pools(session, token):
    wanted = {"operator": "or", "operands": [sub("name", "Finance Runners"), sub("name", "Empty Pool")]}
    pools = [
        {"id": 61, "name": "Finance Runners"},
        {"id": 62, "name": "Empty Pool"},
        {"id": 63, "name": "Finance Runners\xa0"},
    ]
    script = Script([login(token), (expect("POST", POOLS, json=body(wanted)), listing(*pools))])
    with pytest.raises(NameLookupError) as failed:
        run(pool_ids_of(session, ["Finance Runners\xa0", "Empty Pool"]), script, session=session)
    assert str(failed.value) == (
        "pool_names: 1 of 2 could not be resolved:\n"
        "  'Finance Runners\\xa0': 2 device pools match: id 61 ('Finance Runners'), id 63 ('Finance Runners\\xa0', "
        "as given). Names are compared without their surrounding whitespace. Give pool_ids instead."
    )
