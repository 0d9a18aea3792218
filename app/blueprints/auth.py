"""Staff sign-in and sign-out, changing one's password, and setting one through a reset link."""

from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.errors import Refusal, form_refusal
from app.services import passwords, signin
from app.services.accounts import MIN_PASSWORD_LENGTH

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths; never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and not urlparse(target).netloc:
        return target
    return url_for("interviews.index")


def _password_form(template: str, refused: Refusal | None = None, **context):
    """A password form (sign-in included), with a refusal shown beside its field when it names one
    and summed up at the top; a limit's refusal carries Retry-After."""
    error = refused.error if refused else None
    if error is not None:
        flash(error.message, "error")
    resp = make_response(render_template(template, min_length=MIN_PASSWORD_LENGTH,
                                         errors={error.field: error.message} if error else {}, **context),
                         error.status if error else 200)
    if getattr(error, "retry_after", None):
        resp.headers["Retry-After"] = str(error.retry_after)
    return resp


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("interviews.index"))
    if request.method == "POST":
        email = request.form.get("email", "")
        with form_refusal() as refused:  # no match (401), or too many failures lately (429)
            user = signin.sign_in(email, request.form.get("password", ""))
        if refused:
            return _password_form("auth/login.html", refused, email=email)
        signin.log_in(user)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", email="")


@bp.post("/logout")
@login_required
def logout():
    signin.log_out()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    if request.method == "POST":
        user, form = current_user._get_current_object(), request.form
        with form_refusal() as refused:
            passwords.change_password(user, form.get("current_password", ""), form.get("password", ""),
                                      form.get("password_confirm", ""))
        if refused:
            return _password_form("auth/change_password.html", refused)
        signin.log_in(user)  # every sign-in ended: this browser takes a new one, the others are out
        flash("Your password is changed. Everywhere else you were signed in, you are now signed out.", "info")
        return redirect(url_for("interviews.index"))
    return _password_form("auth/change_password.html")


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    reset = passwords.reset_for_token(token)  # unknown 404, spent 410, guessing 429: the error page
    if request.method == "POST":
        with form_refusal() as refused:  # a link used meanwhile (410) goes to the error page
            passwords.use_reset(reset, request.form.get("password", ""),
                                request.form.get("password_confirm", ""))
        if refused:
            return _password_form("auth/reset_password.html", refused, reset=reset)
        signin.log_out()  # whoever this browser was signed in as, it now starts from the sign-in page
        flash("Your new password is set, and every session of your account has ended. Sign in with it.",
              "info")
        return redirect(url_for(".login"))
    return _password_form("auth/reset_password.html", reset=reset)
