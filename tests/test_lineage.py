"""The OpenLineage datasets' names (the tasks' events themselves: tests/e2e/test_lineage.py)."""

from __future__ import annotations

from airflow_provider_aa.lineage import (
    AutomationAnywhereDeploymentRunFacet,
    deployment_lineage,
    file_dataset,
    namespace,
)


def test_a_control_room_namespace_is_its_host_and_port_without_path():
    assert namespace("https://proxy.example.com:8443/aa/cr") == "automation-anywhere://proxy.example.com:8443"
    assert namespace("https://cr.example.com") == "automation-anywhere://cr.example.com"


def test_written_files_are_named_as_openlineage_names_files_and_object_storage():
    assert (file_dataset("/data/aa/x.jsonl").namespace, file_dataset("/data/aa/x.jsonl").name) == (
        "file",
        "/data/aa/x.jsonl",
    )
    local = file_dataset("file:///data/aa/x.jsonl")
    assert (local.namespace, local.name) == ("file", "/data/aa/x.jsonl")
    s3 = file_dataset("s3://my-bucket/aa/bot_runs/a.jsonl")
    assert (s3.namespace, s3.name) == ("s3://my-bucket", "aa/bot_runs/a.jsonl")


def test_a_deploy_without_a_deployment_reports_no_facet():
    assert deployment_lineage(None).run_facets == {}
    facet = deployment_lineage({"deployment_id": "d-1", "bot_id": "501"}).run_facets["automationAnywhereDeployment"]
    assert isinstance(facet, AutomationAnywhereDeploymentRunFacet)
    assert (facet.deploymentId, facet.botId, facet.status) == ("d-1", "501", None)
