"""
What a bot task's ``on_kill`` does with ``stop_on_kill``: stop the deployment's runs, so that
a task marked failed, cleared or timed out does not leave its bot running unseen.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow_provider_aa.control_room.errors import StopRefusedError
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook


def stop_runs_on_kill(conn_id: str, deployment_id: Any, log: logging.Logger | Any) -> bool:
    """
    Stop the runs of ``deployment_id`` that have not finished, logging which; never raises.

    A hook of its own: ``on_kill`` may interrupt the task's hook in the middle of a call
    (Airflow calls it from the SIGTERM handler), whose session must not be re-entered.

    :param conn_id: the task's ``automation_anywhere`` connection.
    :param deployment_id: the deployment whose runs to stop (validated here).
    :param log: the task's logger.
    :return: ``True`` when the Control Room took the stop (or nothing ran), ``False`` when
        stopping failed — a warning says why and that the bot may still be running; one the
        Control Room refused (or runs not asked to stop) names the runs not stopped.
    """
    hook = AutomationAnywhereHook(conn_id)
    try:
        stopped = hook.stop_bot_runs(deployment_id)
    except StopRefusedError as refused:
        log.warning(
            "Task killed: run(s) %s of bot deployment %s not stopped; they may still be running: %s",
            ", ".join(refused.not_stopped),
            deployment_id,
            refused,
        )
        return False
    except Exception as problem:  # on_kill must never raise: the task is ending either way
        log.warning(
            "Could not stop the runs of bot deployment %s; they may still be running: %s", deployment_id, problem
        )
        return False
    finally:
        hook.close()
    log.info("Task killed: stopped %d run(s) of bot deployment %s (stop_on_kill=True).", len(stopped), deployment_id)
    return True
