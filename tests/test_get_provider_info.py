"""The provider's metadata: valid for Airflow, discovered by Airflow, consistent with the code."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from importlib import resources
from importlib.metadata import distribution
from pathlib import Path

import jsonschema
from airflow.providers.common.compat.sdk import redact

from airflow_provider_aa import __version__
from airflow_provider_aa.control_room.settings import DEFAULT_MAX_RESPONSE_BYTES, KNOWN_EXTRAS
from airflow_provider_aa.get_provider_info import get_provider_info
from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook


def test_provider_info_validates_against_airflows_schema():
    schema = json.loads(resources.files("airflow").joinpath("provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)


def test_package_name_is_the_distribution_name_and_the_entry_point_is_registered():
    info = get_provider_info()
    dist = distribution(info["package-name"])
    entry_points = [ep for ep in dist.entry_points if ep.group == "apache_airflow_provider"]
    assert [ep.load() for ep in entry_points] == [get_provider_info]


def test_versions_is_the_one_version_of_the_package():
    info = get_provider_info()
    assert info["versions"] == [__version__] == [distribution(info["package-name"]).version]


def test_connection_type_matches_the_hook():
    (conn_type,) = get_provider_info()["connection-types"]
    module, _, name = conn_type["hook-class-name"].rpartition(".")
    assert getattr(importlib.import_module(module), name) is AutomationAnywhereHook
    assert conn_type["connection-type"] == AutomationAnywhereHook.conn_type
    assert conn_type["hook-name"] == AutomationAnywhereHook.hook_name == "Automation Anywhere"


def test_connection_form_declares_every_extra_and_masks_the_secret_ones():
    (conn_type,) = get_provider_info()["connection-types"]
    fields = conn_type["conn-fields"]
    assert set(fields) == set(KNOWN_EXTRAS)
    assert fields["max_response_bytes"]["schema"]["default"] == DEFAULT_MAX_RESPONSE_BYTES
    assert fields["auth_type"]["schema"]["enum"] == ["password", "api_key", "token"]
    assert {name for name, field in fields.items() if field["schema"].get("format") == "password"} == {
        "api_key",
        "token",
    }
    assert all(field["description"] for field in fields.values())
    # Airflow masks the value of every extra whose name holds a sensitive word ("token" in
    # "token_cache"): the form's Test button then sends "***" for a switch. Only secrets may.
    assert {name for name in fields if redact("value", name) != "value"} == {"api_key", "token"}
    # Where sessions end each other is said in the form, before it happens in a deployment.
    assert all(
        words in fields["multiple_login"]["description"]
        for words in ("deferrable", "UM1114", "Allow multiple sessions")
    )
    # An API key does not bypass that setting (AA's 2024-08 "multi-login user" page).
    assert all(words in fields["api_key"]["description"] for words in ("UM1114", "Allow multiple sessions"))
    assert conn_type["ui-field-behaviour"]["relabeling"] == {
        "host": "Control Room URL",
        "login": "Username",
        "password": "Password",
    }


def test_documented_modules_exist():
    info = get_provider_info()
    for kind in ("hooks", "operators", "sensors", "triggers"):
        for entry in info[kind]:
            for module in entry["python-modules"]:
                importlib.import_module(module)


def test_airflow_providers_list_shows_the_provider(tmp_path):
    airflow = Path(sys.executable).with_name("airflow")
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    listed = subprocess.run(
        [str(airflow), "providers", "list", "--output", "json"], env=env, capture_output=True, text=True, timeout=120
    )
    assert listed.returncode == 0, listed.stderr
    providers = {row["package_name"]: row for row in json.loads(listed.stdout)}
    assert (
        providers["airflow-provider-automation-anywhere"]["version"]
        == distribution("airflow-provider-automation-anywhere").version
    )
