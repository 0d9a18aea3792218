"""Inviting many candidates at once from a CSV file or pasted lines: read whatever encoding a
spreadsheet wrote (UTF-8 with or without its BOM, UTF-16, else Windows-1252/Latin-1), show each
row's problem before anything is made (a bad address, a missing name, a formula a spreadsheet would
run, a duplicate in the list, someone already invited), then make every row without a problem in one
transaction, with its invitation e-mail queued in the outbox. Up to MAX_ROWS at a time."""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from app import mail
from app.extensions import db
from app.models import Candidate, Interview, User, utcnow
from app.services import ServiceError, audit, outreach

MAX_ROWS = 1000
MAX_BYTES = 2 * 1024 * 1024
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?$")
_NAME_HEADERS = {"name", "full name", "candidate", "candidate name", "nom", "nombre", "名字", "姓名"}
_EMAIL_HEADERS = {"email", "e-mail", "email address", "e-mail address", "mail", "correo", "courriel"}
_DEADLINE_HEADERS = {"deadline", "due", "due date", "until", "expires"}


@dataclass
class Row:
    """One line of the list: what it says, and what is wrong with it (nothing: it will be invited)."""

    line: int
    name: str = ""
    email: str = ""
    deadline: datetime | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class Preview:
    """The list as read: every row, the text itself (sent back to confirm) and how it was decoded."""

    rows: list[Row]
    text: str
    note: str = ""

    @property
    def good(self) -> list[Row]:
        return [r for r in self.rows if not r.problems]

    @property
    def bad(self) -> list[Row]:
        return [r for r in self.rows if r.problems]


def decode(data: bytes) -> tuple[str, str]:
    """The text of an uploaded file and a note on how it was read; a binary file is refused."""
    if len(data) > MAX_BYTES:
        raise ServiceError(f"The file is larger than {MAX_BYTES // 1024 // 1024} MB; at most {MAX_ROWS} "
                           "candidates can be invited at once. Split it.", 413)
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise ServiceError("This is a spreadsheet file, not CSV: save it as CSV (UTF-8) and upload that.")
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                          (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return _text(data[len(bom):].decode(encoding, errors="replace")), f"Read as {encoding.upper()}."
    try:
        return _text(data.decode("utf-8")), ""
    except UnicodeDecodeError:
        return _text(data.decode("cp1252", errors="replace")), "Not UTF-8: read as Windows-1252 (Latin-1)."


def _text(text: str) -> str:
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\t\r\n")
    if "\x00" in text or controls > max(2, len(text) // 100):
        raise ServiceError("This file is not text: upload a CSV file, or paste the lines.")
    return text


def parse(interview: Interview, text: str, note: str = "") -> Preview:
    """Every row of the list with its problems; nothing is written."""
    lines = [row for row in _rows(text) if any(cell.strip() for cell in row[1])]
    columns, lines = _columns(lines)
    if len(lines) > MAX_ROWS:
        raise ServiceError(f"The list has {len(lines):,} rows; at most {MAX_ROWS:,} candidates can be "
                           "invited at once. Split it into smaller lists.", 413)
    if not lines:
        raise ServiceError("The list is empty: one candidate per line, name and e-mail address.")
    rows = [_row(n, cells, columns, interview) for n, cells in lines]
    _mark_duplicates(rows, interview)
    return Preview(rows=rows, text=text, note=note)


def _rows(text: str) -> list[tuple[int, list[str]]]:
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        return [(reader.line_num, cells) for cells in reader]
    except csv.Error as exc:
        raise ServiceError(f"The list could not be read as CSV (line {reader.line_num}: {exc}).") from None


def _columns(lines: list) -> tuple[dict[str, int] | None, list]:
    """Column positions from a header row ({"name": 0, "email": 1}), or None for a list without one."""
    if not lines:
        return None, lines
    header = [c.strip().lower() for c in lines[0][1]]
    found = {}
    known = (("name", _NAME_HEADERS), ("email", _EMAIL_HEADERS), ("deadline", _DEADLINE_HEADERS))
    for i, cell in enumerate(header):
        for key, names in known:
            if cell in names and key not in found:
                found[key] = i
    return (found, lines[1:]) if "email" in found else (None, lines)


def _row(line: int, cells: list[str], columns: dict[str, int] | None, interview: Interview) -> Row:
    cells = [c.strip() for c in cells]
    if columns:
        def at(key: str) -> str:
            i = columns.get(key)
            return cells[i] if i is not None and i < len(cells) else ""
        name, address, deadline = at("name"), at("email"), at("deadline")
    else:
        address = next((c for c in cells if "@" in c), "")
        deadline = next((c for c in cells if _DATE.match(c)), "")
        name = next((c for c in cells if c and c not in (address, deadline)), "")
    row = Row(line=line)
    _check(row, name, address, deadline, interview)
    return row


def _check(row: Row, name: str, address: str, deadline: str, interview: Interview) -> None:
    try:
        row.email, display = outreach.check_address(address) if address else ("", "")
    except ServiceError as exc:
        row.problems.append(exc.message)
        display = ""
    if not address:
        row.problems.append("No e-mail address.")
    row.name = mail.one_line(name or display)
    if not row.name:
        row.problems.append("No name.")
    elif len(row.name) > 200:
        row.problems.append("The name is longer than 200 characters.")
    formula = next((v for v in (name, address, deadline) if v.startswith(FORMULA_START)), None)
    if formula:
        row.problems.append(f"Starts with “{formula[0]}”, which a spreadsheet would run as a formula; "
                            "remove it.")
    if deadline:
        try:
            row.deadline = outreach.parse_deadline(deadline, interview)
        except ServiceError as exc:
            row.problems.append(exc.message)


def _mark_duplicates(rows: list[Row], interview: Interview) -> None:
    invited = set(db.session.execute(
        sa.select(sa.func.lower(Candidate.email)).where(Candidate.interview_id == interview.id)).scalars())
    first: dict[str, int] = {}
    for row in rows:
        if not row.email:
            continue
        if row.email in invited:
            row.problems.append("Already invited to this interview.")
        elif row.email in first:
            row.problems.append(f"The same address as line {first[row.email]}.")
        else:
            first[row.email] = row.line


def create(user: User, interview: Interview, text: str) -> tuple[int, int]:
    """Invite every row without a problem, in one transaction, each with its invitation e-mail queued;
    returns (invited, left out). The list is read again: what was previewed is what is made."""
    outreach.require_author(user)
    if not interview.questions:
        raise ServiceError("Add at least one question before inviting candidates.", 409)
    if not mail.configured():
        raise ServiceError("Invitations to a list are e-mailed, and e-mail is not set up on this server "
                           "(MAIL_SERVER). Invite candidates one at a time and copy their links.", 409)
    preview = parse(interview, text)
    good = preview.good
    if not good:
        raise ServiceError("No row can be invited: fix the problems shown and try again.")
    # One default deadline for the whole list: the same moment, written once per language.
    default = utcnow() + timedelta(days=interview.deadline_days)
    made = outreach.new_candidates(interview, [(r.name, r.email, r.deadline or default) for r in good])
    outreach.queue_invitations(made)
    audit.record("candidates.bulk_invited", interview, actor=user, count=len(made), emailed=len(made))
    db.session.commit()
    return len(made), len(preview.bad)
