"""What a person reads when an action fails: a clear message in their language, never the
exception's text (that goes to the log, without the values a user typed)."""

from __future__ import annotations

import logging
import re

from ioc.i18n import Lang, t

log = logging.getLogger(__name__)

# Fragments of the domain's error messages → the catalogue key explaining them (first match wins).
_KNOWN: tuple[tuple[str, str], ...] = (
    ("reason to reassign", "error.reassign_reason"),
    ("needs a reason", "error.need_reason"),
    ("needs the answer text", "error.need_answer"),
    ("needs a category", "error.need_category"),
    ("needs an owner", "error.need_owner"),
    ("owner_kind must be", "error.need_owner"),
    ("needs the primary ticket", "error.need_primary"),
    ("needs a comment", "error.need_comment"),
    ("cannot apply", "error.transition"),
    ("may not", "error.forbidden"),
)
_BY_TYPE = {"TransitionError": "error.transition", "InvalidTransition": "error.transition",
            "NotAllowed": "error.forbidden", "PermissionError": "error.forbidden", "LookupError": "error.not_found",
            "KeyError": "error.not_found"}  # fmt: skip
_VALUES = re.compile(r"(, got |: ).*$")


def message_key(exc: BaseException) -> str:
    """The catalogue key that explains ``exc`` to a person (``error.generic`` when unknown)."""
    text = str(exc)
    for fragment, key in _KNOWN:
        if fragment in text:
            return key
    for cls in type(exc).__mro__:
        if cls.__name__ in _BY_TYPE:
            return _BY_TYPE[cls.__name__]
    return "error.generic"


def user_message(exc: BaseException, lang: Lang, where: str = "action") -> str:
    """A clear sentence for the page; the exception's type and its message (values cut) to the log."""
    key = message_key(exc)
    log.warning("%s failed (%s): %s: %s", where, key, type(exc).__name__, _VALUES.sub("", str(exc))[:200])
    return t(key, lang)
