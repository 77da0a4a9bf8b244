"""What a person must never read on a screen: codes (snake_case, registry ids, "UBND 11443", p-values,
exception text) in any language, and English words in the Vietnamese view. Used by the page tests."""

from __future__ import annotations

import re

# Code-like tokens, each with the reason it is reported.
CODE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("snake_case", re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")),
    ("registry id", re.compile(r"\b(?:cam|seg|air|wl|rain|rev|ca|soc|hps|hotline|web)-[a-z0-9-]+\b")),
    ("unit code", re.compile(r"\b(?:UBND|People's Committee of|Đơn vị:?) \d{3,6}\b")),
    ("p-value", re.compile(r"\bp\s*=\s*[0-9.]+(?:e[-+]?\d+)?", re.IGNORECASE)),
    ("exception", re.compile(r"Traceback|Exception|Error:|got None|\bgot '|KeyError|ValueError")),
)
# English words a Vietnamese screen has no business showing (not Vietnamese syllables without marks:
# "to", "in", "no", "an" are Vietnamese, so they are not here).
ENGLISH = frozenset(
    "the and of with for from selected select search loading error none null undefined nan true false failed "
    "unknown found options clear all page update updated alert alerts map report reports ticket tickets wall "
    "traffic data live late silent minutes hours ago agency department ward user users password login logout "
    "submit save cancel yes open closed new assigned resolved received severity severe moderate minor extreme "
    "status state class category categories pending deadline overdue answer answered reason assign".split()
)
# Words and names that are correct in a Vietnamese screen (product and standard names, units).
ALLOWED = frozenset(
    {"IOC", "CAP", "SOC", "KPI", "CSV", "XML", "PDF", "GeoJSON", "Open311", "OpenStreetMap", "OSM", "ODbL",
     "GSHHG", "Natural", "Earth", "Leaflet", "Camera", "camera", "Smart", "Hải", "Phòng", "AQI", "VN_AQI",
     "PM2.5", "PM10", "NO2", "SO2", "CO", "O3", "km/h", "km", "µg/m³", "TOTP", "Email", "email", "online",
     "offline", "Wifi", "GPS", "ID", "Zalo", "SMS", "VNeID", "Dashboard"}
)  # fmt: skip
_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")


def code_tokens(text: str, allowed: frozenset[str] = ALLOWED) -> list[str]:
    """Every code-like token in ``text``, as "reason: token"."""
    out = []
    for reason, pattern in CODE_PATTERNS:
        for m in pattern.finditer(text):
            if m.group(0) not in allowed:
                out.append(f"{reason}: {m.group(0)}")
    return out


def english_words(text: str, allowed: frozenset[str] = ALLOWED) -> list[str]:
    """English words in a text meant to be Vietnamese."""
    return sorted({w for w in _WORD.findall(text) if w not in allowed and w.lower() in ENGLISH})


def problems(text: str, lang: str, allowed: frozenset[str] = ALLOWED) -> list[str]:
    """Code-like tokens in any language, and English words when ``lang`` is Vietnamese."""
    found = code_tokens(text, allowed)
    if lang == "vi":
        found += [f"English: {w}" for w in english_words(text, allowed)]
    return found
