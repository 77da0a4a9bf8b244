"""The one definition of how a severity looks, used by every badge, marker, pin and legend.

A sequential palette (ColorBrewer YlOrRd): each level is darker and redder than the one below, so the
order reads without telling hues apart (colour-blind safe), and every use shows the level's name and
a rising bar icon too. The most severe (Đặc biệt nghiêm trọng) is the darkest, most alarming one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SeverityStyle:
    background: str
    text: str  # the text colour on that background (WCAG AA contrast)
    icon: str  # rising bars: readable without colour


SEVERITY_LEVELS = ("minor", "moderate", "severe", "extreme")  # least to most severe
SEVERITY_STYLES = {
    "minor": SeverityStyle("#FED976", "#1B1B1B", "▂"),
    "moderate": SeverityStyle("#FD8D3C", "#1B1B1B", "▄"),
    "severe": SeverityStyle("#E31A1C", "#FFFFFF", "▆"),
    "extreme": SeverityStyle("#800026", "#FFFFFF", "█"),
}


def style_of(severity: str | None) -> SeverityStyle:
    """The style of a severity; an unknown one draws as moderate."""
    return SEVERITY_STYLES.get(severity or "", SEVERITY_STYLES["moderate"])


def level_of(severity: str | None) -> str:
    return severity if severity in SEVERITY_STYLES else "moderate"
