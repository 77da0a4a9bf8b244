"""Decide retry, dead-letter or fatal from the exception class, in one place (never from messages)."""

from __future__ import annotations

from enum import Enum

import psycopg
from psycopg import errors as pge


class Disposition(Enum):
    RETRY = "retry"  # transient: keep the batch, back off, try again
    DEAD_LETTER = "dead_letter"  # the data is at fault: isolate the bad rows and dead-letter them
    FATAL = "fatal"  # a bug or a broken schema: stop loudly


def disposition(exc: BaseException) -> Disposition:
    """Map a database exception to what the sink should do with the batch."""
    if isinstance(exc, (pge.DataError, pge.IntegrityError)) and not isinstance(exc, pge.UniqueViolation):
        return Disposition.DEAD_LETTER
    if isinstance(exc, (psycopg.OperationalError, pge.AdminShutdown, pge.CannotConnectNow,
                        pge.SerializationFailure, pge.DeadlockDetected, pge.QueryCanceled)):
        return Disposition.RETRY
    if isinstance(exc, psycopg.InterfaceError):  # connection closed under us
        return Disposition.RETRY
    return Disposition.FATAL
