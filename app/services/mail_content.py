"""What candidate e-mails say, in the candidate's language and time zone (app.i18n.speaking): the
invitation (the interview's own words, or the default), a new link, reminders, a moved deadline and
the confirmation with receipts. Each is plain text and the same as HTML; the link's token is a slot
filled when the message is sent (app.services.outbox.TOKEN_SLOT)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from flask import current_app, has_request_context, request
from flask_babel import gettext as _
from flask_babel import ngettext

from app.i18n import page_dir, page_lang, speaking
from app.locale_format import format_day, format_when
from app.models import Candidate, Interview
from app.services import ServiceError

VARIABLES = ("candidate_name", "interview_title", "company", "deadline", "link")
_VARIABLE = re.compile(r"\{([a-z_]+)\}")
MAX_SUBJECT, MAX_BODY = 200, 5000


@dataclass
class Content:
    """One message's words: subject, plain text, HTML, and the language they are in."""

    subject: str
    text: str
    html: str
    locale: str


def language_of(candidate: Candidate) -> tuple[str | None, str]:
    """The language and time zone a candidate's e-mail is written in: their own choice, else the
    interview's; their browser's zone, else the interview's."""
    interview = candidate.interview
    return candidate.locale or interview.interface_language, candidate.time_zone or interview.time_zone


def base_url() -> str:
    """Oneway's public address for links: BASE_URL, else the address this request came to."""
    configured = current_app.config.get("BASE_URL", "").rstrip("/")
    if configured:
        return configured
    if has_request_context():
        return request.host_url.rstrip("/")
    raise ServiceError("Set BASE_URL (Oneway's public address) so that e-mails can carry links.", 409)


def candidate_link(token: str) -> str:
    return f"{base_url()}/i/{token}"


# -- the invitation template ----------------------------------------------------------------------

def default_template() -> tuple[str, str]:
    """The default subject and body, with {variables}, in the language now spoken."""
    names = {v: "{" + v + "}" for v in VARIABLES}
    subject = _("Your video interview for %(interview_title)s at %(company)s", **names)
    body = _("Hello %(candidate_name)s,\n\n"
             "%(company)s invites you to a one-way video interview for %(interview_title)s. You answer a "
             "few questions on camera, in your own time, from a computer or phone with a camera and "
             "microphone.\n\n"
             "Start here: %(link)s\n\n"
             "Please finish by %(deadline)s.", **names)
    return subject, body


def check_template(subject: str, body: str) -> tuple[str, str]:
    """An owner's template, checked: lengths, known {variables} only, and the link in the body."""
    subject, body = " ".join((subject or "").split()), (body or "").replace("\r\n", "\n").strip()
    if not subject or not body:
        raise ServiceError("The invitation needs a subject and a text.")
    if len(subject) > MAX_SUBJECT or len(body) > MAX_BODY:
        raise ServiceError(f"Keep the subject under {MAX_SUBJECT} and the text under {MAX_BODY} characters.")
    unknown = sorted({m for m in _VARIABLE.findall(subject + body) if m not in VARIABLES})
    if unknown:
        raise ServiceError("Unknown variable(s): " + ", ".join("{" + u + "}" for u in unknown)
                           + ". Use " + ", ".join("{" + v + "}" for v in VARIABLES) + ".")
    if "{link}" not in body:
        raise ServiceError("The text must contain {link}: without it the candidate cannot start.")
    return subject, body


def _fill(template: str, values: dict[str, str]) -> str:
    # Only our own variables are replaced; any other brace stays as written (no str.format).
    return _VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def invitation(candidate: Candidate, link: str, new_link: bool = False,
               template: tuple[str, str] | None = None) -> Content:
    """The invitation (or, with new_link, the new link replacing an old one) for `candidate`, in the
    interview's template (or `template`, a checked subject and body: a preview)."""
    return invitations([candidate], link, new_link, template)[0]


def invitations(candidates: list[Candidate], link: str, new_link: bool = False,
                template: tuple[str, str] | None = None) -> list[Content]:
    """invitation() for many candidates at once (a list of a thousand): each language and time zone
    is entered once, and each deadline and footer written once per language."""
    out: dict[int, Content] = {}
    groups: dict[tuple, list[int]] = {}
    for i, c in enumerate(candidates):
        groups.setdefault(language_of(c), []).append(i)
    for language, members in groups.items():
        with speaking(*language) as code:
            dates: dict = {}
            for i in members:
                out[i] = _invitation(candidates[i], link, new_link, template, code, dates)
    return [out[i] for i in range(len(candidates))]


def _invitation(candidate: Candidate, link: str, new_link: bool, template: tuple[str, str] | None,
                code: str, cache: dict) -> Content:
    interview = candidate.interview
    subject, body = template or _template(interview)
    if candidate.expires_at not in cache:
        cache[candidate.expires_at] = format_when(candidate.expires_at)
    values = {"candidate_name": candidate.name, "interview_title": interview.title,
              "company": interview.organisation.name, "deadline": cache[candidate.expires_at],
              "link": link}
    subject, text = _fill(subject, values), _fill(body, values)
    if new_link:
        subject = _("New link: %(subject)s", subject=subject)
        text = _("This link replaces the one we sent before, which no longer works.") + "\n\n" + text
    footer_key = ("footer", candidate.delete_by.date())
    if footer_key not in cache:
        cache[footer_key] = _footer(candidate)
    return _finish(subject, text + "\n\n" + cache[footer_key], link, code)


def _template(interview: Interview) -> tuple[str, str]:
    if interview.invitation_subject and interview.invitation_body:
        return interview.invitation_subject, interview.invitation_body
    return default_template()


def _footer(candidate: Candidate) -> str:
    interview = candidate.interview
    n = len(interview.questions)
    lines = [ngettext("What to expect: %(num)s question; each shows how long you have to think and to "
                      "answer.", "What to expect: %(num)s questions; each shows how long you have to "
                      "think and to answer.", n)]
    if interview.contact_email:
        lines.append(_("Questions, or need another way to apply? Write to %(email)s.",
                       email=interview.contact_email))
    lines.append(ngettext("Privacy: your recordings are seen only by the team hiring for this role, are "
                          "kept for %(num)s day and deleted by %(date)s.",
                          "Privacy: your recordings are seen only by the team hiring for this role, are "
                          "kept for %(num)s days and deleted by %(date)s.", interview.retention_days,
                          date=format_day(candidate.delete_by)))
    return "\n".join(lines)


def _finish(subject: str, text: str, link: str | None, code: str) -> Content:
    return Content(subject=subject, text=text, html=to_html(text, link), locale=code)


def to_html(text: str, link: str | None = None) -> str:
    """Plain text as a small HTML document: paragraphs, line breaks and the link made clickable."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        escaped = html.escape(block)
        if link:
            safe = html.escape(link)
            escaped = escaped.replace(safe, f'<a href="{safe}">{safe}</a>')
        paragraphs.append("<p>" + escaped.replace("\n", "<br>\n") + "</p>")
    return (f'<!doctype html>\n<html lang="{page_lang()}" dir="{page_dir()}"><head><meta charset="utf-8">'
            "</head>\n<body style=\"font-family: sans-serif; line-height: 1.5; max-width: 40em\">\n"
            + "\n".join(paragraphs) + "\n</body></html>\n")


# -- the other candidate messages -----------------------------------------------------------------

def reminder(candidate: Candidate, link: str) -> Content:
    """A reminder before the deadline, to a candidate who has not finished."""
    interview = candidate.interview
    with speaking(*language_of(candidate)) as code:
        subject = _("Reminder: your video interview for %(title)s", title=interview.title)
        text = "\n\n".join([
            _("Hello %(name)s,", name=candidate.name),
            _("A reminder that your video interview for %(title)s at %(company)s is open until "
              "%(deadline)s.", title=interview.title, company=interview.organisation.name,
              deadline=format_when(candidate.expires_at)),
            _("Continue here: %(link)s", link=link),
            _footer(candidate)])
        return _finish(subject, text, link, code)


def extension(candidate: Candidate, link: str) -> Content:
    """The deadline moved: the new one."""
    interview = candidate.interview
    with speaking(*language_of(candidate)) as code:
        subject = _("More time for your video interview for %(title)s", title=interview.title)
        text = "\n\n".join([
            _("Hello %(name)s,", name=candidate.name),
            _("You now have until %(deadline)s to finish your video interview for %(title)s.",
              deadline=format_when(candidate.expires_at), title=interview.title),
            _("Your link stays the same: %(link)s", link=link)])
        return _finish(subject, text, link, code)


def confirmation(candidate: Candidate, receipts: list[tuple[int, int | None, str | None]]) -> Content:
    """We received your answers: one receipt (question number, bytes, SHA-256) per answer."""
    interview = candidate.interview
    with speaking(*language_of(candidate)) as code:
        subject = _("We received your answers for %(title)s", title=interview.title)
        lines = [_("Question %(num)s: %(bytes)s bytes, SHA-256 %(sha)s", num=n, bytes=size or 0,
                   sha=sha or "—") for n, size, sha in receipts]
        text = "\n\n".join([
            _("Hello %(name)s,", name=candidate.name),
            _("Thank you: your interview for %(title)s at %(company)s is complete, and every answer "
              "reached us. The team will be in touch.", title=interview.title,
              company=interview.organisation.name),
            _("Your receipts (the size and fingerprint of each answer as we stored it):") + "\n"
            + "\n".join(lines),
            _footer(candidate)])
        return _finish(subject, text, None, code)


def decision(candidate: Candidate, message: str, link: str) -> Content:
    """A rejection with the team's own words to the candidate, and where to read it again and ask that
    a person looks once more (app.services.rights)."""
    interview = candidate.interview
    with speaking(*language_of(candidate)) as code:
        subject = _("About your application for %(title)s", title=interview.title)
        text = "\n\n".join([
            _("Hello %(name)s,", name=candidate.name),
            _("%(company)s has a message for you about your application for %(title)s:",
              company=interview.organisation.name, title=interview.title),
            message,
            _("You can read it again on your page, and ask that a person looks at your application once "
              "more: %(link)s", link=link),
            _footer(candidate)])
        return _finish(subject, text, link, code)


def deletion_requested(candidate: Candidate, link: str) -> Content:
    """The candidate asked that everything be deleted: when, and how to stop it before then."""
    interview = candidate.interview
    with speaking(*language_of(candidate)) as code:
        subject = _("Your data for %(title)s will be deleted on %(date)s", title=interview.title,
                    date=format_day(candidate.deletion_due_at))
        text = "\n\n".join([
            _("Hello %(name)s,", name=candidate.name),
            _("You asked %(company)s to delete everything it keeps about you for %(title)s: your "
              "recordings, transcripts, scores and notes. It will all be deleted on %(date)s.",
              company=interview.organisation.name, title=interview.title,
              date=format_day(candidate.deletion_due_at)),
            _("Changed your mind, or did not ask for this? You can cancel until then: %(link)s",
              link=link)])
        return _finish(subject, text, link, code)
