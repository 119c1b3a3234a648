"""
Reconciling a batch whose answer was lost: ``control_room.work_items.match_created`` for
batches of 100 and 1,000 items, without HTTP (the list requests it follows are counted in
``tests/control_room``). The queue holds, after the add's mark, 1,000 items of another
producer and every other item of the batch (the rest was not committed), served newest
first: every item not committed is compared with all candidates left.
"""

from __future__ import annotations

import time

from bench.common import Row

SIZES = (100, 1000)
REPEAT = 5


def case(n: int) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    batch = [{"invoice_id": f"INV-{i}", "amount": i} for i in range(n)]
    others = [{"id": str(i), "json": {"invoice_id": f"other-{i}", "amount": i}} for i in range(1, 1001)]
    ours = [{"id": str(2000 + i), "json": dict(batch[i])} for i in range(0, n, 2)]
    return batch, list(reversed(others + ours))


def run(n: int) -> tuple[int, float]:
    """Identities computed in one reconciliation, and its median CPU time (s)."""
    from airflow_provider_aa.control_room import work_items

    batch, candidates = case(n)
    counted = 0
    identity = work_items._identity

    def counting(data, key):  # type: ignore[no-untyped-def]
        nonlocal counted
        counted += 1
        return identity(data, key)

    work_items._identity = counting  # type: ignore[assignment]
    try:
        work_items.match_created(batch, candidates, dedupe_key=None)
    finally:
        work_items._identity = identity  # type: ignore[assignment]
    times = []
    for _ in range(REPEAT):
        started = time.process_time()
        matches = work_items.match_created(batch, candidates, dedupe_key=None)
        times.append(time.process_time() - started)
    if sum(match is not None for match in matches) != (n + 1) // 2:
        raise RuntimeError(f"a batch of {n:,}: {sum(m is not None for m in matches)} matched")
    return counted, sorted(times)[REPEAT // 2]


def rows(sizes: tuple[int, ...] = SIZES) -> list[Row]:
    scenario = "reconcile a lost batch (`match_created`, 1,000 other items in the queue)"
    out: list[Row] = []
    for n in sizes:
        identities, seconds = run(n)
        candidates = 1000 + (n + 1) // 2
        target = n + candidates
        out += [
            Row(
                scenario,
                f"{n:,}",
                "item identities computed",
                identities,
                None,
                f"target ≤ {target:,} (each item and candidate once): "
                f"{'met' if identities <= target else '**not met**'}",
            ),
            Row(scenario, f"{n:,}", "CPU time (ms)", seconds * 1000, None, f"median of {REPEAT}"),
        ]
    return out
