"""Component ids of the directive pages: the leader's board (``/directives``), the recipients' inbox
(``/inbox``), the task tracker (``/tasks``) and public warnings (``/warnings``)."""

from __future__ import annotations

# /directives
BOARD_TICK = "dir-tick"
BOARD_VERSION = "dir-version"
BOARD_COUNTS = "dir-counts"
BOARD_LIST = "dir-list"
BOARD_RATES = "dir-rates"
BOARD_DETAIL = "dir-detail"
BOARD_SELECTED = "dir-selected"
PICK = "dir-pick"  # pattern-matching type: {"type": PICK, "directive": id}
NEW_TITLE = "dir-new-title"
NEW_BODY = "dir-new-body"
NEW_RECIPIENTS = "dir-new-recipients"
NEW_PRIORITY = "dir-new-priority"
NEW_AMOUNT = "dir-new-amount"
NEW_ABOUT = "dir-new-about"  # store: {"kind": ..., "id": ...}
NEW_SEND = "dir-new-send"
NEW_FEEDBACK = "dir-new-feedback"
LEAD_RECIPIENT = "dir-lead-recipient"
LEAD_NOTE = "dir-lead-note"
LEAD_ACCEPT = "dir-lead-accept"
LEAD_RETURN = "dir-lead-return"
LEAD_GRANT = "dir-lead-grant"
LEAD_REFUSE = "dir-lead-refuse"
LEAD_CANCEL = "dir-lead-cancel"
LEAD_FEEDBACK = "dir-lead-feedback"
FILE_DOWNLOAD = "dir-file-download"
FILE_LINK = "dir-file"  # pattern-matching type: {"type": FILE_LINK, "file": uuid}

# /inbox
INBOX_TICK = "inbox-tick"
INBOX_VERSION = "inbox-version"
INBOX_LIST = "inbox-list"
INBOX_SELECTED = "inbox-selected"  # {"directive": id, "recipient": code}
INBOX_PICK = "inbox-pick"  # pattern-matching type
INBOX_DETAIL = "inbox-detail"
INBOX_NOTE = "inbox-note"
INBOX_NEW_DEADLINE = "inbox-new-deadline"
INBOX_UPLOAD = "inbox-upload"
INBOX_FILES = "inbox-files"  # store: uploaded file ids waiting for the next note
INBOX_ACK = "inbox-ack"
INBOX_PROGRESS = "inbox-progress"
INBOX_EXTEND = "inbox-extend"
INBOX_REPORT = "inbox-report"
INBOX_FEEDBACK = "inbox-feedback"

# /tasks
TASKS_TICK = "tasks-tick"
TASKS_GROUPS = "tasks-groups"
TASKS_UNITS = "tasks-units"
TASKS_LIST = "tasks-list"
TASKS_UPLOAD = "tasks-upload"
TASKS_PLAN = "tasks-plan"
TASKS_FEEDBACK = "tasks-feedback"
TASKS_VERSION = "tasks-version"

# /warnings
WARN_UNITS = "warn-units"
WARN_HEADLINE = "warn-headline"
WARN_TEXT = "warn-text"
WARN_INSTRUCTION = "warn-instruction"
WARN_SEVERITY = "warn-severity"
WARN_URGENCY = "warn-urgency"
WARN_EXPIRES = "warn-expires"
WARN_ALERT = "warn-alert"  # store: the alert id it comes from
WARN_SAVE = "warn-save"
WARN_FEEDBACK = "warn-feedback"
WARN_LIST = "warn-list"
WARN_LOG = "warn-log"
WARN_VERSION = "warn-version"
WARN_ACT = "warn-act"  # pattern-matching type: {"type": WARN_ACT, "warning": id, "action": ...}
WARN_REASON = "warn-reason"
WARN_TICK = "warn-tick"
