"""Self-identification stays apart: a planted category value is looked for in every page and export
that graders, reviewers and guests can reach (every GET of the authorisation matrix, ZIPs opened
file by file), in the candidate package's manifest and in the scores CSV; it shows only on the
candidate's own page and download."""

from __future__ import annotations

import io
import json
import zipfile

from app.extensions import db
from app.models import Candidate, Organisation, SelfIdentification
from app.security import hash_token, new_token
from app.services.package import build_manifest
from app.services.takes import current_answers
from tests import test_authz_matrix as matrix
from tests.factories import mark_completed
from tests.test_authz_matrix import ACTORS, ROUTES, _fill

world = matrix.world  # the matrix's fixture: every actor signed in, every object made

PLANTED = "zqplanted"
# The report shows categories (never a person's): only owners reach it.
REPORT = ("fairness.",)


def _texts(resp) -> list[str]:
    """The response as text; a ZIP as the text of each of its files."""
    body = resp.get_data()
    if body[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(body)) as zf:
            return [zf.read(name).decode("utf-8", "replace") for name in zf.namelist()]
    return [body.decode("utf-8", "replace")]


def _plant(cand_public_id: str) -> Candidate:
    cand = db.session.execute(db.select(Candidate).filter_by(public_id=cand_public_id)).scalar_one()
    org = db.session.get(Organisation, cand.org_id)
    org.self_id_scheme = {"sex": {"label": f"{PLANTED} question", "options": [
        [f"{PLANTED}_code", f"{PLANTED.capitalize()} Label"], ["other", "Other"]]}}
    db.session.add(SelfIdentification(candidate_id=cand.id, sex=f"{PLANTED}_code", race="asian"))
    db.session.commit()
    return cand


def test_no_page_or_export_a_grader_reviewer_or_guest_reaches_shows_self_identification(world):
    clients, tokens, values = world
    cand = _plant(values["cand"])
    found, scanned = [], 0
    for n, (endpoint, method, path, _data, _expected) in enumerate(ROUTES):
        if method != "GET":
            continue
        for actor in ACTORS:
            if endpoint.startswith(REPORT) and actor in ("owner", "stranger"):
                continue
            resp = clients[actor].get(_fill(path, values, actor, tokens, n))
            scanned += 1
            for text in _texts(resp):
                if PLANTED in text.lower() or "asian" in text.lower():
                    found.append(f"{endpoint} as {actor}")
    assert scanned > 150 and not found, found
    manifest = json.dumps(build_manifest(cand, current_answers(cand)))
    assert PLANTED not in manifest.lower() and "self" not in manifest.lower()


def test_the_candidate_sees_their_own_answers_and_nobody_else_does(app, world):
    clients, _tokens, values = world
    cand = _plant(values["cand"])
    mark_completed(cand)
    # A link for the test: no actor holds the world's candidate's own.
    token = new_token()
    cand.token_hash = hash_token(token)
    db.session.commit()
    own = app.test_client().get(f"/i/{token}/data").get_data(as_text=True)
    assert f"{PLANTED.capitalize()} Label" in own  # the test can see it where it belongs
    owner_page = clients["owner"].get(f"/review/candidates/{values['cand']}").get_data(as_text=True)
    assert PLANTED not in owner_page.lower()
