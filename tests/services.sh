#!/usr/bin/env bash
# Throwaway PostgreSQL and Redis servers for the test suite (used by `make test`).
#
#   tests/services.sh packages      install the Debian packages postgresql, redis-server, chromium, gettext and a CJK font if missing
#   tests/services.sh start [DIR]   start both servers with their files in DIR (default .tmp/services);
#                                   writes DIR/env (shell exports) and prints it
#   tests/services.sh stop [DIR]    stop both servers and delete DIR
#
# Both servers listen on 127.0.0.1 only, on the first free port from 54329 (PostgreSQL) and 63799
# (Redis); PostgreSQL trusts local connections and runs without fsync: the data is thrown away.
# Autovacuum is off: every test rolls its rows back, and autovacuum then vacuumed and analyzed the
# tables over and over, taking a core of two from the tests and leaving statistics of whatever moment
# it sampled (an almost empty table), from which the planner chose nested loops of full scans: CI's
# seed_demo hung. Statistics now come only from what the code itself analyzes, the same every run.
# initdb and postgres refuse to run as root, so as root they run as the `postgres` system user.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_PORT_FIRST=54329
REDIS_PORT_FIRST=63799
PORT_TRIES=20
MARKER=.crm-usage-test-services

log() { printf 'services: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# The bin directory of the newest PostgreSQL server installed by Debian's packages (or on PATH).
pg_bindir() {
    local dir best="" best_version=0 version
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] || continue
        version="$(basename "$(dirname "$dir")")"
        version="${version%%.*}"
        if [[ "$version" =~ ^[0-9]+$ ]] && [ "$version" -gt "$best_version" ]; then
            best="$dir" best_version="$version"
        fi
    done
    if [ -z "$best" ] && command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        best="$(dirname "$(command -v initdb)")"
    fi
    printf '%s' "$best"
}

missing_packages() {
    local missing=()
    [ -n "$(pg_bindir)" ] || missing+=(postgresql)
    { command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; } || missing+=(redis-server)
    # The browser tests drive Debian's Chromium with Playwright (its own browser download is not used).
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    # gettext's msgfmt/xgettext: the test that the Chinese catalog covers every UI string needs them.
    command -v msgfmt >/dev/null 2>&1 || missing+=(gettext)
    # A Chinese font, so that the browser tests and screenshots of the zh-Hans pages draw glyphs, not boxes.
    [ -n "$(fc-list :lang=zh 2>/dev/null)" ] || missing+=(fonts-wqy-microhei)
    printf '%s\n' "${missing[@]}"
}

cmd_packages() {
    local missing
    mapfile -t missing < <(missing_packages | sed '/^$/d')
    [ "${#missing[@]}" -eq 0 ] && return 0
    if ! is_root; then
        die "the tests need the Debian packages: ${missing[*]}. Install them as root:
    sudo apt-get update && sudo apt-get install -y ${missing[*]}
  (or run 'make test-fast' for the SQLite-only suite)."
    fi
    command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get to install them with."
    log "installing ${missing[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    mapfile -t missing < <(missing_packages | sed '/^$/d')
    [ "${#missing[@]}" -eq 0 ] || die "still missing after apt-get install: ${missing[*]}"
}

port_in_use() {
    # Something accepts connections on 127.0.0.1:$1.
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Run a PostgreSQL binary as the postgres system user when we are root.
as_pg_user() {
    if is_root; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start_postgres() {
    local dir="$1" bin port tries=0
    bin="$(pg_bindir)"
    [ -n "$bin" ] || die "no PostgreSQL server found (run: tests/services.sh packages)."
    mkdir -p "$dir/pg"
    if is_root; then
        id postgres >/dev/null 2>&1 || die "the postgres system user does not exist (is the postgresql package installed?)."
        chown postgres: "$dir/pg"
    fi
    as_pg_user "$bin/initdb" -D "$dir/pg/data" -U postgres --auth=trust --no-locale -E UTF8 --no-sync \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed."; }
    as_pg_user mkdir -p "$dir/pg/sock"
    port=$PG_PORT_FIRST
    while :; do
        if ! port_in_use "$port"; then
            printf 'PG_BIN=%q\nPG_DATA=%q\n' "$bin" "$dir/pg/data" >"$dir/state.pg"
            if as_pg_user "$bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/postgres.log" -w -t 60 \
                -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/pg/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c autovacuum=off -c max_connections=50" \
                start >/dev/null; then
                break
            fi
            log "PostgreSQL did not start on port $port:"
            tail -n 5 "$dir/pg/postgres.log" >&2 || true
        fi
        tries=$((tries + 1))
        [ "$tries" -lt "$PORT_TRIES" ] || die "could not start PostgreSQL on ports $PG_PORT_FIRST-$port."
        port=$((port + 1))
    done
    "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres crm_usage
    printf 'PG_PORT=%q\n' "$port" >>"$dir/state.pg"
    log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $dir/pg/data)"
    PG_URL="postgres://postgres@127.0.0.1:$port/crm_usage"
}

start_redis() {
    local dir="$1" port tries=0 waited
    mkdir -p "$dir/redis"
    port=$REDIS_PORT_FIRST
    while :; do
        if ! port_in_use "$port"; then
            printf 'REDIS_PORT=%q\nREDIS_PIDFILE=%q\n' "$port" "$dir/redis/redis.pid" >"$dir/state.redis"
            redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --dir "$dir/redis" --appendonly yes \
                --save '' --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/redis.log" >/dev/null
            for waited in $(seq 1 50); do
                if [ -s "$dir/redis/redis.pid" ] && kill -0 "$(cat "$dir/redis/redis.pid")" 2>/dev/null \
                    && redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG; then
                    break 2
                fi
                sleep 0.1
            done
            log "Redis did not start on port $port (waited ${waited}00 ms):"
            tail -n 5 "$dir/redis/redis.log" >&2 || true
            stop_redis "$dir"
        fi
        tries=$((tries + 1))
        [ "$tries" -lt "$PORT_TRIES" ] || die "could not start Redis on ports $REDIS_PORT_FIRST-$port."
        port=$((port + 1))
    done
    log "Redis $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on 127.0.0.1:$port"
    REDIS_URL="redis://127.0.0.1:$port/0"
}

stop_postgres() {
    local dir="$1" PG_BIN="" PG_DATA="" PG_PORT=""
    [ -f "$dir/state.pg" ] || return 0
    # shellcheck disable=SC1091
    source "$dir/state.pg"
    if [ -n "$PG_BIN" ] && [ -f "$PG_DATA/postmaster.pid" ]; then
        as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 30 stop >/dev/null 2>&1 \
            || as_pg_user "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w -t 30 stop >/dev/null 2>&1 \
            || log "warning: could not stop PostgreSQL (data dir $PG_DATA)"
    fi
    rm -f "$dir/state.pg"
}

stop_redis() {
    local dir="$1" REDIS_PORT="" REDIS_PIDFILE="" pid n
    [ -f "$dir/state.redis" ] || return 0
    # shellcheck disable=SC1091
    source "$dir/state.redis"
    if [ -n "$REDIS_PIDFILE" ] && [ -s "$REDIS_PIDFILE" ]; then
        pid="$(cat "$REDIS_PIDFILE")"
        if kill -0 "$pid" 2>/dev/null; then
            redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
            for n in $(seq 1 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            if kill -0 "$pid" 2>/dev/null; then
                log "warning: Redis (pid $pid) did not stop after ${n}00 ms; killing it"
                kill -9 "$pid" 2>/dev/null || true
            fi
        fi
    fi
    rm -f "$dir/state.redis"
}

cmd_start() {
    local dir="${1:-$REPO_ROOT/.tmp/services}"
    if [ -f "$dir/state.pg" ] || [ -f "$dir/state.redis" ]; then
        die "services already started in $dir (run: tests/services.sh stop $dir)."
    fi
    cmd_packages
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    touch "$dir/$MARKER"
    # The postgres user must be able to reach its data directory inside.
    chmod 755 "$dir"
    # Leave nothing running when a start fails half-way.
    # shellcheck disable=SC2064  # expand $dir now
    trap "cmd_stop $(printf '%q' "$dir")" EXIT
    start_postgres "$dir"
    start_redis "$dir"
    trap - EXIT
    cat >"$dir/env" <<EOF
export DATABASE_URL=$PG_URL
export CELERY_BROKER_URL=$REDIS_URL
EOF
    cat "$dir/env"
}

cmd_stop() {
    local dir="${1:-$REPO_ROOT/.tmp/services}"
    [ -d "$dir" ] || return 0
    stop_redis "$dir"
    stop_postgres "$dir"
    # Delete only a directory this script filled.
    if [ -f "$dir/$MARKER" ]; then
        rm -rf "$dir"
    fi
}

case "${1:-}" in
    packages) cmd_packages ;;
    start) cmd_start "${2:-}" ;;
    stop) cmd_stop "${2:-}" ;;
    *)
        echo "usage: $0 packages | start [DIR] | stop [DIR]" >&2
        exit 2
        ;;
esac
