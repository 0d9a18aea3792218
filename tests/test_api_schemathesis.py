"""Schemathesis against the live OpenAPI document of a real gunicorn process, with a real key: every
operation, valid and invalid input (some of it aimed at real objects), no 5xx, and every answer
valid against the document (status, content type, headers, body)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.extensions import db
from app.services import api_keys, webhook_endpoints
from tests.conftest import worker_env
from tests.factories import make_candidate, make_interview, make_media_answer, make_scores, make_user
from tests.server import gunicorn

pytestmark = pytest.mark.processes

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
EXAMPLES_PER_MODE = 8  # per operation, valid and invalid each: 26 operations make over 400 cases


def _world():
    """An organisation with an interview, candidates, a scored and decided one with a media answer,
    an anonymised interview, and a key with every scope; the real ids for path parameters."""
    owner = make_user(role="owner")
    interview = make_interview(owner)
    candidate, _ = make_candidate(interview, owner)
    answer = make_media_answer(candidate, interview.questions[0])
    make_scores(make_user(owner.organisation, role="reviewer"), candidate, [3, 4])
    hidden = make_interview(owner)
    hidden.anonymous = True
    db.session.commit()
    make_candidate(hidden, owner)
    _key, token = api_keys.create(owner, "Schemathesis", ",".join(api_keys.SCOPES))
    hook = webhook_endpoints.create_endpoint(owner, "https://hooks.example.com/x", ["candidate.invited"])
    return token, {"interview_id": interview.public_id, "candidate_id": candidate.public_id,
                   "answer_id": answer.public_id, "partner_interview_id": candidate.public_id,
                   "partner_test_id": interview.public_id, "endpoint_id": hook.public_id}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_every_operation_holds_to_the_document_under_generated_input(app, servers, databases, backend,
                                                                       tmp_path):
    token, real = _world()
    env = worker_env(servers, databases[0][backend]) | {"API_RATE_LIMIT": "1000000/minute"}
    with gunicorn(env, tmp_path / "web.log", threads=4) as web:
        schema = schemathesis.openapi.from_url(f"{web.base}/api/v1/openapi.json")
        headers = {"Authorization": f"Bearer {token}"}
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 20
        failures, cases = [], []
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                try:
                    _explore(operation, mode, web.base, headers, real, cases)
                except Exception as exc:  # collected: every operation is tried, then all are shown
                    failures.append(f"{operation.method.upper()} {operation.path} ({mode.value}): {exc}")
        assert not failures, "\n\n".join(failures) + "\n\n" + web.log_text()[-3000:]
        assert len(cases) >= 200
        assert sum(200 <= code < 300 for code in cases) >= 50  # real objects reached, not only refusals
        assert "Traceback" not in web.log_text()


def _explore(operation, mode, base: str, headers: dict, real: dict, cases: list) -> None:
    @given(case=operation.as_strategy(generation_mode=mode), aim=st.booleans())
    @settings(max_examples=EXAMPLES_PER_MODE, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    def run(case, aim):
        if aim:  # half the cases reach real objects, not only 404s
            if case.path_parameters:
                case.path_parameters = {k: real.get(k, v) for k, v in case.path_parameters.items()}
            if case.query and "partner_interview_id" in case.query:
                case.query = {**case.query, "partner_interview_id": real["partner_interview_id"]}
        case.headers = {**(case.headers or {}), **headers}  # invalid input, never an invalid key
        response = case.call(base_url=base, timeout=30)
        cases.append(response.status_code)
        if "content-security-policy" not in {name.lower() for name in response.headers}:
            # Refused by gunicorn before the app (a request line or header past its limits: 400,
            # 414, 431 as its own HTML page); the app sets this header on everything it answers.
            assert response.status_code in (400, 414, 431), response.status_code
            return
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()
