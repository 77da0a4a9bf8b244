"""Component ids of the triage desk (``/triage``) and the transparency page (``/transparency``).

Pages and tests import these; nothing spells an id by hand.
"""

from __future__ import annotations

TRIAGE = "triage"
TRIAGE_TICK = "triage-tick"  # periodic queue refresh
TRIAGE_FILTER_STATUS = "triage-filter-status"
TRIAGE_FILTER_CATEGORY = "triage-filter-category"
TRIAGE_FILTER_UNIT = "triage-filter-unit"
TRIAGE_FILTER_OWNER = "triage-filter-owner"
TRIAGE_FILTER_OVERDUE = "triage-filter-overdue"
TRIAGE_QUEUE = "triage-queue"
TRIAGE_SELECTED = "triage-selected"  # store: the selected ticket id
TRIAGE_VERSION = "triage-version"  # store: bumped after each action so views reload
TRIAGE_DETAIL = "triage-detail"
TRIAGE_MAP = "triage-map"
TRIAGE_MAP_LAYER = "triage-map-layer"
TRIAGE_MESSAGE = "triage-message"
TRIAGE_KEYS = "triage-keys"  # dummy output of the clientside keyboard installer

# Actions (static controls; the detail callback fills options and enables them)
TRIAGE_CATEGORY = "triage-category"
TRIAGE_CONFIRM = "triage-confirm"
TRIAGE_OWNER = "triage-owner"
TRIAGE_REASON = "triage-reason"
TRIAGE_ASSIGN = "triage-assign"
TRIAGE_START = "triage-start"
TRIAGE_ANSWER_TEXT = "triage-answer-text"
TRIAGE_ANSWER = "triage-answer"
TRIAGE_MERGE_TARGET = "triage-merge-target"
TRIAGE_MERGE = "triage-merge"
TRIAGE_PUBLISH = "triage-publish"
TRIAGE_AGREE = "triage-agree"
TRIAGE_DISAGREE = "triage-disagree"
ACTION_BUTTONS = (
    TRIAGE_CONFIRM, TRIAGE_ASSIGN, TRIAGE_START, TRIAGE_ANSWER, TRIAGE_MERGE, TRIAGE_PUBLISH,
    TRIAGE_AGREE, TRIAGE_DISAGREE,
)  # fmt: skip
# Keyboard shortcuts: key → button it clicks (and the accessKey of that button).
SHORTCUTS = {"c": TRIAGE_CONFIRM, "g": TRIAGE_ASSIGN, "s": TRIAGE_START, "r": TRIAGE_ANSWER,
             "m": TRIAGE_MERGE, "p": TRIAGE_PUBLISH}  # fmt: skip

# Leaders' numbers
TRIAGE_KPIS = "triage-kpis"
TRIAGE_STATS_BY = "triage-stats-by"
TRIAGE_STATS = "triage-stats"
TRIAGE_CSV = "triage-csv"
TRIAGE_CSV_DOWNLOAD = "triage-csv-download"

# Transparency page
TRANSPARENCY = "transparency"
TRANSPARENCY_LIST = "transparency-list"


def queue_row(ticket_id: str) -> dict[str, str]:
    """One row of the queue (pattern-matchable on ``ticket``)."""
    return {"type": "triage-row", "ticket": ticket_id}
