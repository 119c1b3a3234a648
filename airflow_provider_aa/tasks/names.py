"""
Parameters given by name, resolved when a task runs: what the operators and sensors share.

A task names its queue (``queue_name``), bot (``bot_path``), run-as users
(``run_as_user_names``) or pools (``pool_names``) instead of giving ids; both forms are
templated, so their values are checked when the task runs, before any request, and the
names are then looked up through the task's hook (once per hook, see
:class:`~airflow_provider_aa.hooks.automation_anywhere.AutomationAnywhereHook`). The ids
are found *before* anything keyed by them is saved or compared (an add's progress, a
deployment's fingerprint), so that a retry finds its earlier try's state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_aa.control_room.bots import BotDeployment, HeadlessRequest, to_bot_input
from airflow_provider_aa.control_room.names import path_folders, validate_name, validate_names
from airflow_provider_aa.control_room.work_items import validate_id, validate_ids

if TYPE_CHECKING:
    from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook


def queue_label(task: Any) -> str:
    """
    A task's checked ``queue_id``, or its checked ``queue_name`` quoted, for messages
    before the look-up. No request.
    """
    if task.queue_name is not None:
        return repr(validate_name(task.queue_name, "queue_name"))
    return validate_id(task.queue_id, "queue_id")


def resolve_queue(task: Any, hook: AutomationAnywhereHook) -> str:
    """A task's queue id: its ``queue_id``, or the id of the queue named ``queue_name``."""
    if task.queue_name is not None:
        return hook.get_queue_id(task.queue_name)
    return validate_id(task.queue_id, "queue_id")


def resumed_queue(task: Any, event: dict[str, Any]) -> str:
    """The queue of a wait resumed after deferral: the id its trigger polled, so a name costs no look-up."""
    if event.get("queue_id"):
        return str(event["queue_id"])
    return queue_label(task)  # an error or timeout event names no queue; the wait ends with its error


def deployment_of(task: Any, hook: AutomationAnywhereHook) -> BotDeployment:
    """
    A deploy task's deployment with every name resolved to its id. All of it is checked
    before the first look-up, so that bad input fails the task without any request.
    """
    if task.api_task:
        return _api_task_of(task, hook)
    by_path, by_users, by_pools = task.bot_path is not None, task.run_as_user_names is not None, bool(task.pool_names)
    bot = path_folders(task.bot_path) if by_path else validate_id(task.bot_id, "bot_id")
    if by_users:
        users = validate_names(task.run_as_user_names, "run_as_user_names")
    else:
        users = validate_ids(task.run_as_user_ids, "run_as_user_ids")
    if by_pools:
        pools = validate_names(task.pool_names, "pool_names")
    else:
        pools = [] if task.pool_ids in (None, []) else validate_ids(task.pool_ids, "pool_ids")
    to_bot_input(task.bot_input)
    return BotDeployment.validate(
        hook.get_bot_id(task.bot_path, api_task=False) if by_path else bot,
        hook.get_run_as_user_ids(users) if by_users else users,
        hook.get_pool_ids(pools) if by_pools else pools,
        task.bot_input,
    )


def _api_task_of(task: Any, hook: AutomationAnywhereHook) -> BotDeployment:
    """An API task's deployment: the bot and the shared run-as user by id or by name."""
    bot = path_folders(task.bot_path) if task.bot_path is not None else validate_id(task.bot_id, "bot_id")
    by_user = task.shared_run_as_user_name is not None
    if by_user:
        user: str | None = validate_name(task.shared_run_as_user_name, "shared_run_as_user_name")
    else:
        user = (
            None
            if task.shared_run_as_user_id is None
            else validate_id(task.shared_run_as_user_id, "shared_run_as_user_id")
        )
    HeadlessRequest.validate(task.number_of_executions, task.queue_on_slots_exhaustion, user if not by_user else None)
    to_bot_input(task.bot_input)
    if by_user and user is not None:
        user = hook.get_run_as_user_ids([user], field="shared_run_as_user_name")[0]
    headless = HeadlessRequest.validate(task.number_of_executions, task.queue_on_slots_exhaustion, user)
    return BotDeployment.api_task(
        hook.get_bot_id(task.bot_path, api_task=True) if task.bot_path is not None else bot, headless, task.bot_input
    )
