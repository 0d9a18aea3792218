"""The tables, one module per part of the product. Integer keys inside; a random public_id in every
URL, link and object key. Import them from here (`from app.models import Answer`). The modules import
only each other, in layers (base; accounts; interviews; candidates; then grading, sharing, audit and ai),
never this package."""

from app.models.accounts import (
    AUTHOR_ROLES,
    Organisation,
    PasswordReset,
    Role,
    SignInSession,
    TeamInvite,
    User,
)
from app.models.ai import AIDraft, AIEvaluation, AIStatus, AISummary
from app.models.audit import AuditEvent
from app.models.base import Timestamps, UTCDateTime, new_public_id, utcnow
from app.models.candidates import AccommodationStatus, Answer, AnswerChunk, AnswerStageRun, Candidate
from app.models.grading import CandidateStats, Decision, DecisionValue, Recommendation, Review, Score
from app.models.interviews import (
    AccommodationPolicy,
    Interview,
    InterviewAssignment,
    Question,
    QuestionKind,
    ReviewMedia,
)
from app.models.sharing import (
    GuestScore,
    ShareGuest,
    ShareLink,
    SharePermission,
    ShareView,
    share_link_candidates,
)

__all__ = [
    "AUTHOR_ROLES",
    "AIDraft",
    "AIEvaluation",
    "AIStatus",
    "AISummary",
    "AccommodationPolicy",
    "AccommodationStatus",
    "Answer",
    "AnswerChunk",
    "AnswerStageRun",
    "AuditEvent",
    "Candidate",
    "CandidateStats",
    "Decision",
    "DecisionValue",
    "GuestScore",
    "Interview",
    "InterviewAssignment",
    "Organisation",
    "PasswordReset",
    "Question",
    "QuestionKind",
    "Recommendation",
    "Review",
    "ReviewMedia",
    "Role",
    "Score",
    "ShareGuest",
    "ShareLink",
    "SharePermission",
    "ShareView",
    "SignInSession",
    "TeamInvite",
    "Timestamps",
    "UTCDateTime",
    "User",
    "new_public_id",
    "share_link_candidates",
    "utcnow",
]
