"""``python -m airflow_provider_aa.emulator``: run the emulator until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from airflow_provider_aa.emulator import ControlRoomEmulator, EmulatorConfig


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
        prog="python -m airflow_provider_aa.emulator", description="Automation Anywhere Control Room emulator"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port (default 8765)")
    parser.add_argument("--seed", help="JSON file replacing the default seed (users, queues)")
    parser.add_argument("--token-lifetime", type=float, default=defaults.token_lifetime, metavar="S")
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
        "--ignore-offset",
        action="store_true",
        help="list requests are answered as if page.offset were 0 (a broken proxy)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = EmulatorConfig(
            token_lifetime=args.token_lifetime,
            pickup_delay=args.pickup_delay,
            work_delay=args.work_delay,
            bot_rate=args.bot_rate,
            numeric_ids=args.numeric_ids,
            auth_v1_enabled=not args.no_auth_v1,
            auth_v2_enabled=not args.no_auth_v2,
            activity_delay=args.activity_delay,
            deploy_v4_enabled=not args.no_deploy_v4,
            clock_offset=args.clock_offset,
            busy_queues=dict(args.busy_queue),
            page_cap=args.page_cap,
            ignore_offset=args.ignore_offset,
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
        stopping.wait()
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
