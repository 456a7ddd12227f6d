"""The tiny progress/cancel protocol that crosses the plugin -> backend boundary."""

from __future__ import annotations

import logging
from typing import Protocol

from .errors import Cancelled

log = logging.getLogger(__name__)


class Progress(Protocol):
    """What a long-running backend call reports to, and asks, its caller."""

    def set_fraction(self, fraction: float) -> None:
        """Report progress in [0, 1]."""

    def info(self, message: str) -> None:
        """Log a line the user should see."""

    def is_cancelled(self) -> bool:
        """Return True once the user asked to stop."""


class NullProgress:
    """Progress that logs lines through `logging` and is never cancelled."""

    def set_fraction(self, fraction: float) -> None:
        pass

    def info(self, message: str) -> None:
        log.info(message)

    def is_cancelled(self) -> bool:
        return False


def check_cancelled(progress: Progress | None) -> None:
    """Raise `Cancelled` if the caller asked to stop."""
    if progress is not None and progress.is_cancelled():
        raise Cancelled("cancelled by the user")
