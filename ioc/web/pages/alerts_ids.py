"""Component ids of the alert lifecycle page (``/alerts``)."""

from __future__ import annotations

TICK = "alerts-tick"
FILTER_STATE = "alerts-filter-state"
FILTER_CLASS = "alerts-filter-class"
FILTER_SEVERITY = "alerts-filter-severity"
TABLE = "alerts-table"
DETAIL = "alerts-detail"
SELECTED = "alerts-selected"  # alert id (str) the operator picked
COMMENT = "alerts-comment"
ASSIGNEE = "alerts-assignee"
SILENCE_UNTIL = "alerts-silence-until"
ACK = "alerts-ack"
ASSIGN = "alerts-assign"
RESOLVE = "alerts-resolve"
SILENCE = "alerts-silence"
CAP = "alerts-cap"
CAP_DOWNLOAD = "alerts-cap-download"
FEEDBACK = "alerts-feedback"
ACTIONS = "alerts-actions"
VERSION = "alerts-version"  # bumped after each action so the list refreshes at once
NEXT_STEP = "alerts-next-step"  # pattern id type of the links to a directive / a public warning
