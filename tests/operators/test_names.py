"""
Operators and the work item sensor given names instead of ids, against the emulator: the
checks when a task is made, look-ups before anything keyed by ids, and deferral by id.
"""

from __future__ import annotations

import pytest

from airflow_provider_aa.control_room.adding import AddProgress, add_fingerprint
from airflow_provider_aa.control_room.bots import BotDeployment
from airflow_provider_aa.control_room.errors import InvalidInputError, NameLookupError
from airflow_provider_aa.operators.automation_anywhere import (
    AutomationAnywhereAddWorkItemsOperator,
    AutomationAnywhereDeployBotOperator,
)
from airflow_provider_aa.sensors.automation_anywhere import AutomationAnywhereWorkItemSensor
from airflow_provider_aa.tasks.state import SavedAddProgress, TaskStateStore
from tests.sensors.test_bot_run_sensor import StateStore

try:
    from airflow.sdk.exceptions import TaskDeferred
except ImportError:  # Airflow 3.1
    from airflow.exceptions import TaskDeferred  # type: ignore[no-redef]

QUEUES = "POST /v3/wlm/queues/list"
FILES = "POST /v2/repository/workspaces/{workspace}/files/list"
ADD = "POST /v3/wlm/queues/{queueId}/workitems"
DEPLOY = "POST /v4/automations/deploy"


@pytest.fixture(autouse=True)
def emulator(aa_emulator, monkeypatch):
    aa_emulator.use_connection(monkeypatch)
    return aa_emulator


# -- when a task is made --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: AutomationAnywhereAddWorkItemsOperator(task_id="t", work_items=[]), r"Give queue_id or queue_name\."),
        (
            lambda: AutomationAnywhereAddWorkItemsOperator(
                task_id="t", queue_id=20, queue_name="Invoices", work_items=[]
            ),
            "Give queue_id or queue_name, not both",
        ),
        (lambda: AutomationAnywhereWorkItemSensor(task_id="t", work_item_ids=[1]), r"Give queue_id or queue_name\."),
        (
            lambda: AutomationAnywhereWorkItemSensor(task_id="t", queue_id=20, queue_name="x", work_item_ids=[1]),
            "not both",
        ),
        (lambda: AutomationAnywhereDeployBotOperator(task_id="t", run_as_user_ids=[29]), r"Give bot_id or bot_path\."),
        (
            lambda: AutomationAnywhereDeployBotOperator(
                task_id="t", bot_id=501, bot_path="Bots/x", run_as_user_ids=[29]
            ),
            "Give bot_id or bot_path, not both",
        ),
        (
            lambda: AutomationAnywhereDeployBotOperator(task_id="t", bot_id=501),
            r"Give run_as_user_ids or run_as_user_names\.",
        ),
        (
            lambda: AutomationAnywhereDeployBotOperator(
                task_id="t", bot_id=501, run_as_user_ids=[29], pool_ids=[61], pool_names=["Finance Runners"]
            ),
            "Give pool_ids or pool_names, not both",
        ),
    ],
)
def test_exactly_one_of_id_and_name_when_the_task_is_made(make, message):
    with pytest.raises(InvalidInputError, match=message):
        make()


def test_names_are_templated():
    assert {"queue_id", "queue_name"} <= set(AutomationAnywhereAddWorkItemsOperator.template_fields)
    assert {"queue_id", "queue_name"} <= set(AutomationAnywhereWorkItemSensor.template_fields)
    assert {"bot_path", "run_as_user_names", "pool_names"} <= set(AutomationAnywhereDeployBotOperator.template_fields)


# -- adding -----------------------------------------------------------------------------------------


def test_add_by_queue_name(emulator):
    ids = AutomationAnywhereAddWorkItemsOperator(task_id="t", queue_name="Payments", work_items=[{"n": 1}]).execute({})
    assert ids == [item["id"] for item in emulator.work_items(21)]
    assert emulator.counters.requests(QUEUES) == 1 and emulator.counters.logins() == 1


def test_nothing_to_add_asks_nothing(emulator):
    assert AutomationAnywhereAddWorkItemsOperator(task_id="t", queue_name="Payments", work_items=[]).execute({}) == []
    assert emulator.counters.requests() == 0


def test_a_bad_queue_name_fails_before_any_request(emulator):
    with pytest.raises(InvalidInputError, match="queue_name must be a non-empty name"):
        AutomationAnywhereAddWorkItemsOperator(task_id="t", queue_name="  ", work_items=[{"n": 1}]).execute({})
    assert emulator.counters.requests() == 0


def test_an_earlier_try_by_id_is_continued_by_name(emulator):
    """The saved progress is keyed by the queue's id: the look-up comes before it is read."""
    store = StateStore()
    items = [{"n": 1}, {"n": 2}]
    (done,) = emulator.add_work_items(21, [items[0]])  # an earlier try by queue_id=21 added the first
    saved = SavedAddProgress(TaskStateStore({"task_state_store": store}, "add_progress"))
    saved.save(AddProgress(add_fingerprint("21", items), [[done["id"]]], mark_id=int(done["id"])))
    task = AutomationAnywhereAddWorkItemsOperator(task_id="t", queue_name="Payments", work_items=items, batch_size=1)

    ids = task.execute({"task_state_store": store})

    assert [item["json"] for item in emulator.work_items(21)] == items  # the first one was not added again
    assert ids == [item["id"] for item in emulator.work_items(21)]


def test_a_resumed_add_takes_the_queue_from_the_trigger(emulator):
    task = AutomationAnywhereAddWorkItemsOperator(
        task_id="t", queue_name="Payments", work_items=[{"n": 1}], wait_for_completion=True
    )
    (item,) = emulator.add_work_items(21, [{"n": 1}])
    done = {**item, "status": "COMPLETED"}
    event = {"status": "done", "items": {item["id"]: done}, "work_item_ids": [item["id"]], "queue_id": "21"}

    class Ti:
        def xcom_push(self, key, value):
            self.pushed = (key, value)

    ti = Ti()
    assert task.execute_complete({"ti": ti}, event) == [item["id"]]
    assert ti.pushed == ("work_items", {item["id"]: done})
    assert emulator.counters.requests() == 0


# -- the work item sensor ---------------------------------------------------------------------------


def test_the_sensor_looks_its_queue_up_once_per_try(emulator):
    emulator.configure(pause_bot=True)  # the item stays NEW, however slow this machine is
    (item,) = emulator.add_work_items(20, [{"n": 1}])
    sensor = AutomationAnywhereWorkItemSensor(task_id="t", queue_name="Invoices", work_item_ids=[item["id"]])
    assert not sensor.poke({}).is_done
    assert not sensor.poke({}).is_done
    assert emulator.counters.requests(QUEUES) == 1
    sensor._close_hook()


def test_a_deferred_sensor_hands_the_trigger_the_queues_id(emulator):
    emulator.configure(pause_bot=True)  # the item stays NEW, however slow this machine is
    (item,) = emulator.add_work_items(20, [{"n": 1}])
    sensor = AutomationAnywhereWorkItemSensor(
        task_id="t", queue_name="Invoices", work_item_ids=[item["id"]], deferrable=True
    )
    with pytest.raises(TaskDeferred) as deferred:
        sensor.poke({})
    assert deferred.value.trigger.queue_id == "20"
    emulator.counters.reset()
    event = {"status": "done", "items": {item["id"]: {**item, "status": "ACTIVE"}}, "queue_id": "20"}
    resumed = AutomationAnywhereWorkItemSensor(task_id="t", queue_name="Invoices", work_item_ids=[item["id"]])
    assert resumed.execute_complete({}, event)[item["id"]]["status"] == "ACTIVE"
    assert emulator.counters.requests() == 0  # resuming looks nothing up


def test_a_wrong_queue_name_fails_the_sensor_for_good(emulator):
    sensor = AutomationAnywhereWorkItemSensor(task_id="t", queue_name="Invoice", work_item_ids=[1])
    with pytest.raises(NameLookupError, match=r"queue_name 'Invoice': no work queue matches\. Near names: 'Invoices'"):
        sensor.poke({})
    sensor._close_hook()


# -- deploying --------------------------------------------------------------------------------------


def test_deploy_by_names(emulator):
    task = AutomationAnywhereDeployBotOperator(
        task_id="t",
        bot_path="Bots\\Finance\\Report Builder",
        run_as_user_names=["runner_reports", "runner_finance"],
        pool_names="Finance Runners",
    )
    deployment_id = task.execute({})
    runs = [run for run in emulator.bot_runs() if run["deploymentId"] == deployment_id]
    assert sorted((run["fileId"], run["userId"]) for run in runs) == [("502", "29"), ("502", "30")]


def test_bad_input_fails_before_any_look_up(emulator):
    task = AutomationAnywhereDeployBotOperator(
        task_id="t",
        bot_path="Bots/Finance/Invoice Processor",
        run_as_user_names="runner_finance",
        bot_input={"x": None},
    )
    with pytest.raises(InvalidInputError, match=r"bot_input\['x'\] is a NoneType"):
        task.execute({})
    bad_pools = AutomationAnywhereDeployBotOperator(
        task_id="t", bot_path="Bots/Finance/Invoice Processor", run_as_user_names="runner_finance", pool_ids=["p"]
    )
    with pytest.raises(InvalidInputError, match=r"pool_ids\[0\]"):
        bad_pools.execute({})
    assert emulator.counters.requests() == 0


def test_a_deployment_saved_by_an_id_task_is_taken_by_a_retry_by_name(emulator):
    """The fingerprint is the ids': a try by name finds what a try by ids saved (and deploys nothing)."""
    store = StateStore()
    fingerprint = BotDeployment.validate(501, [29], None, None).fingerprint()
    store.values["automation_anywhere_bot_deployment"] = {
        "fingerprint": fingerprint,
        "sent_at": 0.0,
        "deployment_id": "earlier-deployment",
    }
    task = AutomationAnywhereDeployBotOperator(
        task_id="t", bot_path="Automation Anywhere/Bots/Finance/Invoice Processor", run_as_user_names="runner_finance"
    )
    assert task.execute({"task_state_store": store}) == "earlier-deployment"
    assert emulator.counters.requests(DEPLOY) == 0
    assert emulator.counters.requests(FILES) == 1


# -- names as the Control Room keeps them ------------------------------------------------------------


@pytest.fixture
def named_alike(monkeypatch):
    """An emulator that also holds objects named like the seed's but for whitespace, and bots at
    ``Report`` and in a top-level folder named like the root."""
    from automation_anywhere_emulator import ControlRoomEmulator
    from automation_anywhere_emulator.config import load_seed

    seed = load_seed()
    seed["queues"].append({**seed["queues"][0], "id": 24, "name": "Invoices "})
    seed["runAsUsers"].append({"id": 32, "username": "runner_finance "})
    seed["pools"] += [
        {"id": 63, "name": "Finance Runners\xa0", "deviceIds": [111]},
        {"id": 64, "name": "Night Shift ", "deviceIds": [112]},
    ]
    seed["bots"] += [
        {"id": 510, "name": "Report", "path": "Automation Anywhere/Report"},
        {"id": 511, "name": "Report", "path": "Automation Anywhere/Automation Anywhere/Report"},
        {"id": 512, "name": "Report Builder ", "path": "Automation Anywhere/Bots/Finance/Report Builder "},
    ]
    with ControlRoomEmulator(seed=seed) as twin:
        twin.use_connection(monkeypatch)
        yield twin


def test_a_queue_name_with_a_trailing_space_adds_nothing_and_names_both_queues(named_alike):
    task = AutomationAnywhereAddWorkItemsOperator(task_id="t", queue_name="Invoices ", work_items=[{"n": 1}])
    with pytest.raises(NameLookupError) as failed:
        task.execute({})
    assert failed.value.candidates == {"Invoices ": [("20", "Invoices"), ("24", "Invoices ")]}
    assert "id 24 ('Invoices ', as given)" in str(failed.value)
    assert named_alike.work_items(20) == named_alike.work_items(24) == []


@pytest.mark.parametrize(
    ("bot_path", "matches"),
    [
        (
            "Automation Anywhere/Report",
            [("510", "Automation Anywhere\\Report"), ("511", "Automation Anywhere\\Automation Anywhere\\Report")],
        ),
        (
            "Bots/Finance/Report Builder ",
            [
                ("502", "Automation Anywhere\\Bots\\Finance\\Report Builder"),
                ("512", "Automation Anywhere\\Bots\\Finance\\Report Builder "),
            ],
        ),
    ],
)
def test_a_bot_path_that_may_mean_two_bots_deploys_neither(named_alike, bot_path, matches):
    task = AutomationAnywhereDeployBotOperator(task_id="t", bot_path=bot_path, run_as_user_names="runner_reports")
    with pytest.raises(NameLookupError) as failed:
        task.execute({})
    assert failed.value.candidates == {bot_path: matches}
    assert named_alike.counters.requests(DEPLOY) == 0


def test_names_meaning_one_object_each_deploy_it(named_alike):
    task = AutomationAnywhereDeployBotOperator(
        task_id="t",
        bot_path="Automation Anywhere/Automation Anywhere/Report",  # in a top-level folder named like the root
        run_as_user_names="runner_reports",
        pool_names="Night Shift",  # the Control Room's is "Night Shift "
    )
    deployment_id = task.execute({})
    runs = [run for run in named_alike.bot_runs() if run["deploymentId"] == deployment_id]
    assert [(run["fileId"], run["userId"], run["deviceId"]) for run in runs] == [("511", "30", "112")]


def test_every_run_as_user_and_pool_name_that_does_not_resolve_is_named(named_alike):
    users = AutomationAnywhereDeployBotOperator(
        task_id="t", bot_path="Report", run_as_user_names=["runner_finance ", "runner_reports", "nobody"]
    )
    with pytest.raises(NameLookupError) as failed:
        users.execute({})
    assert failed.value.values == ["runner_finance ", "nobody"]
    assert failed.value.candidates["runner_finance "] == [("29", "runner_finance"), ("32", "runner_finance ")]
    pools = AutomationAnywhereDeployBotOperator(
        task_id="t", bot_path="Report", run_as_user_ids=[30], pool_names=["Finance Runners\xa0", "Empty Pools"]
    )
    with pytest.raises(NameLookupError) as failed:
        pools.execute({})
    assert failed.value.values == ["Finance Runners\xa0", "Empty Pools"]
    assert failed.value.candidates["Finance Runners\xa0"] == [("61", "Finance Runners"), ("63", "Finance Runners\xa0")]
    assert named_alike.counters.requests(DEPLOY) == 0
