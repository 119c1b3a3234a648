"""
A deferred bot wait that the user ends (marks its task failed or success, clears it) stops
the deployment's runs; a triggerer that merely shuts down or restarts must not, as the wait
goes on in the next one.

Airflow 3.3+ tells the two apart: its triggerer calls a trigger's ``on_kill()`` only after a
user's action. The triggerers of Airflow 3.1 and 3.2 cancel the trigger's task either way,
so there a cancelled trigger asks whether its task instance is still deferred, as Google's
provider triggers do with ``cancel_on_kill`` (``safe_to_cancel()`` in
``providers/google/.../triggers/dataproc.py``, through the task instance's public
``get_task_states``): no longer deferred means a user ended the wait.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.sdk.log import redact
from asgiref.sync import sync_to_async

from airflow_provider_aa.control_room.errors import StopRefusedError
from airflow_provider_aa.triggers.clients import TriggerClients
from airflow_provider_aa.version_compat import AIRFLOW_V_3_3_PLUS

#: Whether the triggerer calls ``on_kill()`` on a user's action (Airflow 3.3+); otherwise a
#: cancelled trigger looks up its task instance's state itself.
TRIGGERER_CALLS_ON_KILL = AIRFLOW_V_3_3_PLUS
#: Longest a cancelled trigger spends on the look-up and the stop: Airflow 3.3 gives
#: ``on_kill()`` as long by default (``[triggerer] on_kill_timeout``).
STOP_TIMEOUT = 30.0


async def task_instance_state(task_instance: Any) -> str | None:
    """
    The current state of the trigger's task instance, asked of the triggerer's supervisor
    (the Execution API), the only way a trigger can read it without the metadata database.
    The call is synchronous: it runs off the event loop (Airflow before 3.3 cannot run it on
    the loop).
    """
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    answer = await sync_to_async(RuntimeTaskInstance.get_task_states)(
        dag_id=task_instance.dag_id,
        task_ids=[task_instance.task_id],
        run_ids=[task_instance.run_id],
        map_index=task_instance.map_index,
    )
    states = answer.get(task_instance.run_id) or {}
    # The Execution API keys a mapped task instance as "<task_id>_<map_index>".
    key = task_instance.task_id if task_instance.map_index < 0 else f"{task_instance.task_id}_{task_instance.map_index}"
    return states.get(key)


async def ended_by_user(task_instance: Any, log: logging.Logger | Any) -> bool:
    """
    Whether a cancelled trigger's wait was ended by a user: its task instance is no longer
    deferred. ``False`` when that cannot be told (never stop a run on a guess).
    """
    if task_instance is None:
        log.warning("The trigger knows no task instance: not stopping the bot's runs.")
        return False
    try:
        state = await task_instance_state(task_instance)
    except Exception as problem:
        log.warning("Could not read the task instance's state, so not stopping the bot's runs: %s", problem)
        return False
    return state != "deferred"


async def astop_runs_on_kill(
    clients: TriggerClients, conn_id: str, deployment_id: str, log: logging.Logger | Any
) -> list[str] | None:
    """
    Stop the deployment's unfinished runs through the connection's shared client, logging
    which; never raises.

    :return: the execution ids asked to stop, or ``None`` when stopping failed (logged; one
        the Control Room refused names the runs not stopped).
    """
    try:
        client = await clients.client(conn_id)
        stopped = await client.stop_runs(deployment_id)
    except StopRefusedError as refused:
        log.warning(
            "The user ended the wait: run(s) %s of bot deployment %s not stopped; they may still be running: %s",
            ", ".join(refused.not_stopped),
            deployment_id,
            redact(str(refused)),
        )
        return None
    except Exception as problem:  # also a connection that cannot be read: the wait is over either way
        log.warning(
            "Could not stop the runs of bot deployment %s; they may still be running: %s",
            deployment_id,
            redact(str(problem)),
        )
        return None
    log.info(
        "The user ended the wait: asked the Control Room to stop %d run(s) of bot deployment %s%s.",
        len(stopped),
        deployment_id,
        f" ({', '.join(stopped)})" if stopped else "",
    )
    return stopped
