"""Media fetched through a share link is logged per guest, answer and kind, throttled so that one
playback's range requests make one row, and shown to the owner in words; revoked links serve none."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app.extensions import db
from app.models import ShareView
from app.services import sharing
from stack.services import free_port
from tests.conftest import ROOT, SECRET, BufferedClient, app_config
from tests.factories import make_candidate, make_interview, make_media_answer, make_user
from tests.helpers import CsrfClient
from tests.test_migrations_with_data import SEED, empty_database  # noqa: F401  (a fixture)


@pytest.fixture
def shared(app):
    owner = make_user(role="owner")
    interview = make_interview(owner, questions=2)
    candidate, _ = make_candidate(interview)
    candidate.name = "Shared Person"
    db.session.commit()
    first = make_media_answer(candidate, interview.questions[0])
    second = make_media_answer(candidate, interview.questions[1], width=None, height=None)  # audio
    link, token = sharing.create_link(owner, [candidate.public_id])
    return {"owner": owner, "link": link, "token": token, "first": first.public_id,
            "second": second.public_id}


def _media(shared, answer: str, kind: str = "video") -> str:
    name = {"video": "video", "captions": "captions.vtt", "poster": "poster.jpg"}[kind]
    return f"/s/{shared['token']}/media/{shared[answer]}/{name}"


def _rows(**filters) -> list[ShareView]:
    db.session.expire_all()
    return list(db.session.execute(db.select(ShareView).filter_by(**filters).order_by(ShareView.id))
                .scalars())


def test_one_playback_of_many_range_requests_is_one_row_shown_in_words(app, login_as, shared):
    guest = app.test_client()
    assert guest.get(f"/s/{shared['token']}", follow_redirects=True).status_code == 200
    for start in range(0, 560, 20):  # a browser seeking about one recording (576 bytes)
        resp = guest.get(_media(shared, "first"), headers={"Range": f"bytes={start}-{start + 19}"})
        assert resp.status_code == 206
    for _ in range(3):
        assert guest.get(_media(shared, "first", "captions")).status_code == 200
        assert guest.get(_media(shared, "second")).status_code == 200
    assert guest.get(_media(shared, "first", "poster")).status_code == 404  # no still image: no row
    media = _rows(kind="video")
    assert [v.answer.public_id for v in media] == [shared["first"], shared["second"]]
    assert all(shared["token"] not in v.path and v.candidate_id == media[0].answer.candidate_id
               for v in media)
    assert len(_rows(kind="captions")) == 1 and len(_rows(kind="page")) == 1
    html = login_as(shared["owner"]).get(f"/shares/{shared['link'].public_id}").get_data(as_text=True)
    assert 'data-views="4"' in html
    for words in ("Watched answer 1 (Shared Person)", "Listened to answer 2 (Shared Person)",
                  "Loaded the captions of answer 1 (Shared Person)", "Opened Shared Person&#39;s page"):
        assert words in html


def test_each_named_guest_and_each_unnamed_address_has_its_own_row(app, shared):
    named = CsrfClient(app.test_client())
    named.refresh("/login")
    named.post(f"/s/{shared['token']}/guest", data={"name": "Grace Guest"})
    for addr in ("192.0.2.10", "192.0.2.11"):  # a named guest on another network is still one guest
        named.client.environ_base["REMOTE_ADDR"] = addr
        assert named.get(_media(shared, "first")).status_code == 200
    for addr in ("192.0.2.20", "192.0.2.21", "192.0.2.21"):
        assert app.test_client().get(_media(shared, "first"),
                                     environ_base={"REMOTE_ADDR": addr}).status_code == 200
    rows = _rows(kind="video")
    assert [(v.guest.name if v.guest else None, v.ip) for v in rows] == [
        ("Grace Guest", "192.0.2.10"), (None, "192.0.2.20"), (None, "192.0.2.21")]


def test_coming_back_after_the_window_writes_a_new_row(app, shared):
    app.config["SHARE_MEDIA_LOG_SECONDS"] = 1
    guest = app.test_client()
    assert guest.get(_media(shared, "first")).status_code == 200
    assert guest.get(_media(shared, "first")).status_code == 200
    assert len(_rows(kind="video")) == 1
    time.sleep(1.1)
    assert guest.get(_media(shared, "first")).status_code == 200
    assert len(_rows(kind="video")) == 2


def test_a_revoked_link_serves_and_logs_no_media(app, login_as, shared):
    guest = app.test_client()
    assert guest.get(_media(shared, "first")).status_code == 200
    before = len(_rows())
    owner = login_as(shared["owner"])
    assert owner.post(f"/shares/{shared['link'].public_id}/revoke", data={}).status_code == 302
    for kind in ("video", "captions", "poster"):
        assert guest.get(_media(shared, "first", kind)).status_code == 410
        assert guest.get(_media(shared, "second", kind), headers={"Range": "bytes=0-9"}).status_code == 410
    assert len(_rows()) == before


def test_with_redis_down_the_table_still_throttles_media_rows(app, servers, databases, backend, shared):
    from app import create_app

    urls, _ = databases
    down = create_app(app_config(servers, urls[backend], REDIS_URL=f"redis://127.0.0.1:{free_port()}/0"))
    down.test_client_class = BufferedClient  # a streamed answer left unread would outlive the test
    guest = down.test_client()
    for _ in range(5):
        assert guest.get(_media(shared, "first"), headers={"Range": "bytes=0-9"}).status_code == 206
    assert len(_rows(kind="video")) == 1
    with down.app_context():
        db.session.remove()
        db.engine.dispose()


def test_migration_0006_keeps_page_views_up_and_down(empty_database, monkeypatch):  # noqa: F811
    from app import create_app

    monkeypatch.setenv("ONEWAY_ENV", "testing")
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "SECRET_KEY": SECRET})
    migrations = str(ROOT / "migrations")
    views = sa.table("share_views", sa.column("path"))
    with app.app_context():
        upgrade(directory=migrations, revision="0005")
        with db.engine.begin() as conn:
            for statement in [
                *SEED,
                "insert into share_links(public_id,org_id,created_by_id,token_hash,label,permission,"
                "hide_names,expires_at,created_at,updated_at) values('l',1,1,'t','','view',false,"
                "'2030-01-01','2026-01-01','2026-01-01')",
                "insert into share_views(share_link_id,candidate_id,path,ip,user_agent,created_at) "
                "values(1,1,'/s/…/c/c','192.0.2.1','UA','2026-01-02')",
            ]:
                conn.execute(sa.text(statement))
        upgrade(directory=migrations, revision="0006")
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("select kind, answer_id, path from share_views")).one() == (
                "page", None, "/s/…/c/c")
        downgrade(directory=migrations, revision="0005")
        with db.engine.connect() as conn:
            assert conn.execute(sa.select(views.c.path)).scalars().all() == ["/s/…/c/c"]
            assert "kind" not in {c["name"] for c in sa.inspect(conn).get_columns("share_views")}
        upgrade(directory=migrations)
        db.engine.dispose()
