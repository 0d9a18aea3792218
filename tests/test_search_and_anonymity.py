"""Transcript search across an interview, and anonymised review (Candidate N, audio or transcript only)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from app.extensions import db
from app.services import accommodations, anonymity
from app.storage import current_storage
from tests.factories import make_candidate, make_interview, make_media_answer, make_user


def _said(text: str, start: float = 3.0) -> dict:
    words = [{"word": w, "start": start + i, "end": start + i + 0.8} for i, w in enumerate(text.split())]
    return {"language": "en", "text": text, "segments": [{"start": start, "end": start + len(words),
                                                         "text": text, "words": words}]}


@pytest.fixture
def setup(app):
    owner = make_user(role="owner")
    reviewer = make_user(org=owner.organisation, role="reviewer")
    interview = make_interview(owner, questions=2)
    ada, _ = make_candidate(interview)
    bob, _ = make_candidate(interview)
    ada.name, ada.email, bob.name = "Ada Secret", "ada.secret@example.com", "Bob Secret"
    db.session.commit()
    make_media_answer(ada, interview.questions[0], transcript=_said("we run Kubernetes daily at the café"))
    answer = make_media_answer(bob, interview.questions[1], transcript=_said("no containers for us"))
    key = f"answers/{answer.public_id}/speech.wav"
    current_storage().put_bytes(key, b"RIFF0000WAVEfmt ", "audio/wav")
    answer.audio_key = key
    db.session.commit()
    return owner, reviewer, interview, ada, bob, answer


def test_search_finds_the_moment_a_word_is_said(login_as, setup):
    _owner, reviewer, interview, ada, _bob, _ = setup
    cc = login_as(reviewer)
    url = f"/interviews/{interview.public_id}/search"
    html = cc.get(f"{url}?q=kubernetes").get_data(as_text=True)
    assert 'data-hits="1"' in html and "Ada Secret" in html and "<mark>Kubernetes</mark>" in html
    q1 = interview.questions[0].public_id
    # "Kubernetes" is the third word, said at 3 + 2 = 5 s.
    assert f"/review/candidates/{ada.public_id}?t=5.00#q-{q1}" in html
    assert 'data-hits="1"' in cc.get(f"{url}?q=CAFÉ").get_data(as_text=True)  # not ASCII: no SQL filter
    assert 'data-hits="0"' in cc.get(f"{url}?q=docker").get_data(as_text=True)
    short = cc.get(f"{url}?q=k")
    assert short.status_code == 400 and "at least two characters" in short.get_data(as_text=True)
    assert cc.get(f"{url}?q=50%25_off").status_code == 200  # LIKE wildcards are taken literally


def test_anonymised_review_hides_identity_from_reviewers_only(login_as, setup):
    owner, reviewer, interview, ada, bob, answer = setup
    oc = login_as(owner)
    bad = oc.post(f"/interviews/{interview.public_id}/review-mode", data={"review_media": "smell"},
                  follow_redirects=True)
    assert "Choose video, audio only or transcript only" in bad.get_data(as_text=True)
    oc.post(f"/interviews/{interview.public_id}/review-mode",
            data={"anonymous": "on", "review_media": "audio"})
    rc = login_as(reviewer)
    page = rc.get(f"/review/candidates/{bob.public_id}").get_data(as_text=True)
    assert "Candidate 2" in page and "Bob Secret" not in page and "<video" not in page
    assert f"/media/answers/{answer.public_id}/audio" in page
    queue = rc.get(f"/interviews/{interview.public_id}/queue").get_data(as_text=True)
    assert "Candidate 1" in queue and "Ada Secret" not in queue and "ada.secret@" not in queue
    hits = rc.get(f"/interviews/{interview.public_id}/search?q=containers").get_data(as_text=True)
    assert "Candidate 2" in hits and "Bob Secret" not in hits
    assert rc.get(f"/media/answers/{answer.public_id}/video").status_code == 403
    assert rc.get(f"/media/answers/{answer.public_id}/poster.jpg").status_code == 403
    audio = rc.get(f"/media/answers/{answer.public_id}/audio")
    assert audio.status_code == 200 and audio.mimetype == "audio/wav"
    assert audio.headers["Content-Length"] == "16" and audio.data == b"RIFF0000WAVEfmt "  # Storage.size
    no_wav = ada.answers[0]  # a video with no WAV: never its MP4, which holds the picture
    assert rc.get(f"/media/answers/{no_wav.public_id}/audio").status_code == 404
    answer.audio_key = "answers/gone/speech.wav"
    db.session.commit()
    assert rc.get(f"/media/answers/{answer.public_id}/audio").status_code == 404
    answer.audio_key = f"answers/{answer.public_id}/speech.wav"
    db.session.commit()
    # Owners still see who is who, and the video.
    page = oc.get(f"/review/candidates/{bob.public_id}").get_data(as_text=True)
    assert "Bob Secret" in page and "<video" in page
    assert oc.get(f"/media/answers/{answer.public_id}/video").status_code == 200
    # Transcript only: no media at all for reviewers, the transcript stays.
    oc.post(f"/interviews/{interview.public_id}/review-mode",
            data={"anonymous": "on", "review_media": "transcript"})
    page = rc.get(f"/review/candidates/{bob.public_id}").get_data(as_text=True)
    assert "<audio" not in page and "<video" not in page and "containers" in page
    assert rc.get(f"/media/answers/{answer.public_id}/audio").status_code == 403


def _reviewer_urls(app, ids: list[str]) -> list[str]:
    """Every page, JSON and file a signed-in member may ask for by public id, for each of these ids,
    so that a route added later is checked too."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or set(rule.arguments) - {"public_id"}:
            continue
        urls += [rule.rule.replace("<public_id>", i) for i in ids] if rule.arguments else [rule.rule]
    return urls


def test_hardening_anonymised_reviewers_never_see_names_emails_or_extra_time_notes(app, login_as):
    owner = make_user(role="owner")
    reviewer = make_user(org=owner.organisation, role="reviewer")
    interview = make_interview(owner, questions=1)
    zed, _ = make_candidate(interview)  # invited first: Candidate 1, though last by name
    amy, _ = make_candidate(interview)
    zed.name, zed.email = "Zed Hidden", "zed.h@example.com"
    amy.name, amy.email = "Amy Hidden", "amy.h@example.com"
    db.session.commit()
    accommodations.request_extra_time(zed, "2", "I have dyslexia")
    answers = [make_media_answer(c, interview.questions[0], transcript=_said("we ship on Fridays"))
               for c in (zed, amy)]
    anonymity.set_mode(owner, interview, True, "video")
    iv = interview.public_id
    secrets = ("Zed Hidden", "Amy Hidden", "zed.h@", "amy.h@", "dyslexia")
    rc = login_as(reviewer)
    urls = _reviewer_urls(app, [iv, zed.public_id, amy.public_id, *(a.public_id for a in answers)])
    urls += [f"/interviews/{iv}/queue?sort=name", f"/interviews/{iv}/search?q=fridays",
             f"/interviews/{iv}/next", f"/interviews/{iv}/next?after={zed.public_id}"]
    for url in urls:
        body = rc.get(url, follow_redirects=True).get_data(as_text=True)
        assert not [s for s in secrets if s in body], url
    # Sorting by name must not give away the order of the real names: "Candidate N" order instead.
    queue = rc.get(f"/interviews/{iv}/queue?sort=name").get_data(as_text=True)
    assert queue.index(">Candidate 1<") < queue.index(">Candidate 2<")
    assert rc.post(f"/interviews/{iv}/candidates/{zed.public_id}/extra-time",
                   data={"decision": "grant"}).status_code == 403
    # Requests for extra time are owners' and recruiters' business, anonymised or not.
    anonymity.set_mode(owner, interview, False, "video")
    assert "dyslexia" not in rc.get(f"/interviews/{iv}").get_data(as_text=True)
    page = login_as(owner).get(f"/interviews/{iv}").get_data(as_text=True)
    assert "Zed Hidden asks for 2× the time" in page and "dyslexia" in page


def _recording(path: Path, picture: bool = True, sound: bool = True) -> bytes:
    """A one-second MP4 (or, without a picture, M4A) as the transcode stage writes them."""
    inputs = (["-f", "lavfi", "-i", "testsrc=size=160x120:rate=10"] if picture else []) + \
        (["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"] if sound else [])
    codecs = (["-c:v", "libx264", "-preset", "ultrafast"] if picture else []) + \
        (["-c:a", "aac"] if sound else [])
    subprocess.run(["ffmpeg", "-v", "error", "-y", *inputs, "-t", "1", *codecs, "-f", "mp4", str(path)],
                   check=True, timeout=60)
    return path.read_bytes()


def test_hardening_audio_only_review_never_serves_a_video_track(app, login_as, tmp_path, run_jobs):
    owner = make_user(role="owner")
    reviewer = make_user(org=owner.organisation, role="reviewer")
    interview = make_interview(owner, questions=3)
    cand, _ = make_candidate(interview)
    q1, q2, q3 = interview.questions
    # Ready video answers with no speech WAV (made before every answer kept one; or with no sound).
    spoken = make_media_answer(cand, q1, data=_recording(tmp_path / "a.mp4"))
    mute = make_media_answer(cand, q2, data=_recording(tmp_path / "b.mp4", sound=False))
    # An audio answer's review file holds no picture: it may be played as it is.
    voice = make_media_answer(cand, q3, data=_recording(tmp_path / "c.m4a", picture=False),
                              width=None, height=None)
    anonymity.set_mode(owner, interview, True, "audio")
    rc = login_as(reviewer)

    def audio(answer):
        return rc.get(f"/media/answers/{answer.public_id}/audio")

    for answer in (spoken, mute):
        refused = audio(answer)
        assert refused.status_code == 404 and not refused.mimetype.startswith("video")
        assert "not available without its picture" in refused.get_data(as_text=True)
    page = rc.get(f"/review/candidates/{cand.public_id}").get_data(as_text=True)
    assert f"/media/answers/{spoken.public_id}/audio" not in page and "<video" not in page
    assert page.count("data-no-sound") == 2 and page.count(">world</span>") == 3  # transcripts stay
    assert audio(voice).status_code == 200 and audio(voice).mimetype == "audio/mp4"

    # The operator makes the missing WAVs from the MP4s' sound; an answer with none stays refused.
    result = app.test_cli_runner().invoke(args=["backfill-audio"])
    assert result.exit_code == 0 and "Queued 2 answer(s)" in result.output, result.output
    run_jobs()
    db.session.expire_all()  # the job committed in its own session
    played = audio(spoken)
    assert played.status_code == 200 and played.mimetype == "audio/wav" and played.data[:4] == b"RIFF"
    assert audio(mute).status_code == 404
    page = rc.get(f"/review/candidates/{cand.public_id}").get_data(as_text=True)
    assert f'<audio controls preload="metadata" src="/media/answers/{spoken.public_id}/audio"' in page
    # Run again, it looks at the soundless answer only (a probe, nothing more).
    assert "Queued 1 answer(s)" in app.test_cli_runner().invoke(args=["backfill-audio"]).output
