"""
The hook's session against the emulator when token claims or the Control Room's clock cannot
be taken at their word: tokens without ``iat`` or with ``exp == iat``, and a pre-issued token
on a Control Room whose clock is far behind ours.
"""

from __future__ import annotations

import pytest

from airflow_provider_aa.hooks.automation_anywhere import AutomationAnywhereHook


@pytest.mark.parametrize("claims", ["exp_only", "exp_equals_iat"])
def test_tokens_without_a_usable_iat_cost_one_login_for_many_calls(aa_emulator, monkeypatch, claims):
    aa_emulator.configure(token_claims=claims, clock_offset=-3600.0)
    aa_emulator.use_connection(monkeypatch)
    hook = AutomationAnywhereHook()
    for _ in range(10):
        assert list(hook.list_work_items(20)) == []
    assert aa_emulator.counters.logins() == 1
    assert aa_emulator.counters.refreshes() == 0


@pytest.mark.parametrize("minutes_behind", [22, 60])
def test_a_pre_issued_token_is_used_when_the_control_rooms_clock_is_far_behind(
    aa_emulator, monkeypatch, minutes_behind
):
    aa_emulator.configure(clock_offset=-60.0 * minutes_behind)
    aa_emulator.use_connection(monkeypatch, auth_type="token")
    hook = AutomationAnywhereHook()
    for _ in range(3):
        assert list(hook.list_work_items(20)) == []
    assert aa_emulator.counters.statuses().get("401", 0) == 0
    assert aa_emulator.counters.refreshes() == 0
