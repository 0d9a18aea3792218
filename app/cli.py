"""Flask CLI commands: the worker, demo data, accounts, password reset links, retries, missing
audio-only files, and purging expired candidates."""

from __future__ import annotations

import click
from flask import Flask

from app.extensions import db
from app.models import Role


def register_cli(app: Flask) -> None:
    """Register every `flask` command of the app, one group of commands at a time."""
    _setup_commands(app)
    _account_commands(app)
    _processing_commands(app)
    _retention_commands(app)


def _setup_commands(app: Flask) -> None:
    """Setting up: the storage bucket, and the demo organisation."""

    @app.cli.command("ensure-bucket")
    def ensure_bucket():
        """Create the S3 bucket if it does not exist."""
        from app.storage import current_storage

        current_storage().ensure_bucket()
        click.echo(f"Bucket {app.config['S3_BUCKET']} ready.")

    @app.cli.command("seed-demo")
    @click.option("--email", default="demo@oneway.local")
    @click.option("--password", default="demo-password")
    def seed_demo(email, password):
        """Create the demo organisation, login and interview once; print the login."""
        from app.models import User
        from app.services import accounts, interviews
        from app.services.interviews import QuestionInput

        user = db.session.execute(db.select(User).filter_by(email=email)).scalar_one_or_none()
        if user is None:
            org = accounts.create_organisation("Demo Company")
            user = accounts.create_user(org, email, "Demo Owner", password, Role.OWNER)
            db.session.commit()
            interviews.create_interview(
                user, "Backend engineer (demo)",
                "Thanks for your time. Three short questions; answer as you would in person.",
                "en",
                [QuestionInput("Tell us about yourself and what you enjoy building.", 20, 90, 2),
                 QuestionInput("Describe a production problem you solved. What did you learn?",
                               30, 120, 2),
                 QuestionInput("Why would you like to join us?", 15, 60, 3)])
        click.echo(f"Demo login: {email} / {password}")


def _account_commands(app: Flask) -> None:
    """Accounts: a new organisation's first account, and password reset links."""

    @app.cli.command("create-user")
    @click.argument("email")
    @click.option("--name", default="")
    @click.option("--role", default=Role.OWNER.value, type=click.Choice([r.value for r in Role]))
    @click.option("--organisation", "org_name", required=True, help="Name of a new organisation.")
    @click.password_option()
    def create_user(email, name, role, org_name, password):
        """Create an organisation and its first account."""
        from app.services import ServiceError, accounts

        try:
            org = accounts.create_organisation(org_name)
            accounts.create_user(org, email, name, password, role)
            db.session.commit()
        except ServiceError as e:
            raise click.ClickException(e.message)
        click.echo(f"Created {email} ({role}) in {org_name}.")

    @app.cli.command("reset-password")
    @click.argument("email")
    @click.option("--base-url", default="", help="Oneway's public address, e.g. https://oneway.example.com "
                  "(default: the BASE_URL setting, else SERVER_NAME; without either the link is a path).")
    def reset_password(email, base_url):
        """Print a once-only link that sets a new password for EMAIL's account."""
        from flask import url_for

        from app.services import ServiceError, passwords

        try:
            reset, token = passwords.operator_reset(email)
        except ServiceError as e:
            raise click.ClickException(e.message)
        base = (base_url or app.config["BASE_URL"]).rstrip("/")
        with app.test_request_context(base_url=base or None):
            link = url_for("auth.reset_password", token=token,
                           _external=bool(base or app.config.get("SERVER_NAME")))
        click.echo(f"Password reset link for {reset.user.name} <{reset.user.email}>:\n{link}")
        if link.startswith("/"):
            click.echo("Put this Oneway's address in front of it (or pass --base-url).")
        click.echo(f"It works once, for {passwords.RESET_HOURS} hours (until "
                   f"{reset.expires_at:%Y-%m-%d %H:%M} UTC), and replaces any earlier reset link. Whoever "
                   "holds it can set this account's password: pass it on privately.")


def _processing_commands(app: Flask) -> None:
    """Processing: the worker, and the operator's ways to send answers through it again."""

    @app.cli.command("worker")
    @click.argument("queues", nargs=-1)
    @click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
    def worker(queues, burst):
        """Run a background worker for QUEUES (default: mail webhooks asr media)."""
        from flask import current_app

        from app.queue import ONE_WORKER_QUEUES
        from jobs.worker import work, yield_cpu

        yield_cpu(current_app.config["WORKER_NICE"])
        work(list(queues) or list(ONE_WORKER_QUEUES), burst=burst,
             app=current_app._get_current_object())

    @app.cli.command("reconcile")
    def reconcile_cmd():
        """Queue again the stages of answers that no live job will finish, and the packages of
        candidates that no live job will build."""
        from app.services.pipeline import reconcile, reconcile_packages

        acted = reconcile(app.config["RECONCILE_MIN_AGE_SECONDS"], app.config["MAX_RECOVERIES"],
                          app.config["JOB_LEASE_SECONDS"])
        click.echo(f"Acted on {len(acted)} answer(s){': ' + ', '.join(acted) if acted else '.'}")
        queued = reconcile_packages(app.config["RECONCILE_MIN_AGE_SECONDS"], app.config["JOB_LEASE_SECONDS"])
        click.echo(f"Queued {len(queued)} candidate package(s){': ' + ', '.join(queued) if queued else '.'}")

    @app.cli.command("retry-answer")
    @click.argument("answer_public_id")
    def retry_answer(answer_public_id):
        """Send a failed answer through processing again (recorded in the audit log)."""
        from app.models import Answer
        from app.services import reprocess

        answer = db.session.execute(
            db.select(Answer).filter_by(public_id=answer_public_id)).scalar_one_or_none()
        if answer is None:
            raise click.ClickException("No answer with that id.")
        try:
            reprocess.operator_retry(answer)
        except ValueError as e:
            db.session.rollback()
            raise click.ClickException(str(e))
        click.echo(f"Answer {answer_public_id} queued again.")

    @app.cli.command("backfill-audio")
    def backfill_audio():
        """Queue the making of a speech WAV for ready video answers that have none, so that
        audio-only review can play their sound without the picture (answers processed now keep one)."""
        from app.models import Answer
        from app.queue import MEDIA_QUEUE, enqueue
        from app.services.pipeline import lacks_sound_only

        ids = db.session.execute(db.select(Answer.id).where(lacks_sound_only())).scalars().all()
        for answer_id in ids:
            enqueue("jobs.speech.run", answer_id, queue=MEDIA_QUEUE, job_id=f"speech-{answer_id}")
        click.echo(f"Queued {len(ids)} answer(s); a worker makes their WAVs. Answers with no sound "
                   "keep none: audio-only review shows their transcript.")


def _retention_commands(app: Flask) -> None:
    """Retention: deleting what is past its date."""

    @app.cli.command("purge-expired")
    @click.option("--dry-run", is_flag=True, help="List the candidates due, delete nothing.")
    def purge_expired_cmd(dry_run):
        """Delete everything about candidates whose deletion date has passed, audit events older
        than AUDIT_RETENTION_DAYS, and takes nobody can finish any more (workers do this hourly);
        prints the candidates' public ids and counts, never names or emails."""
        from app.models import utcnow
        from app.services import retention, takes

        if dry_run:
            due = retention.due_candidates(utcnow())
            for candidate in due:
                click.echo(f"Due: candidate {candidate.public_id} (deletion date "
                           f"{candidate.delete_by:%Y-%m-%d %H:%M} UTC)")
            click.echo(f"{len(due)} candidate(s) due; nothing deleted (--dry-run).")
            return
        purged = retention.purge_expired(utcnow())
        for p in purged:
            click.echo(f"Purged candidate {p.candidate}: {p.answers} answer(s), {p.objects} stored "
                       f"object(s), {p.rows} database row(s).")
        click.echo(f"Purged {len(purged)} candidate(s) past their deletion date.")
        click.echo(f"Let go of {takes.let_go_abandoned(utcnow())} take(s) nobody can finish.")
