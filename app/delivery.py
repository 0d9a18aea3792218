"""Serving stored media to browsers with HTTP Range (206), whatever S3 server is behind."""

from __future__ import annotations

from flask import Response, abort, request, stream_with_context

from app.storage import current_storage


def stream_object(key: str, size: int, content_type: str, download_name: str | None = None) -> Response:
    """Answer a GET for an object, honouring one byte range so that players can seek."""
    store = current_storage()
    start, end = 0, size
    status = 200
    rng = request.range
    if rng is not None and rng.units == "bytes":
        bounds = rng.range_for_length(size)
        if bounds is None:
            resp = Response(status=416)
            resp.headers["Content-Range"] = f"bytes */{size}"
            return resp
        start, end = bounds
        status = 206
    length = end - start
    body = stream_with_context(store.iter_range(key, start, length)) if length else iter(())
    resp = Response(body, status=status, mimetype=content_type, direct_passthrough=True)
    resp.headers["Accept-Ranges"] = "bytes"
    resp.headers["Content-Length"] = str(length)
    resp.headers["Cache-Control"] = "private, max-age=300"
    if status == 206:
        resp.headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    if download_name:
        resp.headers["Content-Disposition"] = f'attachment; filename="{download_name}"'
    return resp


def require(value, message: str = "This file is not available yet."):
    if value is None:
        abort(404, message)
    return value
