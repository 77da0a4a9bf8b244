"""Component ids of the leaders' cockpit pages (constants, shared by layouts, callbacks and tests)."""

LEADER_PERIOD = "leader-period"
LEADER_BODY = "leader-body"
LEADER_TICK = "leader-tick"
LEADER_REPORT_PDF = "leader-report-pdf"
LEADER_REPORT_XLSX = "leader-report-xlsx"
LEADER_DOWNLOAD = "leader-download"
LEADER_REPORT_STATUS = "leader-report-status"

RANKING_PERIOD = "ranking-period"
RANKING_INDICATOR = "ranking-indicator"
RANKING_TABLE = "ranking-table"
RANKING_MAP = "ranking-map"
RANKING_TICK = "ranking-tick"
RANKING_NOTE = "ranking-note"

UNIT_BODY = "leader-unit-body"
UNIT_PERIOD = "leader-unit-period"
UNIT_CODE = "leader-unit-code"
UNIT_TICK = "leader-unit-tick"

KPI_PERIOD = "leader-kpi-period"
KPI_UNIT = "leader-kpi-unit"
KPI_BODY = "leader-kpi-body"
KPI_TICK = "leader-kpi-tick"
KPI_OPEN = "leader-open-kpi"  # the link from /leader
