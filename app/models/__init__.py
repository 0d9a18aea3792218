"""The tables, one module per part of the product. Integer keys inside; a random public_id in every
URL, link and object key. Import them from here (`from app.models import Answer`). The modules import
only each other, in layers (base; accounts; interviews; candidates; then grading, sharing, audit, ai and
prompts), never this package."""

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
from app.models.api import ApiErasure, ApiIdempotency, ApiKey
from app.models.audit import AuditEvent
from app.models.base import Timestamps, UTCDateTime, new_public_id, utcnow
from app.models.candidates import AccommodationStatus, Answer, AnswerChunk, AnswerStageRun, Candidate
from app.models.fairness import ReReviewRequest, SelfIdentification
from app.models.grading import CandidateStats, Decision, DecisionValue, Recommendation, Review, Score
from app.models.interviews import (
    AccommodationPolicy,
    BankQuestion,
    Interview,
    InterviewAssignment,
    Question,
    QuestionKind,
    ReviewMedia,
)
from app.models.outreach import MailKind, OutboxMessage
from app.models.prompts import PromptMedia
from app.models.sharing import (
    GuestScore,
    ShareGuest,
    ShareLink,
    SharePermission,
    ShareView,
    share_link_candidates,
)
from app.models.webhooks import WebhookAttempt, WebhookEndpoint, WebhookMessage

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
    "ApiErasure",
    "ApiIdempotency",
    "ApiKey",
    "AuditEvent",
    "BankQuestion",
    "Candidate",
    "CandidateStats",
    "Decision",
    "DecisionValue",
    "GuestScore",
    "Interview",
    "InterviewAssignment",
    "MailKind",
    "Organisation",
    "OutboxMessage",
    "PasswordReset",
    "PromptMedia",
    "Question",
    "QuestionKind",
    "ReReviewRequest",
    "Recommendation",
    "Review",
    "ReviewMedia",
    "Role",
    "Score",
    "SelfIdentification",
    "ShareGuest",
    "ShareLink",
    "SharePermission",
    "ShareView",
    "SignInSession",
    "TeamInvite",
    "Timestamps",
    "UTCDateTime",
    "User",
    "WebhookAttempt",
    "WebhookEndpoint",
    "WebhookMessage",
    "new_public_id",
    "share_link_candidates",
    "utcnow",
]
