"""The assessment-partner shape applicant tracking systems call (Greenhouse's list_tests, send_test
and test_status; Workable's tests and assessments), as a thin layer over the same services: a test
is an interview, sending one invites the candidate, its status is the candidate's. docs/ats.md
shows Greenhouse wired to it."""

from __future__ import annotations

import marshmallow as ma
from flask import g
from flask_smorest import Blueprint
from marshmallow import fields as f
from marshmallow import validate as v

from app.blueprints.api.core import needs, protected
from app.blueprints.api.schemas import IdempotencyHeader, Strict, text_field
from app.services import api, api_invites
from app.states import CandidateStatus

ats_bp = protected(Blueprint("api_ats", __name__, url_prefix="/api/v1/ats",
                             description="Assessment-partner shape for applicant tracking systems"))


class TestOut(ma.Schema):
    partner_test_id = f.String(required=True)
    partner_test_name = f.String(required=True)


class AtsCandidate(Strict):
    first_name = text_field(100, required=True)
    last_name = text_field(100, load_default="")
    email = f.Email(required=True, validate=v.Length(max=254))


class SendTestIn(Strict):
    partner_test_id = f.String(required=True, validate=v.Length(min=1, max=32))
    candidate = f.Nested(AtsCandidate, required=True)


class SendTestOut(ma.Schema):
    partner_interview_id = f.String(required=True)
    invite_url = f.String(allow_none=True, required=True)


class StatusQuery(ma.Schema):
    partner_interview_id = f.String(required=True, validate=v.Length(min=1, max=32))


class StatusOut(ma.Schema):
    partner_interview_id = f.String(required=True)
    partner_status = f.String(required=True, validate=v.OneOf(["incomplete", "complete", "expired"]))
    partner_profile_url = f.String(required=True)
    partner_score = f.Float(allow_none=True, required=True,
                            metadata={"description": "The overall rating, 1-5, from submitted reviews"})
    decision = f.String(allow_none=True, required=True)


@ats_bp.route("/tests", methods=["GET"])
@needs(ats_bp, "read")
@ats_bp.response(200, TestOut(many=True))
def list_tests():
    """list_tests: every interview, as a test"""
    return [{"partner_test_id": i.public_id, "partner_test_name": i.title}
            for i in api.list_interviews(g.api_key)]


@ats_bp.route("/send_test", methods=["POST"])
@needs(ats_bp, "invite")
@ats_bp.arguments(IdempotencyHeader, location="headers", as_kwargs=True)
@ats_bp.arguments(SendTestIn)
@ats_bp.response(201, SendTestOut)
def send_test(data, idempotency_key=None):
    """send_test: invite the candidate to the interview; with an Idempotency-Key, once"""
    person = data["candidate"]
    name = f"{person['first_name'].strip()} {person['last_name'].strip()}".strip()
    views, _replayed = api_invites.invite(g.api_key, data["partner_test_id"],
                                          [{"name": name, "email": person["email"]}], idempotency_key)
    if not views:  # the candidate of the first call has been erased since
        return {"partner_interview_id": "", "invite_url": None}
    return {"partner_interview_id": views[0]["id"], "invite_url": views[0]["invite_url"]}


_PARTNER_STATUS = {CandidateStatus.COMPLETED: "complete", CandidateStatus.EXPIRED: "expired"}


@ats_bp.route("/test_status", methods=["GET"])
@needs(ats_bp, "read")
@ats_bp.arguments(StatusQuery, location="query")
@ats_bp.response(200, StatusOut)
def test_status(query):
    """test_status: complete or not, with a link to the candidate's review and the overall rating"""
    view = api.candidate_views(g.api_key, [api.get_candidate(g.api_key, query["partner_interview_id"])])[0]
    return {"partner_interview_id": view["id"],
            "partner_status": _PARTNER_STATUS.get(view["status"], "incomplete"),
            "partner_profile_url": view["review_url"], "partner_score": view["rating"],
            "decision": view["decision"]}
