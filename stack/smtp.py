"""A local SMTP server that keeps every message it is given (aiosmtpd), for `make run` and the tests:
nothing leaves the machine. Each message is a file in a Maildir (`new/`), readable with any mail
client or `python -m stack.smtp --list DIR`.

    python -m stack.smtp --port 8025 --maildir var/mail [--reject REGEX] [--hold-rcpt SECONDS]

--reject answers 550 to recipients matching REGEX (a permanent refusal, as a real relay does for an
unknown mailbox); --hold-rcpt waits before accepting each recipient (tests kill a sender meanwhile).
"""

from __future__ import annotations

import argparse
import asyncio
import mailbox
import re
import signal
import sys
import threading
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

from aiosmtpd.controller import Controller


class Catcher:
    """aiosmtpd handler: keep each message in the Maildir, refuse the recipients it is told to."""

    def __init__(self, maildir: Path, reject: str | None = None, hold_rcpt: float = 0.0):
        self.box = mailbox.Maildir(str(maildir), create=True)
        self.reject = re.compile(reject) if reject else None
        self.hold_rcpt = hold_rcpt

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.hold_rcpt:
            await asyncio.sleep(self.hold_rcpt)
        if self.reject and self.reject.search(address):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.box.add(envelope.original_content or envelope.content)
        print(f"mail: {envelope.mail_from} -> {', '.join(envelope.rcpt_tos)}", flush=True)
        return "250 Message accepted for delivery"


def read(maildir: Path) -> list:
    """Every message kept in `maildir`, parsed (email.message.EmailMessage), oldest first."""
    new = Path(maildir) / "new"
    if not new.is_dir():
        return []
    files = sorted(new.iterdir(), key=lambda p: (p.stat().st_mtime, p.name))
    return [message_from_bytes(p.read_bytes(), policy=default_policy) for p in files]


def serve(port: int, maildir: Path, reject: str | None, hold_rcpt: float) -> None:
    controller = Controller(Catcher(maildir, reject, hold_rcpt), hostname="127.0.0.1", port=port,
                            data_size_limit=10 * 1024 * 1024)
    controller.start()
    print(f"SMTP server on 127.0.0.1:{port}; messages kept in {maildir}/new", flush=True)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    controller.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--maildir", type=Path, required=True)
    parser.add_argument("--reject", default=None)
    parser.add_argument("--hold-rcpt", type=float, default=0.0)
    parser.add_argument("--list", action="store_true", help="print the kept messages' headers and stop")
    args = parser.parse_args(argv)
    if args.list:
        for m in read(args.maildir):
            print(f"{m['Date']}  {m['To']}  {m['Subject']}")
        return 0
    serve(args.port, args.maildir, args.reject, args.hold_rcpt)
    return 0


if __name__ == "__main__":
    sys.exit(main())
