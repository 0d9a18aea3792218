"""The lifecycles of an answer and of a candidate: their statuses and the only moves allowed between
them. Pure, no database: app.services.lifecycle writes every move, after checking it here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class AnswerStatus(StrEnum):
    """Where one take is, from its first chunk to review-ready media (stored as the value)."""

    RECORDING = "recording"
    UPLOADED = "uploaded"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class CandidateStatus(StrEnum):
    """Where one candidate is in their interview (stored as the value). EXPIRED is never stored: a
    candidate who has not finished shows as expired once the link's expiry passed
    (Candidate.effective_status): the clock, not a job, makes it so."""

    INVITED = "invited"
    STARTED = "started"
    COMPLETED = "completed"
    EXPIRED = "expired"


# The stored statuses that show as EXPIRED once the link's expiry passed.
UNFINISHED = (CandidateStatus.INVITED, CandidateStatus.STARTED)


class IllegalTransition(ValueError):
    """Raised when a status change is not one of its lifecycle's moves."""


@dataclass(frozen=True)
class Lifecycle:
    """One lifecycle's moves: each status, and the statuses it may move to."""

    noun: str
    moves: Mapping[str, frozenset[str]]

    def can_move(self, current: str, new: str) -> bool:
        """Whether a row in `current` may move to `new`."""
        return new in self.moves.get(current, frozenset())

    def check_move(self, current: str, new: str) -> None:
        """Refuse an illegal move with a message that names both statuses."""
        if not self.can_move(current, new):
            raise IllegalTransition(f"{self.noun} cannot go from '{current}' to '{new}'")


_A = AnswerStatus
# A failed answer may be retried (back to uploaded); a ready one may be reprocessed.
ANSWER = Lifecycle("an answer", {
    _A.RECORDING: frozenset({_A.UPLOADED, _A.FAILED, _A.READY}),  # READY: a written answer
    _A.UPLOADED: frozenset({_A.PROCESSING, _A.FAILED}),
    _A.PROCESSING: frozenset({_A.READY, _A.FAILED, _A.UPLOADED}),
    _A.READY: frozenset({_A.UPLOADED}),
    _A.FAILED: frozenset({_A.UPLOADED}),
})

_C = CandidateStatus
# Consent starts the interview; finishing it, with every question answered, completes it.
CANDIDATE = Lifecycle("a candidate", {
    _C.INVITED: frozenset({_C.STARTED}),
    _C.STARTED: frozenset({_C.COMPLETED}),
})


class MailStatus(StrEnum):
    """Where one outgoing e-mail (an outbox row) is (stored as the value)."""

    QUEUED = "queued"  # waiting for a worker, perhaps until next_attempt_at after a refusal
    SENDING = "sending"  # claimed by a worker, which talks to the SMTP server now
    SENT = "sent"  # the SMTP server accepted it (250 after DATA)
    FAILED = "failed"  # refused for good (5xx), or given up on after every retry; reason kept
    CANCELLED = "cancelled"  # never sent: made pointless before it went (a newer link, an erasure)


_M = MailStatus
# SENDING -> QUEUED: a transient refusal (retried later), or a worker that died mid-send (its claim
# went stale): the message goes again with the same Message-ID.
MAIL = Lifecycle("an e-mail", {
    _M.QUEUED: frozenset({_M.SENDING, _M.CANCELLED, _M.FAILED}),
    _M.SENDING: frozenset({_M.SENT, _M.QUEUED, _M.FAILED, _M.CANCELLED}),
})
