"""Bulk invitation benchmark: 1,000 candidates invited in one request, every invitation delivered.

    .venv/bin/python bench/outreach.py > bench/results/outreach-$(date +%F).json

It starts what `make run` starts (gunicorn, redis-server, the local SMTP server, mail workers) on a
fresh SQLite database, signs in, and posts a list of --invites candidates to the bulk invite.
create_ms: that request's time (loopback, so the server's time); all_delivered_s: from its answer
until the SMTP server held one message per candidate; duplicates: messages that arrived more than
once (by Message-ID); lost: candidates whose invitation never arrived within --timeout seconds.
MAIL_RATE_PER_MINUTE is set to --rate (0: no limit) for the run. One JSON object goes to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    from tests.mailstack import mail_stack

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--invites", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="mail worker processes")
    parser.add_argument("--rate", type=int, default=0, help="MAIL_RATE_PER_MINUTE for the run")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="oneway-bench-outreach-") as tmp, \
            mail_stack(Path(tmp), web_workers=2, MAIL_RATE_PER_MINUTE=args.rate) as stack:
        for _ in range(args.workers):
            stack.start_worker()
        time.sleep(3)  # the workers' start (importing the app), as in a running install
        status, create_ms = stack.invite_list(args.invites)
        if status != 302:
            print(f"the bulk invite answered {status}", file=sys.stderr)
            return 1
        delivered_s = stack.wait_for(args.invites, args.timeout)
        time.sleep(2)  # anything sent twice would arrive now
        got = stack.received()
    print(json.dumps({
        "invites": args.invites, "create_ms": round(create_ms), "all_delivered_s":
            round(delivered_s, 1) if delivered_s is not None else None,
        "duplicates": sum(n - 1 for n in got.values()), "lost": max(0, args.invites - len(got)),
        "mail_workers": args.workers, "rate_limit_per_minute": args.rate, "database": "sqlite",
        "cpus": os.cpu_count()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
