# Sourced by the bench scripts.

# rate_limit_flags BIN [off|high]: the flags that turn a binary's rate limits off (the load
# comes from one anonymous address, far above the defaults), or make them count every
# request and refuse none ("high": what they cost): a burst of 10^9 refilled at 1/s, so a
# bucket is never empty in a run and, once used, not full either (a full bucket may be
# forgotten and made anew, which a rate of 10^9/s would do on every request). Nothing for
# a binary without rate limits (asked with --help), so older binaries run too.
rate_limit_flags() {
  "$1" --help 2>/dev/null | grep -q -- --requests-per-second || return 0
  if [ "${2:-off}" = high ]; then
    echo --requests-per-second 1 --request-burst 1000000000 --tool-calls-per-second 1 --tool-call-burst 1000000000
  else
    echo --requests-per-second 0 --tool-calls-per-second 0
  fi
}

# Processes a script started (PIDS+=($!)), all killed on exit: call kill_on_exit once.
PIDS=()
kill_started() {
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
kill_on_exit() { trap kill_started EXIT; }

# A free TCP port on 127.0.0.1 (the kernel's choice).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# listening_url FILE PID SECONDS: the "http://.../mcp" a starting frontmcp-server prints to
# FILE, once it is there; "" when PID exits first or SECONDS pass.
listening_url() {
  local file=$1 pid=$2 url=""
  for _ in $(seq $(($3 * 10))); do
    url=$(grep -o -m1 'http://[^ ]*/mcp' "$file" 2>/dev/null || true)
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "$url"
}

# start_redis DIR [CPU]: a private redis-server on a free loopback port (pinned to CPU when
# given), persisting nothing, logging to DIR/redis.log; sets REDIS_PORT once it answers PING
# (≤ 10 s, else exits).
start_redis() {
  local pin=()
  [ -n "${2:-}" ] && pin=(taskset -c "$2")
  REDIS_PORT=$(free_port)
  "${pin[@]}" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$1" \
    >"$1/redis.log" 2>&1 &
  PIDS+=($!)
  timeout 10 bash -c "until redis-cli -p $REDIS_PORT ping 2>/dev/null | grep -q PONG; do sleep 0.05; done"
}
