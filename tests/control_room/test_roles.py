"""ensure_role driven through a real ControlRoomSession against a scripted Control Room."""

from __future__ import annotations

import re

import pytest

from airflow_provider_aa.control_room.errors import AutomationAnywhereError, InvalidInputError
from airflow_provider_aa.control_room.roles import (
    ROLE_PRESETS,
    UNCONFIRMED_PERMISSIONS,
    RoleApi,
    ensure_role,
    validate_description,
    validate_permissions,
    validate_role_name,
)
from airflow_provider_aa.control_room.session import AmbiguousOutcomeError
from tests.control_room.scripted import Script, answer, expect, login, lost, run

RUN = {"action": "run", "resourceType": "repositorymanager"}
VIEW = {"action": "view", "resourceType": "repositorymanager"}
KEY = {"action": "generateapikey", "resourceType": "api"}
MEMBERS = [{"id": 3}, {"id": 4}]


def listing(version, token, *roles):
    body = {"filter": {"operator": "eq", "field": "name", "value": "Airflow"}, "page": {"offset": 0, "length": 100}}
    listed = [{"id": role_id, "name": name} for role_id, name in roles]
    return (
        expect("POST", f"/{version}/usermanagement/roles/list", json=body, token=token),
        answer(200, {"list": listed}),
    )


def missing(method, path):
    return (expect(method, path), answer(404, {"code": "NOT_FOUND", "message": f"No API at {path}"}))


def role(permissions, *, role_id=7, version=2, principals=MEMBERS, description="old"):
    shown = {
        "id": role_id,
        "name": "Airflow",
        "description": description,
        "permissions": permissions,
        "version": version,
    }
    if principals is not None:
        shown["principals"] = principals
    shown["existingRepositoryPermissions"] = [{"id": 9}]
    return shown


def read(version, token, shown):
    return (expect("GET", f"/{version}/usermanagement/roles/{shown['id']}", token=token), answer(200, shown))


def ensure(session, permissions, *, description=None, api=None):
    return ensure_role(
        session, "Airflow", validate_permissions(permissions), description=description, api=api or RoleApi()
    )


def test_a_missing_role_is_created_without_members_in_one_unsafe_request(session, clock, token):
    create_body = {
        "name": "Airflow",
        "description": "svc",
        "permissions": [{**RUN, "resourceId": None}, {"id": 58, **KEY, "resourceId": None}],
        "principals": [],
    }
    created = {"id": 17, "name": "Airflow", "description": "svc", "permissions": [{"id": 1, **RUN}, {"id": 58, **KEY}]}
    script = Script(
        [
            login(token),
            listing("v2", token, (5, "airflow"), (6, "Airflow Ops")),  # near names are not it
            (
                expect("POST", "/v2/usermanagement/roles", json=create_body, token=token, replay_safe=False),
                answer(201, created),
            ),
        ]
    )

    outcome = run(ensure(session, [RUN, {**KEY, "id": "58"}], description="svc"), script, session=session)

    assert outcome.created and outcome.changed
    assert (outcome.id, outcome.name, outcome.api_version) == ("17", "Airflow", "v2")
    assert outcome.added == created["permissions"] and outcome.removed == []


def test_an_unchanged_role_costs_two_reads_and_no_write(session, clock, token):
    present = [{"id": 1, **RUN, "resourceId": None}, {"id": 2, **VIEW, "resourceId": ""}]
    script = Script([login(token), listing("v2", token, (7, "Airflow")), read("v2", token, role(present))])

    outcome = run(ensure(session, [VIEW, RUN]), script, session=session)

    assert not outcome.changed
    assert outcome.summary() == "Role 'Airflow' (id 7) already has the permissions asked for: unchanged."


def test_an_update_changes_only_permissions_and_keeps_members_ids_and_other_fields(session, clock, token):
    present = [{"id": 1, **RUN, "resourceId": None}, {"id": 2, **VIEW, "resourceId": 44}, {"id": 5, **KEY}]
    shown = role(present)
    sent = {
        **shown,
        "permissions": [
            {"id": 1, **RUN, "resourceId": None},
            # On one resource (a folder an admin added in the UI): kept, though not asked for.
            {"id": 2, **VIEW, "resourceId": 44},
            {"id": 5, **KEY, "resourceId": None},
            {**VIEW, "resourceId": None},
        ],
    }
    script = Script(
        [
            login(token),
            listing("v2", token, (7, "Airflow")),
            read("v2", token, shown),
            (expect("PUT", "/v2/usermanagement/roles/7", json=sent, token=token), answer(200, {**sent, "version": 3})),
        ]
    )

    outcome = run(ensure(session, [RUN, VIEW, KEY]), script, session=session)

    assert not outcome.created
    assert outcome.added == [VIEW] and outcome.removed == []
    assert outcome.summary() == "Updated role 'Airflow' (id 7): added view/repositorymanager; removed nothing."


def test_permissions_on_one_resource_go_when_the_caller_lists_such_permissions_of_that_type(session, clock, token):
    present = [{"id": 2, **VIEW, "resourceId": 44}, {"id": 6, **KEY, "resourceId": 9}]
    shown = role(present)
    wanted = {**VIEW, "resourceId": 45}
    sent = {**shown, "permissions": [{"id": 6, **KEY, "resourceId": 9}, {**wanted}]}
    script = Script(
        [
            login(token),
            listing("v2", token, (7, "Airflow")),
            read("v2", token, shown),
            (expect("PUT", "/v2/usermanagement/roles/7", json=sent, token=token), answer(200, {**sent, "version": 3})),
        ]
    )
    outcome = run(ensure(session, [wanted]), script, session=session)
    # repositorymanager's scoped permissions are the caller's to set; api's stay as the admin left them.
    assert outcome.removed == [{"id": 2, **VIEW, "resourceId": 44}] and outcome.added == [wanted]


def test_unscoped_permissions_of_types_not_asked_for_stay_and_those_of_types_asked_for_go(session, clock, token):
    audit = {"id": 8, "action": "viewauditlog", "resourceType": "auditlog", "resourceId": None}  # added in the UI
    present = [{"id": 1, **RUN, "resourceId": None}, {"id": 2, **VIEW, "resourceId": None}, audit]
    shown = role(present)
    sent = {**shown, "permissions": [{"id": 1, **RUN, "resourceId": None}, audit, {**KEY, "resourceId": None}]}
    script = Script(
        [
            login(token),
            listing("v2", token, (7, "Airflow")),
            read("v2", token, shown),
            (expect("PUT", "/v2/usermanagement/roles/7", json=sent, token=token), answer(200, {**sent, "version": 3})),
        ]
    )
    outcome = run(ensure(session, [RUN, KEY]), script, session=session)
    assert outcome.removed == [{"id": 2, **VIEW, "resourceId": None}] and outcome.added == [KEY]


def test_an_unscoped_permission_not_asked_for_alone_changes_nothing(session, clock, token):
    present = [{"id": 1, **RUN, "resourceId": None}, {"id": 8, "action": "viewauditlog", "resourceType": "auditlog"}]
    script = Script([login(token), listing("v2", token, (7, "Airflow")), read("v2", token, role(present))])
    assert not run(ensure(session, [RUN]), script, session=session).changed


def test_an_update_whose_answer_was_lost_reports_what_it_changed(session, clock, token):
    script = Script(
        [
            login(token),
            listing("v2", token, (7, "Airflow")),
            read("v2", token, role([{"id": 1, **RUN}], version=2)),
            (expect("PUT", "/v2/usermanagement/roles/7", body={"version": 2}, replay_safe=False), lost("timeout")),
            read("v2", token, role([{"id": 1, **RUN}, {"id": 9, **KEY}], version=3)),  # it was applied
        ]
    )
    outcome = run(ensure(session, [RUN, KEY]), script, session=session)
    assert outcome.changed and outcome.added == [KEY]


def test_a_new_description_is_an_update_and_none_keeps_the_old_one(session, clock, token):
    shown = role([{"id": 1, **RUN}])
    script = Script(
        [
            login(token),
            listing("v2", token, (7, "Airflow")),
            read("v2", token, shown),
            (
                expect("PUT", "/v2/usermanagement/roles/7", body={"description": "new", "principals": MEMBERS}),
                answer(204),
            ),
        ]
    )
    outcome = run(ensure(session, [RUN], description="new"), script, session=session)
    assert outcome.description_changed and outcome.description == "new" and outcome.added == []


def test_v1_is_used_where_v2_is_missing_and_remembered(session, clock, token):
    api = RoleApi()
    script = Script(
        [
            login(token),
            missing("POST", "/v2/usermanagement/roles/list"),
            listing("v1", token, (7, "Airflow")),
            read("v1", token, role([{"id": 1, **RUN}])),
            listing("v1", token, (7, "Airflow")),  # the second call goes to v1 at once
            read("v1", token, role([{"id": 1, **RUN}])),
        ]
    )

    def twice():
        first = yield from ensure(session, [RUN], api=api)
        second = yield from ensure(session, [RUN], api=api)
        return first, second

    first, second = run(twice(), script, session=session)
    assert api.version == "v1" and first.api_version == second.api_version == "v1"


def test_neither_version_answering_is_an_error(session, clock, token):
    script = Script(
        [
            login(token),
            missing("POST", "/v2/usermanagement/roles/list"),
            missing("POST", "/v1/usermanagement/roles/list"),
        ]
    )
    with pytest.raises(AutomationAnywhereError, match="neither the v2 nor the v1") as failed:
        run(ensure(session, [RUN]), script, session=session)
    assert failed.value.status == 404


def test_a_role_not_found_on_an_existing_api_is_not_taken_for_a_missing_api(session, clock, token):
    script = Script(
        [
            login(token),
            listing("v2", token, (7, "Airflow")),
            (
                expect("GET", "/v2/usermanagement/roles/7"),
                answer(404, {"code": "UM_ROLE_NOT_FOUND", "message": "gone"}),
            ),
        ]
    )
    with pytest.raises(AutomationAnywhereError) as failed:
        run(ensure(session, [RUN]), script, session=session)
    assert failed.value.code == "UM_ROLE_NOT_FOUND"


def test_a_lost_create_that_landed_is_found_by_name_and_not_sent_again(session, clock, token):
    script = Script(
        [
            login(token),
            listing("v2", token),
            (expect("POST", "/v2/usermanagement/roles", replay_safe=False), lost("timeout")),
            listing("v2", token, (17, "Airflow")),
            read("v2", token, role([{"id": 1, **RUN}], role_id=17, principals=[])),
        ]
    )
    outcome = run(ensure(session, [RUN]), script, session=session)
    assert outcome.created and outcome.id == "17"


def test_a_lost_create_that_did_not_land_says_to_run_again(session, clock, token):
    script = Script(
        [
            login(token),
            listing("v2", token),
            (expect("POST", "/v2/usermanagement/roles"), answer(500, {"code": "E500", "message": "boom"})),
            listing("v2", token),
        ]
    )
    with pytest.raises(AmbiguousOutcomeError, match="run ensure_role again") as failed:
        run(ensure(session, [RUN]), script, session=session)
    assert (failed.value.status, failed.value.code) == (500, "E500")


def test_a_role_made_meanwhile_by_someone_else_is_updated_instead(session, clock, token):
    script = Script(
        [
            login(token),
            listing("v2", token),
            (expect("POST", "/v2/usermanagement/roles"), answer(409, {"code": "UM_ROLE_ALREADY_EXISTS"})),
            listing("v2", token, (8, "Airflow")),
            read("v2", token, role([{"id": 1, **RUN}], role_id=8)),
            (expect("PUT", "/v2/usermanagement/roles/8", body={"principals": MEMBERS}), answer(204)),
        ]
    )
    outcome = run(ensure(session, [RUN, KEY]), script, session=session)
    assert not outcome.created and outcome.added == [KEY]


def test_a_role_changed_during_the_update_is_read_again(session, clock, token):
    conflict = answer(409, {"code": "UM_ROLE_VERSION_CONFLICT", "message": "changed"})
    script = Script(
        [
            login(token),
            listing("v2", token, (7, "Airflow")),
            read("v2", token, role([{"id": 1, **RUN}], version=2)),
            (expect("PUT", "/v2/usermanagement/roles/7", body={"version": 2}), conflict),
            read("v2", token, role([{"id": 1, **RUN}, {"id": 9, **KEY}], version=3)),  # someone added it meanwhile
        ]
    )
    outcome = run(ensure(session, [RUN, KEY]), script, session=session)
    assert not outcome.changed


def test_a_role_that_keeps_changing_fails_after_three_updates(session, clock, token):
    conflict = answer(409, {"code": "UM_ROLE_VERSION_CONFLICT"})
    steps = [login(token), listing("v2", token, (7, "Airflow"))]
    for version in (1, 2, 3):
        steps += [read("v2", token, role([], version=version)), (expect("PUT", "/v2/usermanagement/roles/7"), conflict)]
    with pytest.raises(AutomationAnywhereError) as failed:
        run(ensure(session, [RUN]), Script(steps), session=session)
    assert failed.value.status == 409


def test_a_role_shown_without_members_is_not_updated(session, clock, token):
    script = Script([login(token), listing("v2", token, (7, "Airflow")), read("v2", token, role([], principals=None))])
    with pytest.raises(AutomationAnywhereError, match="could remove the role from its users"):
        run(ensure(session, [RUN]), script, session=session)


def test_several_roles_of_the_name_are_an_error(session, clock, token):
    script = Script([login(token), listing("v2", token, (7, "Airflow"), (8, "Airflow"))])
    with pytest.raises(AutomationAnywhereError, match="ids 7, 8"):
        run(ensure(session, [RUN]), script, session=session)


OUTSIDE = "../../../../outside/app"


def test_a_role_id_from_the_listing_that_is_not_a_number_is_never_put_into_a_path(session, clock, token):
    script = Script([login(token), listing("v2", token, (OUTSIDE, "Airflow"))])  # no GET follows
    with pytest.raises(AutomationAnywhereError, match=re.escape(f"role id '{OUTSIDE}', not a positive integer")):
        run(ensure(session, [RUN]), script, session=session)


def test_a_role_whose_own_answer_has_a_bad_id_is_never_updated(session, clock, token):
    shown = {**role([VIEW]), "id": OUTSIDE}
    script = Script(
        [
            login(token),
            listing("v2", token, (7, "Airflow")),
            (expect("GET", "/v2/usermanagement/roles/7", token=token), answer(200, shown)),
        ]
    )
    with pytest.raises(AutomationAnywhereError, match="not put into a request path"):  # no PUT follows
        run(ensure(session, [RUN]), script, session=session)


# -- input ---------------------------------------------------------------------------------------


def test_permissions_are_checked_and_deduplicated():
    checked = validate_permissions([RUN, {**RUN, "resourceId": None}, {**RUN, "resourceId": "5", "id": 2}])
    assert checked == [RUN, {**RUN, "resourceId": 5, "id": 2}]
    assert validate_permissions(ROLE_PRESETS["airflow_service"])  # the presets pass their own checks
    assert validate_permissions(()) == []


@pytest.mark.parametrize(
    ("permissions", "message"),
    [
        ("bot_deployer", "a preset: ROLE_PRESETS"),
        (RUN, "must be a list"),
        ([["run"]], r"permissions\[0\] must be a dict"),
        ([{"action": "run"}], r"permissions\[0\].resourceType must be non-empty text"),
        ([{**RUN, "action": " "}], r"permissions\[0\].action"),
        ([RUN, {**RUN, "resourceID": 5}], r"permissions\[1\] has unknown key\(s\) resourceID"),
        ([{**RUN, "id": -1}], r"permissions\[0\].id must be a whole number"),
        ([{**RUN, "resourceId": True}], r"permissions\[0\].resourceId must be a whole number"),
    ],
)
def test_bad_permissions_are_refused_naming_the_entry(permissions, message):
    with pytest.raises(InvalidInputError, match=message):
        validate_permissions(permissions)


@pytest.mark.parametrize("name", ["", "  ", " Airflow", None, "x" * 256])
def test_bad_role_names_are_refused(name):
    with pytest.raises(InvalidInputError, match="name must"):
        validate_role_name(name)


def test_descriptions_are_optional_text():
    assert validate_description(None) is None
    with pytest.raises(InvalidInputError, match="description"):
        validate_description(5)


def test_the_presets_name_only_known_unconfirmed_permissions():
    listed = {(entry["action"], entry["resourceType"]) for preset in ROLE_PRESETS.values() for entry in preset}
    assert UNCONFIRMED_PERMISSIONS <= listed
    union = {
        (e["action"], e["resourceType"]) for name, p in ROLE_PRESETS.items() if name != "airflow_service" for e in p
    }
    assert {(e["action"], e["resourceType"]) for e in ROLE_PRESETS["airflow_service"]} == union
