"""
The provider's errors at the edge with Airflow (``tasks/errors.py``): each error class has an
Airflow form — a subclass that is also an ``AirflowFailException`` (a ``FatalError``) or an
``AirflowException`` — which the hook's methods (the pages of its listings too) and the
operators' and sensors' methods raise, and errors in either form pickle as themselves.
"""

from __future__ import annotations

import inspect
import pickle
import traceback
from types import SimpleNamespace

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_aa.control_room import errors
from airflow_provider_aa.control_room.errors import (
    AutomationAnywhereError,
    FatalError,
    InvalidInputError,
    NameLookupError,
    StopRefusedError,
    WorkItemChangedError,
)
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook
from airflow_provider_aa.sensors.automation_anywhere import AutomationAnywhereWorkItemSensor
from airflow_provider_aa.tasks.errors import airflow_class, airflow_error
from tests.conftest import BASE_URL, make_token

CLASSES = [
    cls
    for cls in vars(errors).values()
    if inspect.isclass(cls) and issubclass(cls, AutomationAnywhereError) and cls.__module__ == errors.__name__
]
CALL = {"status": 409, "method": "PUT", "path": "/v3/wlm/queues/7/workitems/5", "code": "C1", "message": "changed"}


def sample(cls: type[AutomationAnywhereError]) -> AutomationAnywhereError:
    """An error of ``cls`` with every field its __init__ takes set."""
    if issubclass(cls, NameLookupError):
        return cls("no queue", field="queue_name", values=["Invoices"], candidates={"Invoices": [("20", "Invoice")]})
    if issubclass(cls, WorkItemChangedError):
        return cls("changed", current_version="4", current_status="WORKING", asked="status DONE", **CALL)
    if issubclass(cls, StopRefusedError):
        return cls("not stopped", not_stopped=["e1", "e2"], **CALL)
    return cls("failed", **CALL)


def fields(error: BaseException) -> tuple[object, ...]:
    return type(error), error.args, str(error), vars(error)


def test_every_error_class_is_known():
    assert {AutomationAnywhereError, FatalError, InvalidInputError, NameLookupError, StopRefusedError} < set(CLASSES)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_the_protocol_error_is_no_airflow_exception_and_its_airflow_form_fails_tasks_by_its_kind(cls):
    form = airflow_class(cls)

    assert not issubclass(cls, AirflowException)
    assert issubclass(form, cls) and form is not cls
    assert issubclass(form, AirflowException)
    assert issubclass(form, AirflowFailException) == issubclass(cls, FatalError)
    assert (form.__name__, form.__qualname__, form.__module__) == (cls.__name__, cls.__qualname__, cls.__module__)
    assert airflow_class(cls) is form and airflow_class(form) is form


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_errors_in_either_form_pickle_as_themselves(cls):
    error = sample(cls)
    for same in (error, airflow_error(error)):
        again = pickle.loads(pickle.dumps(same))
        assert fields(again) == fields(same)


def test_the_airflow_form_is_the_same_error():
    def fail() -> None:
        try:
            raise KeyError("token")
        except KeyError as cause:
            raise NameLookupError(
                "no queue", field="queue_name", values=["Invoices"], candidates={"Invoices": []}
            ) from cause

    with pytest.raises(NameLookupError) as raised:
        fail()
    error = raised.value
    error.add_note("seen by the test")

    same = airflow_error(error)

    assert isinstance(same, AirflowFailException) and type(same) is not type(error)
    assert (same.args, vars(same)) == (error.args, vars(error))
    assert same.__cause__ is error.__cause__ and same.__suppress_context__
    assert same.__traceback__ is error.__traceback__
    assert airflow_error(same) is same


def test_pages_of_a_hook_listing_raise_the_airflow_form(requests_mock, use_connection):
    use_connection(login="jdoe", password="S3cret-Passw0rd-xyz")
    requests_mock.post(f"{BASE_URL}/v2/authentication", json={"token": make_token()})
    requests_mock.post(f"{BASE_URL}/v1/authentication/logout", status_code=204)
    first = {"page": {"offset": 0, "totalFilter": 101}, "list": [{"id": n, "status": "NEW"} for n in range(100)]}
    requests_mock.post(
        f"{BASE_URL}/v3/wlm/queues/7/workitems/list",
        [{"json": first}, {"status_code": 500, "json": {"code": "E500", "message": "broken"}}],
    )
    pages = AutomationAnywhereHook().list_work_items(7)

    assert len([next(pages) for _ in range(100)]) == 100
    with pytest.raises(AutomationAnywhereError) as raised:
        next(pages)

    assert isinstance(raised.value, AirflowException) and not isinstance(raised.value, AirflowFailException)
    assert (raised.value.status, raised.value.code) == (500, "E500")
    # The traceback still reaches where the protocol raised the error.
    assert any("/control_room/" in frame.filename for frame in traceback.extract_tb(raised.value.__traceback__))


def test_a_sensors_silent_fail_does_not_swallow_a_fatal_error_of_its_poke(aa_emulator, monkeypatch):
    """silent_fail logs and pokes on after any error but Airflow's own failures: bad input is one."""
    aa_emulator.use_connection(monkeypatch)
    sensor = AutomationAnywhereWorkItemSensor(
        task_id="wait", queue_id="not a queue id", work_item_ids=[1], silent_fail=True, timeout=3, poke_interval=0.1
    )

    with pytest.raises(InvalidInputError, match="Task 'wait': queue_id") as raised:
        sensor.execute({"ti": SimpleNamespace(try_number=1)})

    assert isinstance(raised.value, AirflowFailException)
    assert aa_emulator.counters.requests() == 0
