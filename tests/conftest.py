"""Session-scoped real servers (redis-server, rclone S3, PostgreSQL when reachable) and app fixtures."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import g, request_started
from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stack.services import free_port, start_redis, start_s3, start_smtp, stop  # noqa: E402

# A developer's .env is for `make run` and `flask`, never for the tests' own processes.
os.environ["FLASK_SKIP_DOTENV"] = "1"

S3_KEYS = ("oneway-test-access", "oneway-test-secret-key")
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SECRET = "test-secret-key-not-for-production"


def _postgres_available() -> bool:
    if os.environ.get("ONEWAY_TEST_NO_POSTGRES"):
        return False
    try:
        engine = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 2})
        with engine.connect():
            return True
    except Exception:  # any failure means: this machine has no usable server
        return False
    finally:
        engine.dispose()


BACKENDS = ["sqlite"] + (["postgresql"] if _postgres_available() else [])


def pytest_report_header(config):
    return f"database backends: {', '.join(BACKENDS)}"


@pytest.fixture(scope="session")
def servers(tmp_path_factory):
    """A private redis-server, S3 server and SMTP server (stack/smtp.py) on free ports for the whole
    run. The SMTP server refuses (550) any address at refused.example.com, as a relay refuses an
    unknown mailbox."""
    base = tmp_path_factory.mktemp("servers")
    redis_port, s3_port, smtp_port = free_port(), free_port(), free_port()
    redis = start_redis(redis_port, base / "redis", persist=False)
    with open(base / "s3.log", "ab") as s3_log:  # read by tests/test_s3_deletes.py
        s3 = start_s3(s3_port, base / "s3", *S3_KEYS, log=s3_log)
        smtp = SmtpServer(smtp_port, base / "mail")
        smtp.start()
        yield {
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "S3_ENDPOINT": f"http://127.0.0.1:{s3_port}",
            "S3_ACCESS_KEY": S3_KEYS[0],
            "S3_SECRET_KEY": S3_KEYS[1],
            "S3_BUCKET": "oneway-test",
            "redis_port": redis_port,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": smtp_port,
            "MAIL_DEFAULT_SENDER": "Oneway Test <oneway@example.com>",
            "MAIL_RETRY_SECONDS": "1",
            "smtp": smtp,
            "s3_log": base / "s3.log",
            "s3_dir": base / "s3",
        }
        smtp.stop()
        stop(redis, s3)


class SmtpServer:
    """The test run's SMTP server: a real aiosmtpd process; tests read what it kept, and stop and
    start it again on the same port (the `mailbox` fixture puts it back as it was)."""

    REFUSED = r"@refused\.example\.com>?$"

    def __init__(self, port: int, maildir: Path):
        self.port, self.maildir, self.proc, self.held = port, maildir, None, 0.0

    def start(self, hold_rcpt: float = 0.0) -> None:
        self.held = hold_rcpt
        self.proc = start_smtp(self.port, self.maildir, reject=self.REFUSED, hold_rcpt=hold_rcpt)

    def stop(self) -> None:
        stop(self.proc)
        self.proc = None

    def messages(self) -> list:
        from stack.smtp import read

        return read(self.maildir)

    def clear(self) -> None:
        for folder in ("new", "cur", "tmp"):
            for path in (self.maildir / folder).glob("*"):
                path.unlink()


@pytest.fixture
def mailbox(servers):
    """The SMTP server, emptied for this test, and running normally again after it."""
    smtp = servers["smtp"]
    if smtp.proc is None or smtp.proc.poll() is not None:
        smtp.start()
    smtp.clear()
    yield smtp
    if smtp.proc is None or smtp.proc.poll() is not None or smtp.held:
        smtp.stop()
        smtp.start()


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    """One migrated database per backend for the session (PostgreSQL: a fresh database)."""
    urls = {"sqlite": f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"}
    pg_name = None
    admin = None
    if "postgresql" in BACKENDS:
        pg_name = f"oneway_test_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{pg_name}"'))
        urls["postgresql"] = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{pg_name}"
    migrated = set()
    yield urls, migrated
    if pg_name:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
        admin.dispose()


def app_config(servers, database_url: str, **extra) -> dict:
    cfg = {k: v for k, v in servers.items() if k.isupper()}
    cfg.update(SQLALCHEMY_DATABASE_URI=database_url, SECRET_KEY=SECRET, TESTING=True,
               WTF_CSRF_ENABLED=True, SERVER_NAME=None, WHISPER_MODEL="tiny.en",
               PASSWORD_HASH_METHOD="pbkdf2:sha256:1", SESSION_COOKIE_SECURE=False,
               REMEMBER_COOKIE_SECURE=False)
    cfg.update(extra)
    return cfg


def worker_env(servers, database_url: str) -> dict:
    """The environment a separate worker or web process needs to share this test's state."""
    env = dict(os.environ)
    env.update({k: str(v) for k, v in servers.items() if k.isupper()})
    env.update(ONEWAY_ENV="testing", DATABASE_URL=database_url, SECRET_KEY=SECRET,
               WHISPER_MODEL="tiny.en", PYTHONUNBUFFERED="1")
    return env


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def app(servers, databases, backend):
    os.environ.setdefault("ONEWAY_ENV", "testing")
    from app import create_app
    from app.extensions import db

    urls, migrated = databases
    application = create_app(app_config(servers, urls[backend]))
    # Requests made while this fixture's app context is pushed share its `g` (Flask reuses an
    # outer app context); clear it per request, as a real server's fresh context would be.
    request_started.connect(_fresh_g, application)
    application.test_client_class = BufferedClient
    with application.app_context():
        if backend not in migrated:
            from flask_migrate import upgrade

            upgrade(directory=str(ROOT / "migrations"))
            migrated.add(backend)
        _empty_tables(db)
        from app.queue import redis_conn
        from app.storage import current_storage

        current_storage().ensure_bucket()

        redis_conn().flushdb()
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def other_app(servers, databases, backend):
    """other_app(**settings): a second app on the same database, Redis and storage as `app`, with
    other settings (an unreachable Redis, a trusted proxy); disposed of after the test."""
    from app import create_app
    from app.extensions import db

    made = []

    def make(**config):
        other = create_app(app_config(servers, databases[0][backend], **config))
        other.test_client_class = BufferedClient
        made.append(other)
        return other

    yield make
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


class BufferedClient(FlaskClient):
    """Reads every response whole unless asked not to: a streamed response left unread would
    otherwise be finalised later, during another test, and pop that test's app context."""

    def open(self, *args, buffered: bool = True, **kwargs):
        return super().open(*args, buffered=buffered, **kwargs)


def _fresh_g(sender, **extra) -> None:
    for key in list(g):
        g.pop(key)


def _empty_tables(db) -> None:
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def csrf_client(app):
    """A test client that reads the CSRF token from a page, as a browser form would."""
    from tests.helpers import CsrfClient

    return CsrfClient(app.test_client())


@pytest.fixture
def login_as(app):
    """login_as(user): a fresh browser-like client (CSRF tokens and all) signed in as that user."""
    from tests.helpers import CsrfClient

    def login(user):
        cc = CsrfClient(app.test_client())
        cc.login(user.email)
        return cc

    return login


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory):
    """Tiny media made on the spot: test pattern video, espeak-ng speech, their mixes."""
    from tests.media import make_media

    return make_media(tmp_path_factory.mktemp("media"))


@pytest.fixture(scope="session")
def upright_phone(media_dir):
    """Safari's recording of an iPhone held upright (tests/media.py), made once per run."""
    from tests.media import upright_phone_mp4

    return upright_phone_mp4(media_dir["speech"].parent, media_dir["speech"])


@pytest.fixture
def run_jobs(app):
    """Run every queued job in this process with RQ's SimpleWorker in burst mode."""
    from rq import Queue, SimpleWorker

    import jobs
    from app.queue import QUEUES, redis_conn

    jobs.use_app(app)

    def run():
        conn = redis_conn()
        worker = SimpleWorker([Queue(q, connection=conn) for q in QUEUES], connection=conn)
        worker.work(burst=True, with_scheduler=False)

    yield run
    jobs.use_app(None)


def run_cmd(args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, **kw)
