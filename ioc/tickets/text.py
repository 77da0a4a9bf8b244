"""Vietnamese text normalisation for citizen reports.

Reports arrive in every spelling: with or without diacritics, in decomposed Unicode from some
phone keyboards, with old-style tone placement (``hoà``/``hòa``), stretched letters (``quáaaa``)
and teencode (``k``/``ko`` = *không*, ``đc`` = *được*). Two views feed the classifier:

* :func:`word_view` — NFC, lowercase, teencode expanded, accents kept (meaning-bearing words);
* :func:`char_view` — the same, accent-folded (``đ`` → ``d``), so that a report typed without
  diacritics shares its character n-grams with its accented twin.

>>> word_view("Đường Lạch Tray ngập  quáaa, xe k đi đc")
'đường lạch tray ngập quá xe không đi được'
>>> char_view("Đường Lạch Tray ngập quá")
'duong lach tray ngap qua'
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Teencode and common abbreviations, keyed by the accent-folded token.
TEENCODE: dict[str, str] = {
    **dict.fromkeys(["k", "ko", "kg", "kh", "khg", "hok", "hk", "kô", "k0", "khong", "0k"], "không"),
    **dict.fromkeys(["dc", "dk", "duoc", "dcj"], "được"),
    **dict.fromkeys(["j", "ji"], "gì"),
    **dict.fromkeys(["ng", "ngi"], "người"),
    **dict.fromkeys(["wa", "qa"], "quá"),
    **dict.fromkeys(["cx", "cg", "cug"], "cũng"),
    **dict.fromkeys(["dg", "duog"], "đường"),
    **dict.fromkeys(["dt", "đt"], "điện thoại"),
    "ngta": "người ta",
    "bn": "bao nhiêu",
    "vs": "với",
    "ms": "mới",
    "r": "rồi",
    "trc": "trước",
    "sn": "số nhà",
    "tp": "thành phố",
    "p": "phường",
    "q": "quận",
    "cq": "cơ quan",
    "ubnd": "ủy ban nhân dân",
    "csgt": "cảnh sát giao thông",
    "mn": "mọi người",
    "mng": "mọi người",
    "bt": "bình thường",
    "lm": "làm",
    "ntn": "như thế nào",
    "nc": "nước",
    "bh": "bao giờ",
    "h": "giờ",
    "nhg": "nhưng",
    "tks": "cảm ơn",
    "thanks": "cảm ơn",
    "z": "vậy",
    "zay": "vậy",
    "ak": "à",
    "hnay": "hôm nay",
    "hqua": "hôm qua",
    "tgian": "thời gian",
    "xl": "xin lỗi",
}

_WORD = re.compile(r"\w+", re.UNICODE)
_RUN = re.compile(r"(\w)\1\1", re.UNICODE)
_MARKS = re.compile("[\u0300-\u036f]")  # combining diacritics (all Vietnamese tone and vowel marks)
# Old-style tone placement at the end of a syllable: "hoà" -> "hòa", "thuý" -> "thúy".
_TONES = "\u0300\u0301\u0303\u0309\u0323"  # grave, acute, tilde, hook above, dot below
_OLD_TONE = re.compile(rf"([oO])([aAeE])([{_TONES}])(?!\w)|([uU])([yY])([{_TONES}])(?!\w)")


def nfc(text: str) -> str:
    """Canonical composed Unicode; raises ``TypeError`` naming a non-string value."""
    if not isinstance(text, str):
        raise TypeError(f"expected text (str), got {type(text).__name__}: {text!r}")
    return unicodedata.normalize("NFC", text)


def _modern_tones(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)

    def move(m: re.Match[str]) -> str:
        if m.group(1):
            return m.group(1) + m.group(3) + m.group(2)
        return m.group(4) + m.group(6) + m.group(5)

    return unicodedata.normalize("NFC", _OLD_TONE.sub(move, decomposed))


def normalize(text: str) -> str:
    """NFC, lowercase, modern tone placement, stretched letters squeezed, whitespace collapsed."""
    text = _modern_tones(nfc(text).lower())
    return " ".join(_squeeze(text).split())


def _squeeze(text: str) -> str:
    """Collapse a letter stretched 3+ times, accented or not ("quáaaa" -> "quá"); "xoong" stays."""
    if not _RUN.search(fold(text)):
        return text  # the common case, without the per-character loop
    out: list[str] = []
    i = 0
    while i < len(text):
        j = i + 1
        base = fold(text[i])
        while j < len(text) and text[j].isalpha() and fold(text[j]) == base:
            j += 1
        out.append(text[i] if j - i >= 3 else text[i:j])
        i = j
    return "".join(out)


def fold(text: str) -> str:
    """Strip diacritics (``đ`` → ``d``): the spelling of a report typed without accents."""
    decomposed = unicodedata.normalize("NFD", nfc(text).replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", _MARKS.sub("", decomposed))


def _respell(token: str) -> str:
    """Teencode letter swaps at the start of a word: "fố" -> "phố", "wá" -> "quá".

    Long plain-ASCII words are left alone: they are more likely English ("wifi", "facebook").
    """
    if len(token) < 2 or (token.isascii() and len(token) > 3):
        return token
    if token[0] == "f":
        return "ph" + token[1:]
    if token[0] == "w":
        return "qu" + token[1:]
    return token


def tokens(text: str) -> list[str]:
    """Normalised word tokens with teencode expanded (expansions may add several words)."""
    out: list[str] = []
    for token in _WORD.findall(normalize(text)):
        expanded = TEENCODE.get(fold(token)) or TEENCODE.get(token)
        if expanded is None:
            out.append(_respell(token))
        else:
            out.extend(expanded.split())
    return out


@lru_cache(maxsize=32_768)
def word_view(text: str) -> str:
    """The accented view for word n-grams (cached: both feature views start from it)."""
    return " ".join(tokens(text))


def char_view(text: str) -> str:
    """The accent-folded view for character n-grams."""
    return fold(word_view(text))


def has_diacritics(text: str) -> bool:
    """Whether the text carries any Vietnamese diacritic (a report typed with accents)."""
    return fold(text) != nfc(text)
