"""
``python -m airflow_provider_aa.check --conn-id ID [--json] [--write --queue NAME]``: what the
connection's Control Room offers its user, and what the provider will use there.

Read-only unless ``--write`` is given: the probes read lists, or send requests the Control
Room refuses (see ``control_room.capabilities``); no work item, deployment or role is made.
``--write`` adds one work item to ``--queue``, updates and deletes it. Exit code 0 when the
provider can do its core work (log in and list work queues), 1 otherwise, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence

from airflow_provider_aa.control_room.errors import AutomationAnywhereError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_aa.check",
        description="Check what an Automation Anywhere Control Room offers a connection's user.",
    )
    parser.add_argument("--conn-id", default="automation_anywhere_default", help="the Airflow connection id")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--write", action="store_true", help="also add, update and delete one work item in --queue")
    parser.add_argument("--queue", metavar="NAME", help="the work queue --write uses")
    parser.add_argument(
        "--item", metavar="JSON", default="{}", help="the work item's data for --write (the queue's attributes)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.write and not args.queue:
        parser.error("--write needs --queue NAME")
    try:
        item = json.loads(args.item)
    except ValueError as problem:
        parser.error(f"--item is not JSON: {problem}")
    if not isinstance(item, dict):
        parser.error("--item must be a JSON object")
    from airflow.providers.common.compat.sdk import AirflowNotFoundException

    from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook

    # Standard output is the report's alone (a --json reader parses all of it): what Airflow
    # and the hook log meanwhile goes to standard error.
    with contextlib.redirect_stdout(sys.stderr):
        hook = AutomationAnywhereHook(args.conn_id)
        try:
            url = hook.settings.base_url
            report = hook.check_compatibility(write_queue=args.queue if args.write else None, write_item=item)
        except (AutomationAnywhereError, AirflowNotFoundException) as problem:  # no such connection, or invalid
            print(f"Cannot check connection {args.conn_id!r}: {problem}", file=sys.stderr)
            return 1
        finally:
            hook.close()
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(f"Connection {args.conn_id!r}: {url}")
        print(report.text())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
