"""Component ids of ``/admin/figures`` (KPI figures by hand), shared by layouts, callbacks and tests."""

FIGURES_PAGE = "admin-figures"
FIGURES_MESSAGE = "admin-figures-message"
FIGURES_CURRENT = "admin-figures-current"
FIGURES_HISTORY = "admin-figures-history"
FIGURES_VERSION = "admin-figures-version"  # bumped after each entry so the lists reload
FIGURES_INDICATOR = "admin-figure-indicator"
FIGURES_VALUE = "admin-figure-value"
FIGURES_AS_OF = "admin-figure-as-of"
FIGURES_SOURCE = "admin-figure-source"
FIGURES_NOTE = "admin-figure-note"
FIGURES_SAVE = "admin-figure-save"
FIGURES_DONE = "admin-figures-done"
