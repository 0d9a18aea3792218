"""The tables, one module per part of the product. Integer keys inside; a random public_id in every
URL, link and object key. Import them from here (`from app.models import Answer`). The modules import
only each other, in layers (base; accounts; interviews; candidates; then grading, sharing and audit),
never this package."""

from app.models.accounts import (
    AUTHOR_ROLES,
    ROLES,
    Organisation,
    PasswordReset,
    SignInSession,
    TeamInvite,
    User,
)
from app.models.audit import AuditEvent
from app.models.base import Timestamps, UTCDateTime, new_public_id, utcnow
from app.models.candidates import Answer, AnswerChunk, AnswerStageRun, Candidate
from app.models.grading import DECISIONS, RECOMMENDATIONS, CandidateStats, Decision, Review, Score
from app.models.interviews import Interview, InterviewAssignment, Question
from app.models.sharing import (
    SHARE_PERMISSIONS,
    GuestScore,
    ShareGuest,
    ShareLink,
    ShareView,
    share_link_candidates,
)

__all__ = [
    "AUTHOR_ROLES", "DECISIONS", "RECOMMENDATIONS", "ROLES", "SHARE_PERMISSIONS",
    "Answer", "AnswerChunk", "AnswerStageRun", "AuditEvent", "Candidate", "CandidateStats", "Decision",
    "GuestScore", "Interview", "InterviewAssignment", "Organisation", "PasswordReset", "Question",
    "Review", "Score", "ShareGuest", "ShareLink", "ShareView", "SignInSession", "TeamInvite",
    "Timestamps", "UTCDateTime", "User", "new_public_id", "share_link_candidates", "utcnow",
]
