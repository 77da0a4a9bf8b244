"""Message catalogue (Vietnamese first, English one click away) and Vietnamese number/date formats.

Every string a user sees comes from ``vi.json`` / ``en.json`` through :func:`t`. Times are shown in
Asia/Ho_Chi_Minh. Vietnamese writes ``1.234,5`` and ``23/11/2026 14:05``.

>>> t("nav.map", "vi"), t("nav.map", "en")
('Bản đồ', 'Map')
>>> fmt_number(12345.678, "vi", 1), fmt_number(12345.678, "en", 1)
('12.345,7', '12,345.7')
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Literal
from zoneinfo import ZoneInfo

Lang = Literal["vi", "en"]
LANGS: tuple[Lang, ...] = ("vi", "en")
DEFAULT_LANG: Lang = "vi"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


class UnknownMessage(KeyError):
    """A message key that is missing from a catalogue."""


@cache
def catalogue(lang: Lang) -> dict[str, str]:
    """The messages of one language (read once)."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}: expected one of {LANGS}")
    text = resources.files("ioc.i18n").joinpath(f"{lang}.json").read_text(encoding="utf-8")
    return dict(json.loads(text))


def lang_or_default(value: object) -> Lang:
    """A supported language code, or the default for anything else (cookies are user input)."""
    return value if value in LANGS else DEFAULT_LANG  # type: ignore[return-value]


def t(key: str, lang: Lang = DEFAULT_LANG, **params: object) -> str:
    """The message ``key`` in ``lang`` with ``{name}`` placeholders filled from ``params``."""
    try:
        text = catalogue(lang)[key]
    except KeyError:
        raise UnknownMessage(f"no message {key!r} in the {lang!r} catalogue") from None
    return text.format(**params) if params else text


def fmt_number(value: float | int | None, lang: Lang = DEFAULT_LANG, decimals: int = 0) -> str:
    """``1.234,5`` in Vietnamese, ``1,234.5`` in English; ``—`` for a missing value."""
    if value is None:
        return "—"
    text = f"{value:,.{decimals}f}"
    if lang == "vi":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def local(dt: datetime) -> datetime:
    """An aware datetime in Hải Phòng time; naive datetimes are refused (they hide bugs)."""
    if dt.tzinfo is None:
        raise ValueError(f"naive datetime {dt!r}: expected an aware datetime")
    return dt.astimezone(TZ)


def fmt_time(dt: datetime | None, lang: Lang = DEFAULT_LANG) -> str:
    """``14:05:09`` (24-hour clock in both languages, local time)."""
    return "—" if dt is None else local(dt).strftime("%H:%M:%S")


def fmt_datetime(dt: datetime | None, lang: Lang = DEFAULT_LANG) -> str:
    """``14:05 23/11/2026`` in Vietnamese, ``23 Nov 2026 14:05`` in English (local time)."""
    if dt is None:
        return "—"
    d = local(dt)
    if lang == "vi":
        return d.strftime("%H:%M %d/%m/%Y")
    return d.strftime("%d %b %Y %H:%M")


def fmt_date(dt: datetime, lang: Lang = DEFAULT_LANG) -> str:
    """``Thứ Hai, 23/11/2026`` / ``Monday, 23 Nov 2026`` (local date)."""
    d = local(dt)
    weekday = t(f"weekday.{d.weekday()}", lang)
    return f"{weekday}, {d.strftime('%d/%m/%Y')}" if lang == "vi" else f"{weekday}, {d.strftime('%d %b %Y')}"


def cli_time(value: datetime | None, seconds: bool = False) -> str:
    """A moment for a terminal: Vietnam time with its offset, sortable ("2026-11-23 18:30+07:00");
    ``—`` when missing. Every CLI prints times this way, as the app shows them in Vietnam time."""
    if value is None:
        return "—"
    if value.tzinfo is None:
        raise ValueError("cli_time needs an aware datetime")
    return value.astimezone(TZ).isoformat(sep=" ", timespec="seconds" if seconds else "minutes")
