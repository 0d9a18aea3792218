#!/usr/bin/env bash
# Entrypoint of the Oneway image. One image, several roles, chosen by the first argument:
#   web             migrate the database, then serve HTTP with gunicorn on 0.0.0.0:8000
#   worker [QUEUE…] run a background worker for QUEUE… (default: $WORKER_QUEUES, else "mail webhooks asr media", as app.queue.ONE_WORKER_QUEUES)
#   migrate         migrate the database and create the S3 bucket, then exit (a one-shot job)
#   anything else   run as given, e.g. `flask seed-demo` or `bash`
set -euo pipefail

flask_app() {
  flask --app app:create_app "$@"
}

role="${1:-web}"
[ "$#" -gt 0 ] && shift

case "$role" in
  web)
    # A no-op when the migrate service already ran; keeps a lone `docker run … web` working.
    flask_app db upgrade
    # app/gunicorn_conf.py holds what `make run` shares: gthread workers, the timeout
    # (WEB_TIMEOUT), and access and error logs on stdout with secret link tokens masked.
    exec gunicorn \
      -c python:app.gunicorn_conf \
      --bind "0.0.0.0:${PORT:-8000}" \
      --workers "${WEB_CONCURRENCY:-2}" \
      --threads "${WEB_THREADS:-8}" \
      --graceful-timeout "${WEB_GRACEFUL_TIMEOUT:-30}" \
      --keep-alive 5 \
      --worker-tmp-dir /dev/shm \
      --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" \
      "$@" \
      'app:create_app()'
    ;;
  worker)
    if [ "$#" -eq 0 ]; then
      # Word splitting is wanted here: WORKER_QUEUES="media asr" gives two queues.
      # shellcheck disable=SC2086
      set -- ${WORKER_QUEUES:-mail webhooks asr media}
    fi
    exec flask --app app:create_app worker "$@"
    ;;
  migrate)
    flask_app db upgrade
    flask_app ensure-bucket
    ;;
  *)
    exec "$role" "$@"
    ;;
esac
