"""Adapt `QgsProcessingFeedback` to the backend's `Progress` protocol and forward its log lines."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from qgis.core import QgsProcessingFeedback


class FeedbackProgress:
    """A backend `Progress` that reports to a Processing feedback object.

    Args:
        feedback: The algorithm's feedback (None: progress goes nowhere, never cancelled).
        start: Fraction of the feedback's bar where this backend call begins.
        end: Fraction where it ends; lets one algorithm chain several backend calls.
    """

    def __init__(
        self, feedback: QgsProcessingFeedback | None, start: float = 0.0, end: float = 1.0
    ) -> None:
        self.feedback = feedback
        self.start = start
        self.end = end
        self._last_line = ""

    def set_fraction(self, fraction: float) -> None:
        """Move the progress bar; `fraction` in [0, 1] of this call's share."""
        if self.feedback is not None:
            clipped = min(max(float(fraction), 0.0), 1.0)
            self.feedback.setProgress(100.0 * (self.start + (self.end - self.start) * clipped))

    def info(self, message: str) -> None:
        """Show a line in the algorithm's log."""
        self._last_line = message
        if self.feedback is not None:
            self.feedback.pushInfo(message)

    def warning(self, message: str) -> None:
        """Show a highlighted line (not part of the protocol; used by the plugin itself)."""
        if self.feedback is not None:
            self.feedback.pushWarning(message)

    def is_cancelled(self) -> bool:
        """True once the user pressed Cancel."""
        return self.feedback is not None and self.feedback.isCanceled()

    def repeats_last_line(self, message: str) -> bool:
        """True if `message` was just shown through `info` (avoid printing it twice)."""
        return message == self._last_line


class _FeedbackLogHandler(logging.Handler):
    """Send backend log records to the feedback: INFO as info lines, WARNING and up highlighted.

    Only records of the thread that runs the algorithm are forwarded: two algorithms running
    side by side (batch, modeler) must not print into each other's log.
    """

    def __init__(self, progress: FeedbackProgress) -> None:
        super().__init__(level=logging.INFO)
        self.progress = progress
        self.thread_id = threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread_id:
            return
        message = record.getMessage()
        if self.progress.repeats_last_line(message):
            return
        if record.levelno >= logging.WARNING:
            self.progress.warning(message)
        else:
            self.progress.info(message)


@contextmanager
def forward_logs(logger_name: str, progress: FeedbackProgress) -> Iterator[None]:
    """Within the block, the backend's log lines (device, engine, tiles) reach the user."""
    logger = logging.getLogger(logger_name)
    handler = _FeedbackLogHandler(progress)
    previous_level = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)
