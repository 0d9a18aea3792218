"""Question pools and shuffled order: what each candidate is given is drawn once, when they start,
so that answers shared online or read from a script help less. Graders see the question each
candidate got (Candidate.questions); scores stay per question."""

from __future__ import annotations

import secrets

from app.models import Interview

_random = secrets.SystemRandom()


def draw(interview: Interview) -> list[int] | None:
    """One question of each place (Interview.slots) at random, in a random order where the
    interview shuffles; None where it draws nothing (every candidate gets the questions as they stand)."""
    if not interview.draws:
        return None
    plan = [_random.choice(slot).id for slot in interview.slots()]
    if interview.shuffle_questions:
        _random.shuffle(plan)
    return plan
