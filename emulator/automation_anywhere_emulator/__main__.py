"""
``python -m automation_anywhere_emulator``: run the emulator until SIGINT or SIGTERM.

At start it prints its URL, then (with ``--tls``) its certificate's path, then one ready
``export AIRFLOW_CONN_...=...`` line per auth mode for the seed's users, to paste into the
shell that runs Airflow.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
from collections.abc import Sequence

from automation_anywhere_emulator import ControlRoomEmulator, EmulatorConfig
from automation_anywhere_emulator.connections import connection_uri, env_var_name
from automation_anywhere_emulator.profiles import DEFAULT_PROFILE, PROFILES, describe
from automation_anywhere_emulator.tokens import TOKEN_CLAIMS

#: The command line's history: a run about every five minutes over two days, so that the
#: export example has something to show. (``EmulatorConfig`` and the pytest fixture start with
#: none: tests count the records they make.)
CLI_HISTORY_RUNS = 600

#: The connection id printed for each auth mode.
CONN_IDS = {
    "password": "automation_anywhere_default",
    "api_key": "automation_anywhere_api_key",
    "token": "automation_anywhere_token",
}


def _busy_queue(text: str) -> tuple[str, float]:
    """``QUEUE_ID=RATE`` → ``(queue id, items per second)``; the numbers are checked by EmulatorConfig."""
    queue_id, equals, rate = text.partition("=")
    try:
        if not equals:
            raise ValueError
        return queue_id.strip(), float(rate)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected QUEUE_ID=RATE, e.g. 20=50, not {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    defaults = EmulatorConfig()
    parser = argparse.ArgumentParser(
        prog="python -m automation_anywhere_emulator", description="Automation Anywhere Control Room emulator"
    )
    parser.add_argument(
        "--profile",
        choices=list(PROFILES),
        default=DEFAULT_PROFILE,
        help=f"the Control Room version to behave as (default {DEFAULT_PROFILE}; --list-profiles)",
    )
    parser.add_argument(
        "--list-profiles", action="store_true", help="print each profile's description and sources, and exit"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="refuse (400) request body fields, filter fields and headers the API reference does not document",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port (default 8765)")
    parser.add_argument("--seed", help="JSON file replacing the default seed (users, queues)")
    parser.add_argument("--token-lifetime", type=float, default=defaults.token_lifetime, metavar="S")
    parser.add_argument(
        "--token-claims",
        choices=TOKEN_CLAIMS,
        default=defaults.token_claims,
        help="what a token's claims say of its times: iat and exp, exp only (some gateways and older "
        f"Control Rooms), or exp equal to iat (default {defaults.token_claims})",
    )
    parser.add_argument("--pickup-delay", type=float, default=defaults.pickup_delay, metavar="S")
    parser.add_argument("--work-delay", type=float, default=defaults.work_delay, metavar="S")
    parser.add_argument("--bot-rate", type=float, default=defaults.bot_rate, metavar="N", help="items per second")
    parser.add_argument("--numeric-ids", action="store_true", help="ids as JSON numbers")
    parser.add_argument("--no-auth-v1", action="store_true", help="no /v1 login and refresh (v.33+)")
    parser.add_argument("--no-auth-v2", action="store_true", help="no /v2 login and refresh (before v.33)")
    parser.add_argument(
        "--activity-delay",
        type=float,
        default=defaults.activity_delay,
        metavar="S",
        help="seconds before a bot run's activity record is listed",
    )
    parser.add_argument("--no-deploy-v4", action="store_true", help="no /v4/automations/deploy (v3 only)")
    parser.add_argument(
        "--clock-offset",
        type=float,
        default=defaults.clock_offset,
        metavar="S",
        help="seconds the Control Room's clock is ahead (negative: behind)",
    )
    parser.add_argument(
        "--tls", action="store_true", help="serve HTTPS with a self-signed certificate (its path is printed)"
    )
    parser.add_argument(
        "--busy-queue",
        type=_busy_queue,
        action="append",
        default=[],
        metavar="QUEUE_ID=RATE",
        help="other producers add RATE items per second to that queue (repeatable)",
    )
    parser.add_argument(
        "--page-cap",
        type=int,
        default=defaults.page_cap,
        metavar="N",
        help="list pages hold at most N records, whatever was asked",
    )
    parser.add_argument(
        "--history-runs",
        type=int,
        default=CLI_HISTORY_RUNS,
        metavar="N",
        help=f"finished bot runs (and audit entries) in the two days before start, for exports "
        f"(default {CLI_HISTORY_RUNS}; 0: none)",
    )
    parser.add_argument(
        "--ignore-offset",
        action="store_true",
        help="list requests are answered as if page.offset were 0 (a broken proxy)",
    )
    parser.add_argument(
        "--ignore-filter",
        action="store_true",
        help="list requests are answered as if they had no filter (a Control Room that does not filter)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.list_profiles:
        print(describe())
        return 0
    # The profile's API versions, unless a flag switches one off as well.
    switched_off = {
        name: False
        for name, flag in (
            ("auth_v1_enabled", args.no_auth_v1),
            ("auth_v2_enabled", args.no_auth_v2),
            ("deploy_v4_enabled", args.no_deploy_v4),
        )
        if flag
    }
    try:
        config = EmulatorConfig.for_profile(
            args.profile,
            **switched_off,
            strict=args.strict,
            token_lifetime=args.token_lifetime,
            token_claims=args.token_claims,
            pickup_delay=args.pickup_delay,
            work_delay=args.work_delay,
            bot_rate=args.bot_rate,
            numeric_ids=args.numeric_ids,
            activity_delay=args.activity_delay,
            clock_offset=args.clock_offset,
            busy_queues=dict(args.busy_queue),
            page_cap=args.page_cap,
            ignore_offset=args.ignore_offset,
            ignore_filter=args.ignore_filter,
            history_runs=args.history_runs,
        )
        emulator = ControlRoomEmulator(config, args.host, args.port, seed=args.seed, tls=args.tls).start()
    except (OSError, TypeError, ValueError) as error:
        print(f"emulator: {error}", file=sys.stderr)
        return 2
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    print(f"Automation Anywhere Control Room emulator listening on {emulator.url}", flush=True)
    if emulator.ca_file:
        print(f"TLS certificate (trust it as a CA bundle): {emulator.ca_file}", flush=True)
    try:
        _print_connections(emulator, args.token_lifetime)
        strict = ", strict" if args.strict else ""
        print(f"# profile {args.profile}{strict} (--list-profiles)", flush=True)
        stopping.wait()
    finally:
        emulator.stop()
    return 0


def _print_connections(emulator: ControlRoomEmulator, token_lifetime: float) -> None:
    """One ``export AIRFLOW_CONN_<ID>=<URI>`` line per auth mode whose user the seed names."""
    extra = {"verify_ssl": emulator.ca_file} if emulator.ca_file else {}
    for auth_type, conn_id in CONN_IDS.items():
        try:
            # For mode token this mints a token of a new session of the running emulator.
            credentials = emulator.credentials(auth_type)
        except (KeyError, ValueError) as missing:
            # A --seed whose "credentials" name no user for this mode, or one without a password or API key.
            print(f"# no {env_var_name(conn_id)}: the seed gives no {auth_type} credentials ({missing})")
            continue
        # Password mode as it works in a deployment: the triggerer and the workers each hold
        # a session, which single-session logins would end (the seed's users may hold several).
        mode_extra = {"multiple_login": True} if auth_type == "password" else {}
        uri = connection_uri(emulator.url, credentials, auth_type, **mode_extra, **extra)
        print(f"export {env_var_name(conn_id)}={shlex.quote(uri)}")
        if auth_type == "token":
            # Each task starts again from the connection's token: once it has expired, tasks fail.
            print(
                f"# this token expires {token_lifetime:g} s after start (--token-lifetime); "
                'POST /_emulator/tokens {"username": "..."} issues another'
            )
    if emulator.ca_file:
        print("# verify_ssl is the emulator's certificate, deleted when the emulator stops")
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
