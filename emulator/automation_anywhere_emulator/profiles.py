"""
Control Room versions as profiles: named bundles of :class:`.config.EmulatorConfig` values.

``EmulatorConfig.for_profile(name, **changes)``, ``--profile NAME`` (``--list-profiles``
prints them). A profile sets only which API versions answer (and how); every other setting
keeps its default. What each is built from is in its ``sources``: sections of the project's
Control Room API reference (``control-room-api.md``) and the AA pages they cite. Every
profile keeps the emulator's documented rules: the work item lifecycle (:mod:`.status_rules`)
and API-key sessions that need the user's multiple-session permission (:mod:`.state`).

=========================  ====================================================================
profile                    what answers
=========================  ====================================================================
``automation-360-latest``  v2 login and refresh only; ``/v3/wlm`` with ``/v4/wlm`` for get
                           queue, get and update work item, the ``/v3/wlm`` update marked
                           deprecated; ``/v4`` and ``/v3`` deploy, API tasks (``/v4`` with
                           ``headlessRequest``); ``/v3/activity``; roles v2 and v1
``automation-360-v30``     v1 and v2 login; ``/v3/wlm`` only (``/v4/wlm`` 404); ``/v3`` deploy
                           only (``/v4/automations/deploy`` 404), so no API tasks;
                           ``/v3/activity``; roles v2 and v1
``on-prem-11.3``           v1 login only; ``/v2/wlm`` only (``/v3`` and ``/v4/wlm`` 404); no
                           ``/v3`` or ``/v4`` deploy, no API tasks (a cloud-only feature), no
                           ``/v3/activity``; roles v1 only
=========================  ====================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: The profile ``--profile`` and :meth:`.config.EmulatorConfig.for_profile` default to.
DEFAULT_PROFILE = "automation-360-latest"


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    sources: tuple[str, ...]
    settings: Mapping[str, Any]


_REFERENCE = "control-room-api.md"

PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile(
            "automation-360-latest",
            "Automation 360 cloud, v.34 and later: v2 login, /v4 deploy (API tasks too) and work item "
            "update, the /v3/wlm update deprecated but answering",
            (
                f"{_REFERENCE} Authentication: /v1/authentication is 11.x and Automation 360 up to v.32",
                f"{_REFERENCE} Workload management: from v.34 get queue and update work item move to /v4/wlm",
                f"{_REFERENCE} Known differences: /v3/wlm update deprecated from v.34, end of life v.38 or v.41 "
                "(AA API overview page)",
                f"{_REFERENCE} Bots: /v3 and /v4 automations/deploy",
                f"{_REFERENCE} API tasks: /v4/automations/deploy with headlessRequest (AA's API Task on-demand "
                "endpoint page; PixieBrix runApiTask)",
            ),
            {
                "auth_v1_enabled": False,
                "auth_v2_enabled": True,
                "wlm_v4_enabled": True,
                "wlm_v3_update_deprecated": True,
                "deploy_v4_enabled": True,
            },
        ),
        Profile(
            "automation-360-v30",
            "Automation 360 v.30: v1 and v2 login, no /v4 (work items on /v3/wlm, deploy on /v3 only, so no API tasks)",
            (
                f"{_REFERENCE} Authentication: /v1/authentication answers up to v.32",
                f"{_REFERENCE} Workload management: /v4/wlm only from v.34",
                f"{_REFERENCE} Corrections 2026-12, version drift: Control Rooms that lag have no /v4 deploy",
            ),
            {
                "auth_v1_enabled": True,
                "auth_v2_enabled": True,
                "wlm_v4_enabled": False,
                "wlm_v3_update_deprecated": False,
                "deploy_v4_enabled": False,
            },
        ),
        Profile(
            "on-prem-11.3",
            "Enterprise 11.3 on premises: v1 login only, work queues on /v2/wlm, no /v3 or /v4 "
            "deploy (no API tasks) or activity, roles on /v1/usermanagement",
            (
                f"{_REFERENCE} Authentication: /v1/authentication for 11.x, /v2 is Automation 360",
                f"{_REFERENCE} Workload management: 11.3 uses /v2/wlm, Automation 360 /v3/wlm",
                f"{_REFERENCE} Known differences: the documented role API is /v1/usermanagement/roles",
                f"{_REFERENCE} Bots: /v3 and /v4 deploy and /v3/activity are Automation 360 calls",
                f"{_REFERENCE} API tasks: AA documents them for Automation 360 Cloud only",
            ),
            {
                "auth_v1_enabled": True,
                "auth_v2_enabled": False,
                "wlm_v2_enabled": True,
                "wlm_v3_enabled": False,
                "wlm_v4_enabled": False,
                "wlm_v3_update_deprecated": False,
                "deploy_v3_enabled": False,
                "deploy_v4_enabled": False,
                "activity_v3_enabled": False,
                "roles_v2_enabled": False,
                "roles_v1_enabled": True,
            },
        ),
    )
}


def profile(name: str) -> Profile:
    """The profile ``name``; ``ValueError`` listing the profiles for an unknown one."""
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown emulator profile {name!r}; profiles: {', '.join(PROFILES)}") from None


def describe() -> str:
    """Each profile's name, description and sources, for ``--list-profiles``."""
    blocks = []
    for entry in PROFILES.values():
        default = " (default)" if entry.name == DEFAULT_PROFILE else ""
        lines = [f"{entry.name}{default}: {entry.description}", *(f"    source: {source}" for source in entry.sources)]
        blocks.append("\n".join(lines))
    return "\n".join(blocks)
