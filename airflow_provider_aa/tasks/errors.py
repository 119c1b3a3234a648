"""
Bad input names the task: what the operators and sensors share about their errors.

A DAG has many tasks, and an ``InvalidInputError`` naming only the field (``work_item_ids
must be ...``) leaves the reader looking for the task. :class:`NamesTaskInInputErrors`
makes every such error raised while a task is made (``__init__``) or runs (``execute``,
``execute_complete``: rendered templates, checked before any request) start with the
task's id: ``Task 'add_items': work_item_ids must be ...``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from airflow_provider_aa.control_room.errors import InvalidInputError

#: The methods whose input errors name the task, wherever a subclass defines them.
_METHODS = ("__init__", "execute", "execute_complete")


class NamesTaskInInputErrors:
    """
    Mixin of the provider's operators and sensors, before ``BaseOperator`` in the bases:
    each subclass's own ``__init__``, ``execute`` and ``execute_complete`` are wrapped so
    that an ``InvalidInputError`` they raise names the task (once, however deeply nested).
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in _METHODS:
            method = cls.__dict__.get(name)
            if callable(method):
                setattr(cls, name, _naming_the_task(method))


def name_task(problem: InvalidInputError, task_id: Any) -> None:
    """Put ``Task '<task_id>': `` before ``problem``'s message, unless it is there already."""
    prefix = f"Task {task_id!r}: "
    if isinstance(task_id, str) and not problem.summary.startswith(prefix):
        problem.summary = prefix + problem.summary
        problem.args = (prefix + str(problem), *problem.args[1:])


def _naming_the_task(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except InvalidInputError as problem:
            # Before super().__init__ has set it, a task has no id yet: the message stays as it is.
            name_task(problem, getattr(self, "task_id", None))
            raise

    return wrapper


def check_id_or_name(id_field: str, id_value: Any, name_field: str, name_value: Any, *, required: bool = True) -> None:
    """
    At most one of an id parameter and its name parameter is given (not ``None``); with
    ``required``, exactly one. Checked when a task is made (both are templated: their values
    are checked when the task runs).

    :raises InvalidInputError: naming both parameters.
    """
    if id_value is not None and name_value is not None:
        raise InvalidInputError(f"Give {id_field} or {name_field}, not both.")
    if required and id_value is None and name_value is None:
        raise InvalidInputError(f"Give {id_field} or {name_field}.")
