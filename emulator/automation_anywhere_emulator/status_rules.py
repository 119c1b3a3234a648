"""
Which changes a person or the API may make to a work item, by its status. The system's own
moves (the bot taking an item, finishing it) are not checked here.

As Automation Anywhere documents them for Automation 360 ("WLM work item lifecycle",
docs.automationanywhere.com, 2025-09; "Work item status and actions"):

- New → On hold, Completed, Failed; On hold → New, Completed, Failed; Failed → New,
  Completed, On hold; Data error → New, Completed, On hold; Unknown → New, Completed, Failed.
- Ready to run and Active are set by the system only and cannot be edited.
- Completed cannot change status ("can only be deleted"); the lifecycle page still lists it
  among the editable states, so its data and result may change.
- Active items cannot be deleted (their actions are "View and Edit"); all others can.

Statuses outside that table (``SUCCESSFUL``, ``UNSUCCESSFUL``, ``PAUSED``, a bot's own) are
left unchecked: their rules are unconfirmed. The HTTP status (400) and the codes of a
refusal are the emulator's choice; a Control Room's are unconfirmed.
"""

from __future__ import annotations

from automation_anywhere_emulator.responses import ApiError

TRANSITION_NOT_ALLOWED = "WLM_STATUS_TRANSITION_NOT_ALLOWED"
NOT_EDITABLE = "WLM_WORKITEM_NOT_EDITABLE"
NOT_DELETABLE = "WLM_WORKITEM_NOT_DELETABLE"

#: Status → the statuses a person or the API may move an item in it to.
USER_MOVES: dict[str, frozenset[str]] = {
    "NEW": frozenset({"ON_HOLD", "COMPLETED", "FAILED"}),
    "ON_HOLD": frozenset({"NEW", "COMPLETED", "FAILED"}),
    "FAILED": frozenset({"NEW", "COMPLETED", "ON_HOLD"}),
    "DATA_ERROR": frozenset({"NEW", "COMPLETED", "ON_HOLD"}),
    "UNKNOWN": frozenset({"NEW", "COMPLETED", "FAILED"}),
    "COMPLETED": frozenset(),
}
#: Only the system moves items into or out of these.
SYSTEM_STATUSES = frozenset({"READY_TO_RUN", "ACTIVE"})


def check_update(item_id: int, current: str, wanted: str, *, changes_content: bool) -> None:
    """
    400 unless a person may set ``wanted`` on an item in ``current`` (the same status is no
    move) — or change its data or result (``changes_content``).
    """
    if current in SYSTEM_STATUSES and (wanted != current or changes_content):
        raise ApiError(
            400,
            NOT_EDITABLE,
            f"Work item {item_id} is {current} and cannot be changed",
            "Items that are ready to run or active are moved on by the system only",
        )
    if wanted == current:
        return
    if wanted in SYSTEM_STATUSES:
        raise ApiError(
            400,
            TRANSITION_NOT_ALLOWED,
            f"Work item {item_id} cannot be set to {wanted}",
            f"Only the system sets {wanted}; set NEW to queue the item again",
        )
    allowed = USER_MOVES.get(current)
    if allowed is not None and wanted in USER_MOVES and wanted not in allowed:
        raise ApiError(
            400,
            TRANSITION_NOT_ALLOWED,
            f"Work item {item_id} cannot move from {current} to {wanted}",
            f"From {current}: {', '.join(sorted(allowed)) or 'no status change, only delete'}",
        )


def check_delete(item_id: int, current: str) -> None:
    """400 for an item a bot is working on."""
    if current == "ACTIVE":
        raise ApiError(
            400, NOT_DELETABLE, f"Work item {item_id} is ACTIVE and cannot be deleted", "Wait until it has finished"
        )
