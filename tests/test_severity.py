"""Severity colours (issue 17, item 6): one definition, rising with severity, readable without colour."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ioc.web.components import severity_badge
from layers.severity import SEVERITY_LEVELS, SEVERITY_STYLES, style_of

ROOT = Path(__file__).resolve().parents[1]


def luminance(hex_colour: str) -> float:
    """WCAG relative luminance of ``#RRGGBB``."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_each_level_is_darker_than_the_one_below() -> None:
    """Lightness alone orders the levels, so the palette reads for every kind of colour vision."""
    lum = [luminance(SEVERITY_STYLES[s].background) for s in SEVERITY_LEVELS]
    assert lum == sorted(lum, reverse=True) and len(set(lum)) == len(lum)
    assert all(a / b > 1.5 for a, b in zip(lum, lum[1:], strict=False))  # steps big enough to tell apart
    extreme = SEVERITY_STYLES["extreme"].background
    assert luminance(extreme) == min(lum)  # the most severe is the most alarming, never grey
    r, g, b = (int(extreme[i : i + 2], 16) for i in (1, 3, 5))
    assert r > 2 * max(g, b)  # a red, not a grey


def test_text_is_readable_and_an_icon_rises_with_the_level() -> None:
    for s in SEVERITY_LEVELS:
        st = SEVERITY_STYLES[s]
        assert contrast(st.background, st.text) >= 4.5, s
    icons = [SEVERITY_STYLES[s].icon for s in SEVERITY_LEVELS]
    assert [ord(i) for i in icons] == sorted(ord(i) for i in icons) and len(set(icons)) == 4
    assert style_of("nonsense") == SEVERITY_STYLES["moderate"]


def test_the_badge_shows_colour_icon_and_name() -> None:
    b = json.loads(
        json.dumps(
            severity_badge("extreme", "vi", count=3).to_plotly_json(), default=lambda o: o.to_plotly_json()
        )
    )
    text = json.dumps(b, ensure_ascii=False)
    assert "Đặc biệt nghiêm trọng: 3" in text and SEVERITY_STYLES["extreme"].icon in text
    assert b["props"]["style"] == {"background": "#800026", "color": "#FFFFFF"}


def test_every_page_uses_the_one_definition() -> None:
    """No other module or stylesheet maps severities to colours (Bootstrap names or hex)."""
    colour_map = re.compile(
        r"""["'](?:extreme|severe)["']\s*:\s*["'](?:#|dark|danger|secondary|warning|info)"""
    )
    css_colour = re.compile(r"\.ioc-sev[\w-]*[^{]*\{[^}]*(?:background|color)\s*:", re.S)
    found = []
    for path in [*ROOT.glob("ioc/**/*.py"), *ROOT.glob("layers/*.py"), *ROOT.glob("alerts/*.py"),
                 *ROOT.glob("ioc/web/assets/*.js")]:  # fmt: skip
        if path.name == "severity.py":
            continue
        if colour_map.search(path.read_text(encoding="utf-8")):
            found.append(str(path.relative_to(ROOT)))
    for path in ROOT.glob("ioc/web/assets/[1-9]*.css"):
        if css_colour.search(path.read_text(encoding="utf-8")):
            found.append(str(path.relative_to(ROOT)))
    assert found == []


def test_the_map_legend_is_the_palette() -> None:
    from layers.alerts import SEVERITY_COLORS

    assert SEVERITY_COLORS == {s: SEVERITY_STYLES[s].background for s in SEVERITY_LEVELS}
