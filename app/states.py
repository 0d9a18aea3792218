"""The life of an answer: its statuses and the only moves allowed between them. Pure, no database."""

from __future__ import annotations

RECORDING = "recording"
UPLOADED = "uploaded"
PROCESSING = "processing"
READY = "ready"
FAILED = "failed"

STATUSES = (RECORDING, UPLOADED, PROCESSING, READY, FAILED)

# A failed answer may be retried (back to uploaded); a ready one may be reprocessed.
TRANSITIONS: dict[str, frozenset[str]] = {
    RECORDING: frozenset({UPLOADED, FAILED, READY}),  # READY: a written answer, nothing to process
    UPLOADED: frozenset({PROCESSING, FAILED}),
    PROCESSING: frozenset({READY, FAILED, UPLOADED}),
    READY: frozenset({UPLOADED}),
    FAILED: frozenset({UPLOADED}),
}

LABELS = {
    RECORDING: "Recording",
    UPLOADED: "Uploaded, waiting",
    PROCESSING: "Processing",
    READY: "Ready",
    FAILED: "Failed",
}


class IllegalTransition(ValueError):
    """Raised when a status change is not one of TRANSITIONS."""


def can_move(current: str, new: str) -> bool:
    """Whether an answer in `current` may move to `new`."""
    return new in TRANSITIONS.get(current, frozenset())


def check_move(current: str, new: str) -> None:
    """Refuse an illegal move with a message that names both states."""
    if not can_move(current, new):
        raise IllegalTransition(f"an answer cannot go from {current!r} to {new!r}")
