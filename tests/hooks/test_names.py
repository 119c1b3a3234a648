"""The hook's look-ups by name against the emulator: ids, one look-up per name and hook, clear errors."""

from __future__ import annotations

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from airflow_provider_aa.control_room.errors import InvalidInputError, NameLookupError
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook

QUEUES = "POST /v3/wlm/queues/list"
FILES = "POST /v2/repository/workspaces/{workspace}/files/list"
RUN_AS_USERS = "POST /v1/devices/runasusers/list"
POOLS = "POST /v2/devices/pools/list"


def test_a_queue_by_name(hook, aa_emulator):
    assert hook.get_queue_id("Payments") == "21"
    assert hook.get_queue_id("  Payments ") == "21"  # cached: the same name
    assert hook.get_queue_id("Invoices") == "20"
    assert aa_emulator.counters.requests(QUEUES) == 2
    assert aa_emulator.counters.logins() == 1


def test_a_wrong_queue_name_names_the_near_ones(hook, aa_emulator):
    with pytest.raises(NameLookupError) as failed:
        hook.get_queue_id("invoices")
    assert str(failed.value) == "queue_name 'invoices': no work queue matches. Near names: 'Invoices' (id 20)."
    assert isinstance(failed.value, AirflowFailException)
    with pytest.raises(NameLookupError):
        hook.get_queue_id("invoices")  # failures are not cached: the queue may be made meanwhile
    assert aa_emulator.counters.requests(QUEUES) == 4  # the look-up, then the listing for near names; twice


@pytest.mark.parametrize(
    "path",
    [
        "Bots/Finance/Invoice Processor",
        "Bots\\Finance\\Invoice Processor",
        "Automation Anywhere\\Bots\\Finance\\Invoice Processor",
        "/Automation Anywhere/Bots/Finance/Invoice Processor",
    ],
)
def test_a_bot_by_path_among_bots_of_similar_and_equal_names(hook, aa_emulator, path):
    # The emulator holds "Invoice Processor" in Bots\Finance (501) and Bots\Archive (503), and
    # "Invoice Processor v2" (504) next to 501.
    assert hook.get_bot_id(path) == "501"
    assert hook.get_bot_id("Bots/Archive/Invoice Processor") == "503"
    assert hook.get_bot_id("Bots/Finance/Invoice Processor v2") == "504"
    assert hook.get_bot_id("Bots/Finance/Invoice Processor") == "501"
    # Cached when the folders are the same; a path from the root may also mean a top-level
    # folder named "Automation Anywhere", so it is another look-up.
    assert aa_emulator.counters.requests(FILES) == (4 if "Automation Anywhere" in path else 3)


def test_a_bot_in_the_private_workspace(hook, aa_emulator, monkeypatch):
    with pytest.raises(NameLookupError, match=r"no bot matches\. The connection's user sees no bot"):
        hook.get_bot_id("Bots/Drafts/Invoice Processor", workspace="private")  # api_user's: empty
    aa_emulator.use_connection(monkeypatch, auth_type="password")  # bot_runner's holds a draft
    owner = AutomationAnywhereHook()
    assert owner.get_bot_id("Bots/Drafts/Invoice Processor", workspace="private") == "601"
    with pytest.raises(NameLookupError, match="no bot matches"):
        owner.get_bot_id("Bots/Drafts/Invoice Processor")  # not in the public workspace
    owner.close()


def test_a_wrong_bot_path_names_the_bots_of_that_name(hook):
    with pytest.raises(NameLookupError) as failed:
        hook.get_bot_id("Bots/Invoice Processor")
    message = str(failed.value)
    assert message.startswith("bot_path 'Bots/Invoice Processor': no bot matches. Near names: ")
    paths = [path for _, path in failed.value.candidates["Bots/Invoice Processor"]]
    assert paths[:2] == [
        "Automation Anywhere\\Bots\\Archive\\Invoice Processor",
        "Automation Anywhere\\Bots\\Finance\\Invoice Processor",
    ]
    assert not any(path.endswith("\\Bots") or path.endswith("\\Finance") for path in paths)  # no folders


def test_run_as_users_and_pools_by_name(hook, aa_emulator):
    assert hook.get_run_as_user_ids(["runner_reports", "runner_finance"]) == ["30", "29"]
    assert hook.get_run_as_user_ids("runner_finance") == ["29"]  # cached
    assert hook.get_run_as_user_ids(["runner_finance", "runner_finance_eu"]) == ["29", "31"]  # only the new one asked
    assert aa_emulator.counters.requests(RUN_AS_USERS) == 2
    assert hook.get_pool_ids("Finance Runners") == ["61"]
    assert hook.get_pool_ids(["Empty Pool", "Finance Runners"]) == ["62", "61"]
    assert aa_emulator.counters.requests(POOLS) == 2


def test_unknown_run_as_users_are_all_named(hook):
    with pytest.raises(NameLookupError) as failed:
        hook.get_run_as_user_ids(["runner_finance", "runner_financ", "nobody"])
    assert str(failed.value).startswith("run_as_user_names: 2 of 3 could not be resolved:\n")
    assert failed.value.candidates["runner_financ"][0] == ("29", "runner_finance")
    assert "'nobody': no run-as user matches. Nothing similar among the 3 run-as user(s)" in str(failed.value)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda hook: hook.get_queue_id(""), "queue_name must be a non-empty name"),
        (lambda hook: hook.get_bot_id("Automation Anywhere/"), "bot_path 'Automation Anywhere/' names no bot"),
        (lambda hook: hook.get_bot_id("Bots/x", workspace="team"), "workspace must be 'public' or 'private'"),
        (lambda hook: hook.get_run_as_user_ids([]), "run_as_user_names is empty"),
        (lambda hook: hook.get_pool_ids(["a", None]), r"pool_names\[1\] must be a non-empty name"),
    ],
)
def test_bad_input_fails_before_any_request(hook, aa_emulator, call, message):
    with pytest.raises(InvalidInputError, match=message):
        call(hook)
    assert aa_emulator.counters.requests() == 0


def test_an_ambiguous_queue_name(aa_emulator, monkeypatch):
    from automation_anywhere_emulator import ControlRoomEmulator
    from automation_anywhere_emulator.config import load_seed

    seed = load_seed()
    seed["queues"].append({**seed["queues"][0], "id": 23, "description": "a second queue of that name"})
    with ControlRoomEmulator(seed=seed) as twin:
        twin.use_connection(monkeypatch)
        with pytest.raises(NameLookupError) as failed:
            AutomationAnywhereHook().get_queue_id("Invoices")
    assert str(failed.value) == (
        "queue_name 'Invoices': 2 work queues match: id 20 ('Invoices'), id 23 ('Invoices'). Give queue_id instead."
    )
