"""ensure_role driven through a real ControlRoomSession against a scripted Control Room."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from airflow_provider_aa.control_room.errors import (
    AmbiguousOutcomeError,
    AutomationAnywhereError,
    InvalidInputError,
    NameLookupError,
)
from airflow_provider_aa.control_room.roles import (
    PRESET_PERMISSIONS,
    ROLE_PRESETS,
    UNCONFIRMED_PERMISSIONS,
    RoleApi,
    ensure_role,
    validate_copy_from,
    validate_description,
    validate_permissions,
    validate_role_name,
)
from tests.control_room.scripted import Script, answer, expect, login, lost, run

RUN = {"action": "run", "resourceType": "repositorymanager"}
VIEW = {"action": "view", "resourceType": "repositorymanager"}
KEY = {"action": "generateapikey", "resourceType": "api"}
MEMBERS = [{"id": 3}, {"id": 4}]
#: A role's folder rights as the Control Room shows them (fields not documented by AA).
REPOSITORY = [{"id": 9, "repositoryId": 44, "permissions": ["run", "view"], "inherited": None}]


def listing(version, token, *roles, name="Airflow"):
    body = {"filter": {"operator": "eq", "field": "name", "value": name}, "page": {"offset": 0, "length": 100}}
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
    shown["existingRepositoryPermissions"] = REPOSITORY
    return shown


def read(version, token, shown):
    return (expect("GET", f"/{version}/usermanagement/roles/{shown['id']}", token=token), answer(200, shown))


def ensure(session, permissions, *, description=None, api=None, copy_from=None):
    return ensure_role(
        session,
        "Airflow",
        validate_permissions(permissions),
        description=description,
        api=api or RoleApi(),
        copy_from=copy_from,
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
            listing("v1", token, (5, "airflow"), (6, "Airflow Ops")),  # near names are not it
            (
                expect("POST", "/v1/usermanagement/roles", json=create_body, token=token, replay_safe=False),
                answer(201, created),
            ),
        ]
    )

    outcome = run(ensure(session, [RUN, {**KEY, "id": "58"}], description="svc"), script, session=session)

    assert outcome.created and outcome.changed
    assert (outcome.id, outcome.name, outcome.api_version) == ("17", "Airflow", "v1")
    assert outcome.added == created["permissions"] and outcome.removed == []


def test_an_unchanged_role_costs_two_reads_and_no_write(session, clock, token):
    present = [{"id": 1, **RUN, "resourceId": None}, {"id": 2, **VIEW, "resourceId": ""}]
    script = Script([login(token), listing("v1", token, (7, "Airflow")), read("v1", token, role(present))])

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
            listing("v1", token, (7, "Airflow")),
            read("v1", token, shown),
            (expect("PUT", "/v1/usermanagement/roles/7", json=sent, token=token), answer(200, {**sent, "version": 3})),
        ]
    )

    outcome = run(ensure(session, [RUN, VIEW, KEY]), script, session=session)

    assert not outcome.created
    assert outcome.added == [VIEW] and outcome.removed == []
    assert script.sent[-1].json["existingRepositoryPermissions"] == REPOSITORY  # sent back as read
    assert outcome.summary() == "Updated role 'Airflow' (id 7): added view/repositorymanager; removed nothing."


def test_permissions_on_one_resource_go_when_the_caller_lists_such_permissions_of_that_type(session, clock, token):
    present = [{"id": 2, **VIEW, "resourceId": 44}, {"id": 6, **KEY, "resourceId": 9}]
    shown = role(present)
    wanted = {**VIEW, "resourceId": 45}
    sent = {**shown, "permissions": [{"id": 6, **KEY, "resourceId": 9}, {**wanted}]}
    script = Script(
        [
            login(token),
            listing("v1", token, (7, "Airflow")),
            read("v1", token, shown),
            (expect("PUT", "/v1/usermanagement/roles/7", json=sent, token=token), answer(200, {**sent, "version": 3})),
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
            listing("v1", token, (7, "Airflow")),
            read("v1", token, shown),
            (expect("PUT", "/v1/usermanagement/roles/7", json=sent, token=token), answer(200, {**sent, "version": 3})),
        ]
    )
    outcome = run(ensure(session, [RUN, KEY]), script, session=session)
    assert outcome.removed == [{"id": 2, **VIEW, "resourceId": None}] and outcome.added == [KEY]


def test_an_unscoped_permission_not_asked_for_alone_changes_nothing(session, clock, token):
    present = [{"id": 1, **RUN, "resourceId": None}, {"id": 8, "action": "viewauditlog", "resourceType": "auditlog"}]
    script = Script([login(token), listing("v1", token, (7, "Airflow")), read("v1", token, role(present))])
    assert not run(ensure(session, [RUN]), script, session=session).changed


def test_an_update_whose_answer_was_lost_reports_what_it_changed(session, clock, token):
    script = Script(
        [
            login(token),
            listing("v1", token, (7, "Airflow")),
            read("v1", token, role([{"id": 1, **RUN}], version=2)),
            (expect("PUT", "/v1/usermanagement/roles/7", body={"version": 2}, replay_safe=False), lost("timeout")),
            read("v1", token, role([{"id": 1, **RUN}, {"id": 9, **KEY}], version=3)),  # it was applied
        ]
    )
    outcome = run(ensure(session, [RUN, KEY]), script, session=session)
    assert outcome.changed and outcome.added == [KEY]


def test_a_new_description_is_an_update_and_none_keeps_the_old_one(session, clock, token):
    shown = role([{"id": 1, **RUN}])
    script = Script(
        [
            login(token),
            listing("v1", token, (7, "Airflow")),
            read("v1", token, shown),
            (
                expect("PUT", "/v1/usermanagement/roles/7", body={"description": "new", "principals": MEMBERS}),
                answer(204),
            ),
        ]
    )
    outcome = run(ensure(session, [RUN], description="new"), script, session=session)
    assert outcome.description_changed and outcome.description == "new" and outcome.added == []


def test_v2_is_used_where_v1_is_missing_and_remembered(session, clock, token):
    api = RoleApi()
    script = Script(
        [
            login(token),
            missing("POST", "/v1/usermanagement/roles/list"),
            listing("v2", token, (7, "Airflow")),
            read("v2", token, role([{"id": 1, **RUN}])),
            listing("v2", token, (7, "Airflow")),  # the second call goes to v2 at once
            read("v2", token, role([{"id": 1, **RUN}])),
        ]
    )

    def twice():
        first = yield from ensure(session, [RUN], api=api)
        second = yield from ensure(session, [RUN], api=api)
        return first, second

    first, second = run(twice(), script, session=session)
    assert api.version == "v2" and first.api_version == second.api_version == "v2"


def test_neither_version_answering_is_an_error(session, clock, token):
    script = Script(
        [
            login(token),
            missing("POST", "/v1/usermanagement/roles/list"),
            missing("POST", "/v2/usermanagement/roles/list"),
        ]
    )
    with pytest.raises(AutomationAnywhereError, match="neither the v1 nor the v2") as failed:
        run(ensure(session, [RUN]), script, session=session)
    assert failed.value.status == 404


def test_a_role_not_found_on_an_existing_api_is_not_taken_for_a_missing_api(session, clock, token):
    script = Script(
        [
            login(token),
            listing("v1", token, (7, "Airflow")),
            (
                expect("GET", "/v1/usermanagement/roles/7"),
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
            listing("v1", token),
            (expect("POST", "/v1/usermanagement/roles", replay_safe=False), lost("timeout")),
            listing("v1", token, (17, "Airflow")),
            read("v1", token, role([{"id": 1, **RUN}], role_id=17, principals=[])),
        ]
    )
    outcome = run(ensure(session, [RUN]), script, session=session)
    assert outcome.created and outcome.id == "17"


def test_a_lost_create_that_did_not_land_says_to_run_again(session, clock, token):
    script = Script(
        [
            login(token),
            listing("v1", token),
            (expect("POST", "/v1/usermanagement/roles"), answer(500, {"code": "E500", "message": "boom"})),
            listing("v1", token),
        ]
    )
    with pytest.raises(AmbiguousOutcomeError, match="run ensure_role again") as failed:
        run(ensure(session, [RUN]), script, session=session)
    assert (failed.value.status, failed.value.code) == (500, "E500")


def test_a_role_made_meanwhile_by_someone_else_is_updated_instead(session, clock, token):
    script = Script(
        [
            login(token),
            listing("v1", token),
            (expect("POST", "/v1/usermanagement/roles"), answer(409, {"code": "UM_ROLE_ALREADY_EXISTS"})),
            listing("v1", token, (8, "Airflow")),
            read("v1", token, role([{"id": 1, **RUN}], role_id=8)),
            (expect("PUT", "/v1/usermanagement/roles/8", body={"principals": MEMBERS}), answer(204)),
        ]
    )
    outcome = run(ensure(session, [RUN, KEY]), script, session=session)
    assert not outcome.created and outcome.added == [KEY]


def test_a_role_changed_during_the_update_is_read_again(session, clock, token):
    conflict = answer(409, {"code": "UM_ROLE_VERSION_CONFLICT", "message": "changed"})
    script = Script(
        [
            login(token),
            listing("v1", token, (7, "Airflow")),
            read("v1", token, role([{"id": 1, **RUN}], version=2)),
            (expect("PUT", "/v1/usermanagement/roles/7", body={"version": 2}), conflict),
            read("v1", token, role([{"id": 1, **RUN}, {"id": 9, **KEY}], version=3)),  # someone added it meanwhile
        ]
    )
    outcome = run(ensure(session, [RUN, KEY]), script, session=session)
    assert not outcome.changed


def test_a_role_that_keeps_changing_fails_after_three_updates(session, clock, token):
    conflict = answer(409, {"code": "UM_ROLE_VERSION_CONFLICT"})
    steps = [login(token), listing("v1", token, (7, "Airflow"))]
    for version in (1, 2, 3):
        steps += [read("v1", token, role([], version=version)), (expect("PUT", "/v1/usermanagement/roles/7"), conflict)]
    with pytest.raises(AutomationAnywhereError) as failed:
        run(ensure(session, [RUN]), Script(steps), session=session)
    assert failed.value.status == 409


def test_a_role_shown_without_members_is_not_updated(session, clock, token):
    script = Script([login(token), listing("v1", token, (7, "Airflow")), read("v1", token, role([], principals=None))])
    with pytest.raises(AutomationAnywhereError, match="could remove the role from its users"):
        run(ensure(session, [RUN]), script, session=session)


def test_several_roles_of_the_name_are_an_error(session, clock, token):
    script = Script([login(token), listing("v1", token, (7, "Airflow"), (8, "Airflow"))])
    with pytest.raises(AutomationAnywhereError, match="ids 7, 8"):
        run(ensure(session, [RUN]), script, session=session)


OUTSIDE = "../../../../outside/app"


def test_a_role_id_from_the_listing_that_is_not_a_number_is_never_put_into_a_path(session, clock, token):
    script = Script([login(token), listing("v1", token, (OUTSIDE, "Airflow"))])  # no GET follows
    with pytest.raises(AutomationAnywhereError, match=re.escape(f"role id '{OUTSIDE}', not a positive integer")):
        run(ensure(session, [RUN]), script, session=session)


def test_a_role_whose_own_answer_has_a_bad_id_is_never_updated(session, clock, token):
    shown = {**role([VIEW]), "id": OUTSIDE}
    script = Script(
        [
            login(token),
            listing("v1", token, (7, "Airflow")),
            (expect("GET", "/v1/usermanagement/roles/7", token=token), answer(200, shown)),
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


# -- copy_from ---------------------------------------------------------------------------------


def test_copy_from_reads_the_role_by_id_and_creates_the_new_one_with_its_permissions(session, clock, token):
    # "Bots Team" was built in the UI: its permission names are the Control Room's own.
    queues = {"id": 31, "action": "managequeues", "resourceType": "workloadmanagement", "resourceId": None}
    folder = {"id": 1, **RUN, "resourceId": 44, "label": "Finance"}
    source = {
        **role([queues, folder], role_id=12),
        "name": "Bots Team",
        "existingRepositoryPermissions": [{"id": 3}],
    }
    create_body = {
        "name": "Airflow",
        "description": "",
        "permissions": [queues, {"id": 1, **RUN, "resourceId": 44}, {**KEY, "resourceId": None}],
        "principals": [],  # neither its members nor its repository permissions are copied
    }
    script = Script(
        [
            login(token),
            listing("v1", token, (12, "Bots Team"), name="Bots Team"),
            read("v1", token, source),
            listing("v1", token),
            (
                expect("POST", "/v1/usermanagement/roles", json=create_body, replay_safe=False),
                answer(201, {**create_body, "id": 18}),
            ),
        ]
    )

    outcome = run(ensure(session, [KEY, {**RUN, "resourceId": 44}], copy_from="Bots Team"), script, session=session)

    assert outcome.created and outcome.copied_from == "Bots Team" and outcome.to_dict()["copied_from"] == "Bots Team"
    assert outcome.summary() == "Created role 'Airflow' (id 18) with 3 permission(s) (permissions of role 'Bots Team')."


def test_copy_from_an_existing_role_updates_it_to_the_copied_permissions(session, clock, token):
    source = {**role([{"id": 1, **RUN, "resourceId": None}], role_id=12), "name": "AAE_Basic"}
    shown = role([{"id": 5, **KEY, "resourceId": None}])
    sent = {**shown, "permissions": [{"id": 5, **KEY, "resourceId": None}, {"id": 1, **RUN, "resourceId": None}]}
    script = Script(
        [
            login(token),
            listing("v1", token, (12, "AAE_Basic"), name="AAE_Basic"),
            read("v1", token, source),
            listing("v1", token, (7, "Airflow")),
            read("v1", token, shown),
            (expect("PUT", "/v1/usermanagement/roles/7", json=sent), answer(200, {**sent, "version": 3})),
        ]
    )
    outcome = run(ensure(session, [], copy_from="AAE_Basic"), script, session=session)
    assert outcome.added == [{"id": 1, **RUN}] and outcome.removed == []
    assert outcome.summary().startswith("Updated role 'Airflow' (id 7) (permissions of role 'AAE_Basic'): added run/")


def test_copy_from_a_role_that_does_not_exist_fails_before_any_change(session, clock, token):
    script = Script([login(token), listing("v1", token, (13, "bots team"), name="Bots Team")])  # no create follows
    with pytest.raises(NameLookupError, match="copy_from: no role is named 'Bots Team'") as failed:
        run(ensure(session, [RUN], copy_from="Bots Team"), script, session=session)
    assert failed.value.field == "copy_from" and failed.value.values == ["Bots Team"]


@pytest.mark.parametrize(
    ("permissions", "message"),
    [(None, "shows no 'permissions' list"), ([{"id": 1, "action": "run"}], r"shows permissions\[0\] without")],
)
def test_a_role_to_copy_shown_without_readable_permissions_is_not_copied(session, clock, token, permissions, message):
    source = {"id": 12, "name": "Bots Team", "permissions": permissions}
    script = Script(
        [login(token), listing("v1", token, (12, "Bots Team"), name="Bots Team"), read("v1", token, source)]
    )
    with pytest.raises(AutomationAnywhereError, match=message) as failed:
        run(ensure(session, [RUN], copy_from="Bots Team"), script, session=session)
    assert failed.value.path == "/v1/usermanagement/roles/12"


@pytest.mark.parametrize(
    ("copy_from", "message"),
    [
        ("", "copy_from must be a non-empty string"),
        (5, "copy_from must be"),
        ("Airflow", "copy_from must name another"),
    ],
)
def test_bad_copy_from_is_refused_naming_the_field(copy_from, message):
    with pytest.raises(InvalidInputError, match=message):
        validate_copy_from(copy_from, "Airflow")
    assert validate_copy_from(None, "Airflow") is None and validate_copy_from("AAE_Basic", "Airflow") == "AAE_Basic"


# -- what the presets rest on ----------------------------------------------------------------------


def test_every_preset_permission_says_whether_aa_publishes_its_name_and_where_it_comes_from():
    listed = {(entry["action"], entry["resourceType"]) for preset in ROLE_PRESETS.values() for entry in preset}
    assert listed == set(PRESET_PERMISSIONS)
    assert UNCONFIRMED_PERMISSIONS == {("managemyqueues", "wlm"), ("generateapikey", "api")}
    assert PRESET_PERMISSIONS[("everyoneschedule", "taskscheduling")].confirmed
    assert "everyone's activity" not in PRESET_PERMISSIONS[("everyoneschedule", "taskscheduling")].ui_name
    assert all(entry.source for entry in PRESET_PERMISSIONS.values())


def test_the_permissions_page_shows_each_preset_permission_as_the_code_has_it():
    page = (Path(__file__).parents[2] / "docs" / "permissions.md").read_text(encoding="utf-8")
    for entry in PRESET_PERMISSIONS.values():
        row = (
            f"| `{entry.action}` / `{entry.resource_type}` | {entry.ui_name} | "
            f"{'yes' if entry.confirmed else '**no**'} | {entry.source} |"
        )
        assert row in page, row
