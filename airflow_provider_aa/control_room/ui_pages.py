"""
Pages of the Control Room's web UI, for links from Airflow to what a task drove. No I/O.

The Control Room's UI routes in the URL fragment (``https://<control room>/#/...``).
Confirmed in public code, not in AA's docs: ``#/activity/inprogress`` and
``#/activity/historical`` (the Activity pages; an AA browser extension and community
scrapers open them by URL). **Unconfirmed** (no AA page or public client shows them):
a page per run (``#/activity/historical/<deployment id>/view``) and a page per work queue
(``#/workload/queues/<queue id>``). See docs/control-room-api.md, "Web UI pages".
"""

from __future__ import annotations

from urllib.parse import quote


def run_page(base_url: str, deployment_id: str) -> str:
    """The page of a deployment's run under the Control Room at ``base_url`` (shape unconfirmed)."""
    return f"{base_url.rstrip('/')}/#/activity/historical/{quote(str(deployment_id), safe='')}/view"


def queue_page(base_url: str, queue_id: str) -> str:
    """The page of a work queue under the Control Room at ``base_url`` (shape unconfirmed)."""
    return f"{base_url.rstrip('/')}/#/workload/queues/{quote(str(queue_id), safe='')}"
