"""
``start_from_trigger`` through Airflow's own code: the scheduler's deferral of a task that
starts in the triggerer, the trigger row, the triggerer's rendering of the task's templated
fields (the add task's XCom read through the Execution API) and its handling of the event
that ends the task. The triggerer's process and loop are this test's; the deployment test
(``scripts/deployment/run.py``, case c1-fanout) runs the real ones.
"""

from __future__ import annotations

import pytest

from airflow_provider_aa.version_compat import AIRFLOW_V_3_3_PLUS
from tests.e2e.conftest import load_test_dag, task_states, xcoms

pytestmark = pytest.mark.usefixtures("airflow_db")

LIST = "POST /v3/wlm/queues/{queueId}/workitems/list"


def start_in_triggerer(run, monkeypatch):
    """What the scheduler and a triggerer do with the run's ``wait``; returns the event its trigger fired."""
    from airflow._shared.module_loading import import_string
    from airflow.executors.workloads.task import TaskInstanceDTO
    from airflow.jobs.triggerer_job_runner import TriggerRunner
    from airflow.models.dagbag import DBDagBag
    from airflow.models.trigger import Trigger
    from airflow.sdk.execution_time.supervisor import InProcessSupervisorComms, InProcessTestSupervisor
    from airflow.serialization.decoders import smart_decode_trigger_kwargs
    from airflow.utils.session import create_session

    with create_session() as session:
        ti = run.get_task_instance("wait", session=session)
        ti.state = None
        dag_bag = DBDagBag()
        ti.task = dag_bag.get_dag_for_run(run, session=session).get_task("wait")
        # The scheduler: a task whose operator starts in the triggerer is deferred at once.
        assert ti.defer_task(session=session)
        session.flush()
        row = session.get(Trigger, ti.trigger_id)
        kwargs = {k: smart_decode_trigger_kwargs(v) for k, v in Trigger._decrypt_kwargs(row.encrypted_kwargs).items()}
        trigger = import_string(row.classpath)(**kwargs)
        dag_data = dag_bag.get_serialized_dag_model_for_run(run, session=session).data
        dag_run_data = ti.get_dagrun(session=session).dag_run_data.model_dump(exclude_unset=True)
        ser_ti = TaskInstanceDTO.model_validate(ti, from_attributes=True)
        trigger_id, timeout_after = row.id, ti.trigger_timeout

    class AsTheTriggererRunsIt:
        async def run(self):
            runtime_ti = TriggerRunner.create_runtime_ti(ser_ti, dag_data, dag_run_data)
            trigger.task_instance = runtime_ti
            trigger.timeout_after = timeout_after
            trigger.render_template_fields(context=runtime_ti.get_template_context())
            async for event in trigger.run():
                yield event

    async def asend(comms, message):  # the triggerer's comms are asynchronous too
        return comms.send(message)

    monkeypatch.setattr(InProcessSupervisorComms, "asend", asend, raising=False)
    event = InProcessTestSupervisor.run_trigger_in_process(trigger=AsTheTriggererRunsIt(), ti=ser_ti)
    with create_session() as session:
        Trigger.submit_event(trigger_id, event, session=session)
    return event


def pulled(run, key):
    from airflow.sdk.execution_time.supervisor import InProcessTestSupervisor

    return InProcessTestSupervisor._api_client().xcoms.get(run.dag_id, run.run_id, "wait", key).value


@pytest.mark.skipif(
    not AIRFLOW_V_3_3_PLUS, reason="before Airflow 3.3 the triggerer renders no templates: it starts on a worker"
)
def test_the_sensor_starts_and_ends_in_the_triggerer_with_a_workers_xcom(fast_bot, monkeypatch):
    from airflow.triggers.base import TaskSuccessEvent

    fast_bot.use_connection(monkeypatch)
    dag = load_test_dag("start_from_trigger")
    # The add task for real; the sensor left to the triggerer below.
    run = dag.test(mark_success_pattern="wait")
    ids = xcoms(run)["add"]
    fast_bot.counters.reset()

    event = start_in_triggerer(run, monkeypatch)

    assert isinstance(event, TaskSuccessEvent)
    run.refresh_from_db()
    assert task_states(run)["wait"] == "success"
    # As a downstream task reads them (the Execution API): the items, not JSON text.
    result = pulled(run, "return_value")
    assert list(result) == ids and {item["status"] for item in result.values()} == {"COMPLETED"}
    assert set(result[ids[0]]) == {"id", "status", "result", "error"}
    assert pulled(run, "automation_anywhere_queue") == {"control_room_url": fast_bot.url, "queue_id": "20"}
    # No worker: the triggerer's one login, and one list request per poll.
    assert fast_bot.counters.logins() == 1
    assert fast_bot.counters.requests(LIST) >= 1


def test_started_on_a_worker_it_defers_as_usual(fast_bot, monkeypatch):
    """dag.test() runs every task as a worker would (so does Airflow with a mapped task)."""
    fast_bot.use_connection(monkeypatch)
    fast_bot.configure(pickup_delay=2.0)

    run = load_test_dag("start_from_trigger").test()

    assert task_states(run) == {"add": "success", "wait": "success"}
    result = xcoms(run)["wait"]
    assert list(result) == xcoms(run)["add"] and {item["status"] for item in result.values()} == {"COMPLETED"}
