"""The gunicorn settings every way of serving Oneway shares: `make run` and the tests
(stack.services.web_command) and the production image (docker/entrypoint.sh) all start gunicorn
with `-c python:app.gunicorn_conf`. What differs between them (address, worker counts) stays on
their command lines, which take precedence over this file."""

from __future__ import annotations

import os

from gunicorn.glogging import Logger

from app.logmask import MaskTokens, mask

# gthread workers: media is streamed through the app, so a request may hold a thread a while;
# the timeout is the worker heartbeat, not a limit on one request.
worker_class = "gthread"
timeout = int(os.environ.get("WEB_TIMEOUT", "120"))
accesslog = "-"
errorlog = "-"
# gunicorn 27's control socket (in $HOME or $XDG_RUNTIME_DIR) is an admin interface nobody here
# uses; two servers on one machine would also share its one path.
control_socket_disable = True


class MaskingLogger(Logger):
    """gunicorn's logger, with secret link tokens masked wherever a request's line, path, query,
    headers (Referer: the page a link was followed from) or environment reach a log line."""

    def atoms(self, resp, req, environ, request_time):
        return {key: mask(value) for key, value in super().atoms(resp, req, environ, request_time).items()}

    def setup(self, cfg):
        super().setup(cfg)
        # "Error handling request /i/..." and the like; a filter on the logger, so that handlers
        # set up later (a log file reopened) are covered as well.
        if not any(isinstance(f, MaskTokens) for f in self.error_log.filters):
            self.error_log.addFilter(MaskTokens())


logger_class = MaskingLogger
