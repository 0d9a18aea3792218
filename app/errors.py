"""How a refusal reaches the person: an error page, JSON for the scripts that talk JSON, or the form.

Services raise ServiceError with the HTTP status it means, and views let it through to the handlers
here. The one exception: a refusal of what a form sent (not a refusal of access, see
ServiceError.refuses_access) is shown with the form. A view wraps its service call in
`with flash_refusal():` (the refusal is flashed, the view goes on to its redirect) or
`with form_refusal() as refused:` (the view shows the form again with `refused` on it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, flash, jsonify, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError

from app.services import ServiceError

# The candidate's pages that are forms (their refusals get a page); the rest of /i/ is the recorder's
# JSON API.
_CANDIDATE_FORMS = {"candidate.consent", "candidate.accommodation", "candidate.language",
                    "candidate.later_deadline", "candidate.about_you", "candidate.ask_deletion",
                    "candidate.cancel_deletion", "candidate.withdraw", "candidate.ask_rereview"}
# Lazy: each is translated into the language of the page that shows it (app.i18n).
_TITLES = {404: _l("Not found"), 403: _l("Not allowed"), 409: _l("Not possible now"), 410: _l("Link expired"),
           429: _l("Too many tries")}


def init_app(app: Flask) -> None:
    """Answer refusals and HTTP errors with the error page, or JSON where the caller talks JSON."""
    app.register_error_handler(ServiceError, _service_error)
    app.register_error_handler(CSRFError, _csrf_error)
    for code, title, default in [(400, _l("Bad request"), _l("Bad request.")),
                                 (409, _l("Conflict"), _l("Conflict.")),
                                 (410, _l("Link no longer valid"), _l("Gone.")),
                                 (422, _l("Could not accept this"), _l("Invalid input."))]:
        app.register_error_handler(code, _described(code, title, default))
    for code, title, message in [(403, _l("Not allowed"), _l("Your role does not allow this action.")),
                                 (404, _l("Not found"),
                                  _l("This page does not exist, or you may not see it.")),
                                 (413, _l("Too large"), _l("That upload is larger than allowed."))]:
        app.register_error_handler(code, _fixed(code, title, message))


def wants_json() -> bool:
    """Whether this request's caller reads JSON rather than pages."""
    # The candidate's recorder talks JSON (its state poll included); their forms get pages.
    if request.path.startswith("/i/") and request.endpoint not in _CANDIDATE_FORMS and (
            request.method != "GET" or request.endpoint == "candidate.state"):
        return True
    return request.accept_mimetypes.best == "application/json"


def _render(status: int, title: str, message: str):
    # str(): a lazy message becomes text in this page's language (and is escaped as text, never as
    # markup, which a lazy string's __html__ would claim to be).
    title, message = str(title), str(message)
    if wants_json():
        return jsonify(error=message), status
    return render_template("error.html", title=title, message=message), status


def _service_error(e: ServiceError):
    resp = make_response(_render(e.status, _TITLES.get(e.status, _l("Could not do that")), e.message))
    if getattr(e, "retry_after", None):  # the token-guessing limit (app.services.ratelimit)
        resp.headers["Retry-After"] = str(e.retry_after)
    return resp


def _csrf_error(e: CSRFError):
    return _render(400, _l("Form expired"), _l("This form has expired or was not sent by this page. Go back, "
                                               "reload the page and try again."))


def _described(code: int, title: str, default: str):
    """A handler that shows the error's own description (abort(409, "...")), else `default`."""
    def handler(e):
        return _render(code, title, getattr(e, "description", default))
    return handler


def _fixed(code: int, title: str, message: str):
    """A handler that always says the same, whatever the error's own description."""
    def handler(e):
        return _render(code, title, message)
    return handler


@contextmanager
def flash_refusal() -> Iterator[None]:
    """Around a form's change after which the view redirects, refused or not: a refusal of what the
    form sent is flashed and ends the block. A refusal of access goes on to the error handler, and
    so does any refusal to a caller that reads JSON, whom a flash would never reach."""
    try:
        yield
    except ServiceError as e:
        if e.refuses_access or wants_json():
            raise
        flash(e.message, "error")


class Refusal:
    """What form_refusal caught: false until the form's change is refused."""

    def __init__(self) -> None:
        self.error: ServiceError | None = None

    def __bool__(self) -> bool:
        return self.error is not None

    @property
    def message(self) -> str | None:
        return self.error.message if self.error else None

    @property
    def status(self) -> int:
        """The refusal's HTTP status, for the form's page shown again; 200 while there is none."""
        return self.error.status if self.error else 200


@contextmanager
def form_refusal() -> Iterator[Refusal]:
    """Around a form's change after which a refusal shows the form's page again: a refusal of what
    the form sent ends the block and waits in the Refusal it yields, for the view to show with its
    status. A refusal of access goes on to the error handler."""
    refusal = Refusal()
    try:
        yield refusal
    except ServiceError as e:
        if e.refuses_access:
            raise
        refusal.error = e
