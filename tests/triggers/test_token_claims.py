"""
The triggerer's shared session on virtual time when token claims cannot be taken at their
word: tokens without ``iat`` or with ``exp == iat``, from a Control Room an hour behind ours.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.triggers.test_automation_anywhere import add, first_event, trigger


@pytest.mark.parametrize("claims", ["exp_only", "exp_equals_iat"])
@pytest.mark.parametrize(("wait", "poke_interval"), [(5.0, 1.0), (20.0, 1.0), (3000.0, 60.0)])
def test_tokens_without_a_usable_iat_cost_one_login_per_lifetime(
    virtual_emulator, virtual_clients, virtual_time, claims, wait, poke_interval
):
    virtual_emulator.configure(token_claims=claims, clock_offset=-3600.0, token_lifetime=1200, pause_bot=True)
    ids = add({"n": 1})
    virtual_emulator.counters.reset()

    async def wait_a_while():
        waiting = asyncio.gather(
            *(
                first_event(trigger(ids, deadline_in=86400, poke_interval=poke_interval, clients=virtual_clients))
                for _ in range(5)
            )
        )
        await virtual_time.sleep(wait)
        virtual_emulator.configure(pause_bot=False)
        return await waiting

    events = asyncio.run(wait_a_while())
    assert all(event["status"] == "done" for event in events)
    assert virtual_emulator.counters.logins() == 1
    assert virtual_emulator.counters.refreshes() == int(wait // 1139)  # renewed a minute before each end
    assert virtual_emulator.counters.statuses().get("401", 0) == 0


@pytest.mark.parametrize("minutes_behind", [22, 60])
def test_a_pre_issued_token_serves_a_long_wait_when_the_control_rooms_clock_is_far_behind(
    virtual_emulator, virtual_clients, virtual_time, monkeypatch, minutes_behind
):
    virtual_emulator.configure(clock_offset=-60.0 * minutes_behind, token_lifetime=1200, pause_bot=True)
    virtual_emulator.use_connection(monkeypatch, auth_type="token")
    ids = add({"n": 1})
    virtual_emulator.counters.reset()

    async def wait_a_while():
        waiting = asyncio.gather(
            *(first_event(trigger(ids, deadline_in=86400, poke_interval=60, clients=virtual_clients)) for _ in range(5))
        )
        await virtual_time.sleep(3000)  # past the first token's end: renewed twice
        virtual_emulator.configure(pause_bot=False)
        return await waiting

    events = asyncio.run(wait_a_while())
    assert all(event["status"] == "done" for event in events), events[0]
    assert virtual_emulator.counters.refreshes() == 2
    assert virtual_emulator.counters.statuses().get("401", 0) == 0
