"""What one invite link cannot do (issue 14, items 8 and 9): make the server read anything but the
recording it declared, record past its takes, its time or its bytes, or leave takes it abandoned
in storage."""

from __future__ import annotations

import subprocess

import pytest

from app import states
from app.extensions import db
from app.models import Answer
from app.storage import answer_prefix
from tests.factories import make_candidate, make_interview
from tests.helpers import upload_answer


def _answer(public_id: str) -> Answer:
    db.session.expire_all()
    return db.session.execute(db.select(Answer).filter_by(public_id=public_id)).scalar_one()


def _objects(app, prefix: str = "") -> set[str]:
    store = app.extensions["oneway_storage"]
    return {o.object_name for o in store.client.list_objects(store.bucket, prefix=prefix,
                                                             recursive=True)}


@pytest.mark.parametrize("target", ["local media file", "system file"])
def test_hardening_an_hls_playlist_sent_as_webm_fails_and_reads_no_local_file(
        csrf_client, app, media_dir, run_jobs, tmp_path, target):
    """ffmpeg left to guess takes a text file that begins "#EXTM3U" for an HLS playlist and reads
    the files it names: a candidate could have any media file on the worker (or worse) turned
    into their answer. Read as the WebM the take declared, it is refused with a clear reason."""
    secret = tmp_path / "secret.ts"  # HLS's own kind of segment: read whole if it is named
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(media_dir["mp4"]), "-c", "copy", "-f", "mpegts",
                    str(secret)], check=True, timeout=60)
    entry = secret.as_uri() if target == "local media file" else "file:///etc/passwd"
    playlist = ("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXT-X-MEDIA-SEQUENCE:0\n"
                f"#EXTINF:3.0,\n{entry}\n#EXT-X-ENDLIST\n").encode()
    cand, token = make_candidate(make_interview(questions=1))
    csrf_client.refresh(f"/i/{token}")
    before = _objects(app)
    receipt = upload_answer(csrf_client, token, cand.interview.questions[0].public_id, playlist,
                            content_type="video/webm;codecs=vp8,opus")
    run_jobs()
    answer = _answer(receipt["answer_id"])
    assert answer.status == states.FAILED
    assert "not a readable WebM file" in answer.failure_reason, answer.failure_reason
    assert (answer.mp4_key, answer.audio_key, answer.poster_key, answer.transcript) == (None,) * 4
    # Nothing was made from what the playlist names: the upload itself is all there is.
    assert _objects(app) - before == {answer.original_key}
    assert _objects(app, answer_prefix(answer.public_id)) == {answer.original_key}
