"""
The provider's errors as Airflow sees them: the edge between the protocol's errors
(:mod:`airflow_provider_aa.control_room.errors`, which import no Airflow) and Airflow.

Where an error leaves the provider for Airflow — a method of the hook (also from a user's
``@task``), or a method of an operator or sensor — it is raised in its Airflow form
(:func:`airflow_error`): a :class:`~airflow_provider_aa.control_room.errors.FatalError` is
an ``AirflowFailException`` too, so that Airflow fails the task without using its retries;
every other provider error an ``AirflowException``. The form is a subclass of the error's
own class, so ``except LoginRefusedError`` and ``isinstance(e, FatalError)`` still hold.

A DAG has many tasks, and an ``InvalidInputError`` naming only the field (``work_item_ids
must be ...``) leaves the reader looking for the task: :class:`TaskErrors` also makes
every such error raised while a task is made or runs start with the task's id: ``Task
'add_items': work_item_ids must be ...``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Generator, Iterator
from functools import cached_property
from typing import Any, ParamSpec, TypeVar, cast

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_aa.control_room.errors import AutomationAnywhereError, FatalError, InvalidInputError, restored

P = ParamSpec("P")
R = TypeVar("R")
C = TypeVar("C", bound=type)

#: The methods of an operator or sensor that raise Airflow's forms and name the task in input errors.
_METHODS = ("__init__", "execute", "execute_complete", "poke")

#: Each error class's Airflow form, made at its first use: the same class every time.
_FORMS: dict[type[AutomationAnywhereError], type[AutomationAnywhereError]] = {}


def airflow_error(error: AutomationAnywhereError) -> AutomationAnywhereError:
    """
    ``error`` in its Airflow form: the same error (message, attributes, cause, traceback) as
    an instance of :func:`airflow_class` of its class; ``error`` itself when it is one already.
    """
    form = airflow_class(type(error))
    if isinstance(error, form):
        return error
    same = restored(form, error.args, error.__dict__)
    same.__cause__, same.__context__ = error.__cause__, error.__context__
    same.__suppress_context__ = error.__suppress_context__
    return same.with_traceback(error.__traceback__)


def airflow_class(cls: type[AutomationAnywhereError]) -> type[AutomationAnywhereError]:
    """
    The Airflow form of an error class: a subclass of ``cls`` and of ``AirflowFailException``
    (a ``FatalError``) or ``AirflowException`` (any other), with ``cls``'s name and module,
    made once per class. Its instances pickle as themselves.
    """
    airflow = AirflowFailException if issubclass(cls, FatalError) else AirflowException
    if issubclass(cls, airflow):
        return cls
    if cls in _FORMS:
        return _FORMS[cls]
    attributes = {
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        "__doc__": cls.__doc__,
        "__reduce__": _reduce_airflow_form,
    }
    # setdefault: threads that made one at the same time all take the first.
    return _FORMS.setdefault(cls, type(cls.__name__, (cls, airflow), attributes))


def _reduce_airflow_form(error: AutomationAnywhereError) -> tuple[Any, ...]:
    # The form is made at run time, so pickle cannot find it by name: it is pickled as its
    # protocol class (its first base) and unpickled into that class's form again.
    return _restored_airflow_form, (type(error).__bases__[0], error.args, error.__dict__)


def _restored_airflow_form(
    cls: type[AutomationAnywhereError], args: tuple[Any, ...], fields: dict[str, Any]
) -> AutomationAnywhereError:
    return restored(airflow_class(cls), args, fields)


def raising_airflow_errors(method: Callable[P, R]) -> Callable[P, R]:
    """
    ``method``, raising provider errors in their Airflow form; a generator it returns (pages
    of a listing) raises them so as well.
    """

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            result = method(*args, **kwargs)
        except AutomationAnywhereError as problem:
            same = airflow_error(problem)
            if same is problem:
                raise
        else:
            return cast(R, _iterating(result)) if inspect.isgenerator(result) else result
        # Raised outside the except clause: the error keeps its own context (the Airflow form
        # is the same error, not a new one raised while handling it).
        raise same

    return wrapper


def _iterating(pages: Generator[Any, Any, Any]) -> Iterator[Any]:
    try:
        yield from pages
        return
    except AutomationAnywhereError as problem:
        same = airflow_error(problem)
        if same is problem:
            raise
    raise same


def raises_airflow_errors(cls: C) -> C:
    """
    Class decorator: each public method and cached property that ``cls`` defines raises
    provider errors in their Airflow form (:func:`raising_airflow_errors`).
    """
    for name, member in list(vars(cls).items()):
        if name.startswith("_"):
            continue
        if inspect.isfunction(member):
            setattr(cls, name, raising_airflow_errors(member))
        elif isinstance(member, cached_property):
            wrapped = cached_property(raising_airflow_errors(member.func))
            wrapped.__set_name__(cls, name)
            setattr(cls, name, wrapped)
    return cls


class TaskErrors:
    """
    Mixin of the provider's operators and sensors, before ``BaseOperator`` in the bases:
    each subclass's own ``__init__``, ``execute``, ``execute_complete`` and ``poke`` raise
    provider errors in their Airflow form (a ``FatalError`` fails the task without retries,
    also where a sensor's ``silent_fail`` or ``soft_fail`` looks at it), and an
    ``InvalidInputError`` they raise names the task (once, however deeply nested).
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in _METHODS:
            method = cls.__dict__.get(name)
            if callable(method):
                setattr(cls, name, _at_the_task_edge(method))


def name_task(problem: InvalidInputError, task_id: Any) -> None:
    """Put ``Task '<task_id>': `` before ``problem``'s message, unless it is there already."""
    prefix = f"Task {task_id!r}: "
    if isinstance(task_id, str) and not problem.summary.startswith(prefix):
        problem.summary = prefix + problem.summary
        problem.args = (prefix + str(problem), *problem.args[1:])


def _at_the_task_edge(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except AutomationAnywhereError as problem:
            if isinstance(problem, InvalidInputError):
                # Before super().__init__ has set it, a task has no id yet: the message stays as it is.
                name_task(problem, getattr(self, "task_id", None))
            same = airflow_error(problem)
            if same is problem:
                raise
        raise same

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
