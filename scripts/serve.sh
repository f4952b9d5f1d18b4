#!/usr/bin/env bash
# Production serving on one machine (`make serve`): SERVE_PROCESSES portal processes (default 2),
# each a gunicorn with one worker on its own port, sharing REDIS_URL and the database, behind
# nginx with sticky sessions on ONE address (http://$SERVE_BIND:$PORT). Stays in the foreground;
# Ctrl-C (or SIGTERM) stops everything it started.
#
#   REDIS_URL            required with more than one process (the Socket.IO message queue)
#   DATABASE_URL         PostgreSQL recommended (SQLite works only while all processes share one disk)
#   PORT                 the public port (default 5000); the processes use PORT+1 … PORT+N
#   SERVE_BIND           the public interface (default 127.0.0.1; 0.0.0.0 to listen on all)
#   SERVE_PROCESSES      number of portal processes (default 2)
#   SOCKETIO_ASYNC_MODE  threading (default: gthread workers, SERVE_THREADS threads each)
#                        or gevent (gevent workers, SERVE_CONNECTIONS connections each)
#   SERVE_THREADS        default 400; SERVE_CONNECTIONS default 2000
#   SERVE_RUN_DIR        where the rendered nginx config and pid file go (default instance/serve)
#   SERVE_MIGRATE        1 (default): `flask db upgrade` first; 0 to skip
#
# Without nginx installed (Debian: apt-get install nginx-light) only SERVE_PROCESSES=1 works:
# that one process then listens on PORT itself.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
BIN="${VENV_BIN:-$ROOT/.venv/bin}"

PORT="${PORT:-5000}"
BIND="${SERVE_BIND:-127.0.0.1}"
N="${SERVE_PROCESSES:-2}"
MODE="${SOCKETIO_ASYNC_MODE:-threading}"
RUN="${SERVE_RUN_DIR:-$ROOT/instance/serve}"
export SOCKETIO_ASYNC_MODE="$MODE"
export TRUSTED_PROXY_HOPS="${TRUSTED_PROXY_HOPS:-1}"

die() { echo "serve: $*" >&2; exit 2; }

[[ "$N" =~ ^[1-9][0-9]*$ ]] || die "SERVE_PROCESSES must be a positive number"
case "$MODE" in
  # threading: a WebSocket holds a thread, so threads (and gunicorn's connection cap) bound the sockets.
  threading) WORKER=(--worker-class gthread --threads "${SERVE_THREADS:-400}"
                     --worker-connections "$(( ${SERVE_THREADS:-400} + 100 ))") ;;
  gevent) WORKER=(--worker-class gevent --worker-connections "${SERVE_CONNECTIONS:-2000}") ;;
  *) die "SOCKETIO_ASYNC_MODE must be threading or gevent (eventlet is unmaintained and gunicorn no longer runs it)" ;;
esac
if [ "$MODE" = gevent ] && ! "$BIN/python" -c "import gevent" 2>/dev/null; then
  die "SOCKETIO_ASYNC_MODE=gevent needs gevent (pip install -r requirements.txt)"
fi

NGINX="$(command -v nginx || true)"
[ -z "$NGINX" ] && [ -x /usr/sbin/nginx ] && NGINX=/usr/sbin/nginx
if [ "$N" -gt 1 ]; then
  [ -n "${REDIS_URL:-}" ] || die "REDIS_URL is required: $N processes share rooms through the Redis message queue"
  [ -n "$NGINX" ] || die "nginx is needed to put $N processes behind one address (apt-get install nginx-light), or run SERVE_PROCESSES=1"
fi
if [ -n "${REDIS_URL:-}" ]; then
  "$BIN/python" -c "import redis, sys; redis.Redis.from_url(sys.argv[1]).ping()" "$REDIS_URL" 2>/dev/null \
    || die "cannot reach Redis at REDIS_URL"
fi
case "${DATABASE_URL:-sqlite}" in
  sqlite*) echo "serve: note: SQLite database; PostgreSQL (DATABASE_URL) is recommended for several processes" >&2 ;;
esac

mkdir -p "$RUN"
PIDS=()
stop() {
  trap - INT TERM EXIT
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop INT TERM EXIT

# Migrate once, before any process starts (never from several processes at once).
if [ "${SERVE_MIGRATE:-1}" = 1 ]; then
  "$BIN/flask" --app wsgi db upgrade
fi

start_portal() {  # $1: bind address
  "$BIN/gunicorn" "${WORKER[@]}" --workers 1 --bind "$1" --graceful-timeout 10 --no-control-socket \
    --access-logfile - --error-logfile - wsgi:app &
  PIDS+=("$!")
}

wait_healthy() {  # $1: base URL
  for _ in $(seq 1 150); do
    if "$BIN/python" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + '/healthz', timeout=2)" "$1" 2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  die "$1 did not become healthy"
}

if [ "$N" -eq 1 ] && [ -z "$NGINX" ]; then
  start_portal "$BIND:$PORT"
  wait_healthy "http://127.0.0.1:$PORT"
  echo "serve: 1 process ($MODE) on http://$BIND:$PORT (no nginx: static files served by the portal)"
  wait -n "${PIDS[@]}"
  exit 1
fi

SERVERS=""
for i in $(seq 1 "$N"); do
  start_portal "127.0.0.1:$((PORT + i))"
  SERVERS+="    server 127.0.0.1:$((PORT + i));"$'\n'
done
for i in $(seq 1 "$N"); do wait_healthy "http://127.0.0.1:$((PORT + i))"; done

# deploy/nginx.conf with this run's backends, address and static path, inside a minimal main
# config whose pid and temp files stay in $RUN (no root needed).
awk -v servers="$SERVERS" -v listen="$BIND:$PORT" -v static="$ROOT/static/" '
  /# BEGIN servers/ { printf "%s", servers; skip = 1; next }
  /# END servers/ { skip = 0; next }
  skip { next }
  /^    listen 80;/ { print "    listen " listen ";"; next }
  { gsub("/srv/portal/static/", static); print }
' deploy/nginx.conf > "$RUN/site.conf"
cat > "$RUN/nginx.conf" <<EOF
worker_processes 1;
pid $RUN/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
    types {
        text/html html; text/css css; application/javascript js mjs; application/json json map;
        image/svg+xml svg; image/png png; image/jpeg jpg jpeg; image/x-icon ico; font/woff2 woff2;
    }
    default_type application/octet-stream;
    sendfile on;
    access_log off;
    client_body_temp_path $RUN/tmp-body;
    proxy_temp_path $RUN/tmp-proxy;
    fastcgi_temp_path $RUN/tmp-fastcgi;
    uwsgi_temp_path $RUN/tmp-uwsgi;
    scgi_temp_path $RUN/tmp-scgi;
    include $RUN/site.conf;
}
EOF
"$NGINX" -t -q -e stderr -p "$RUN" -c "$RUN/nginx.conf"
"$NGINX" -e stderr -p "$RUN" -c "$RUN/nginx.conf" -g "daemon off;" &
PIDS+=("$!")
wait_healthy "http://127.0.0.1:$PORT"
echo "serve: $N processes ($MODE) on ports $((PORT + 1))-$((PORT + N)) behind nginx on http://$BIND:$PORT"
# Whichever child exits first ends the whole set (the trap stops the rest).
wait -n "${PIDS[@]}"
exit 1
