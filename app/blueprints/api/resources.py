"""/api/v1 interviews and candidates: list, read, create, invite, deadline and erasure."""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint

from app.blueprints.api import schemas as s
from app.blueprints.api.core import needs, protected
from app.services import api, api_invites

interviews_bp = protected(Blueprint("api_interviews", __name__, url_prefix="/api/v1/interviews",
                                    description="Interviews and their questions"))
candidates_bp = protected(Blueprint("api_candidates", __name__, url_prefix="/api/v1",
                                    description="Candidates: invite, read, deadline and erasure"))


@interviews_bp.route("", methods=["GET"])
@needs(interviews_bp, "read")
@interviews_bp.response(200, s.InterviewList)
def list_interviews():
    """Every interview of the key's organisation, newest first"""
    return {"data": api.list_interviews(g.api_key)}


@interviews_bp.route("", methods=["POST"])
@needs(interviews_bp, "invite")
@interviews_bp.arguments(s.InterviewIn)
@interviews_bp.response(201, s.InterviewOut)
def create_interview(data):
    """Create an interview with its questions"""
    return api.create_interview(g.api_key, data)


@interviews_bp.route("/<interview_id>", methods=["GET"])
@needs(interviews_bp, "read")
@interviews_bp.response(200, s.InterviewOut)
def get_interview(interview_id: str):
    """One interview with its questions"""
    return api.get_interview(g.api_key, interview_id)


@interviews_bp.route("/<interview_id>/candidates", methods=["POST"])
@needs(interviews_bp, "invite")
@interviews_bp.arguments(s.IdempotencyHeader, location="headers", as_kwargs=True)
@interviews_bp.arguments(s.InviteIn)
@interviews_bp.response(201, s.InvitedList)
def invite(data, interview_id: str, idempotency_key=None):
    """Invite one or many candidates; their links are in this answer only. With an
    Idempotency-Key, a retry invites nobody twice"""
    views, replayed = api_invites.invite(g.api_key, interview_id, data["candidates"], idempotency_key)
    headers = {"Idempotent-Replayed": "true" if replayed else "false"}
    return {"data": views, "replayed": replayed}, 201, headers


@candidates_bp.route("/candidates", methods=["GET"])
@needs(candidates_bp, "read")
@candidates_bp.arguments(s.CandidateQuery, location="query")
@candidates_bp.response(200, s.CandidatePage)
def list_candidates(query):
    """Candidates in the order they last changed, oldest first, a page at a time (cursor)"""
    rows, cursor = api.list_candidates(g.api_key, query)
    return {"data": api.candidate_views(g.api_key, rows), "next_cursor": cursor}


@candidates_bp.route("/candidates/<candidate_id>", methods=["GET"])
@needs(candidates_bp, "read")
@candidates_bp.response(200, s.CandidateOut)
def get_candidate(candidate_id: str):
    """One candidate: status, deadline, rating and decision"""
    return api.candidate_views(g.api_key, [api.get_candidate(g.api_key, candidate_id)])[0]


@candidates_bp.route("/candidates/<candidate_id>/deadline", methods=["PUT"])
@needs(candidates_bp, "invite")
@candidates_bp.arguments(s.DeadlineIn)
@candidates_bp.response(200, s.CandidateOut)
def set_deadline(data, candidate_id: str):
    """Move (extend or shorten) an unfinished candidate's deadline"""
    candidate = api.set_deadline(g.api_key, candidate_id, data["deadline"])
    return api.candidate_views(g.api_key, [candidate])[0]


@candidates_bp.route("/candidates/<candidate_id>", methods=["DELETE"])
@needs(candidates_bp, "erase")
@candidates_bp.response(202, s.ErasureOut)
def erase(candidate_id: str):
    """Delete everything about a candidate (recordings, answers, scores, decisions), in the
    background; read its progress at the erasure's URL"""
    return api.request_erasure(g.api_key, candidate_id)


@candidates_bp.route("/erasures/<erasure_id>", methods=["GET"])
@needs(candidates_bp, "erase")
@candidates_bp.response(200, s.ErasureOut)
def get_erasure(erasure_id: str):
    """Where an erasure stands: queued, done or failed"""
    return api.get_erasure(g.api_key, erasure_id)
