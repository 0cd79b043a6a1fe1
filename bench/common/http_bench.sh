# shellcheck shell=bash
# bench/common/http_bench.sh: what the HTTP benchmarks (bench/http/run, bench/track/run) share,
# sourced by them (bash, set -euo pipefail): checking the tools, building the targets, a temporary
# folder whose servers are stopped and which is removed on exit, free ports on 127.0.0.1, a
# throwaway nginx serving a static file (the reference), and one wrk run printed as
# "NAME req/s R p99 P ms".
#
# The caller sets, before sourcing: BENCH_NAME (the prefix of error messages, e.g.
# "bench/http/run"), ROOT (the repository), BUILD (the build directory), DURATION (wrk's -d),
# NGINX (the nginx binary). Optional: WRK_CONNECTIONS (wrk's -c, default 50),
# WRK_FAIL_ON_SOCKET_ERRORS=1 (a run with socket errors ends the script, like one with error
# answers). Every failure prints one line (and wrk's report where there is one) on stderr and
# exits 1.

# bench_require TOOL...: each TOOL must be on PATH (or an executable path).
bench_require() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "$BENCH_NAME: $tool is not installed" >&2; exit 1; }
  done
}

# bench_build TARGET...: configures BUILD (RelWithDebInfo, no tests) when it is new (an existing
# build directory keeps its settings), then builds the targets.
bench_build() {
  if [[ ! -f "$BUILD/build.ninja" ]]; then
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_BUILD_TESTS=OFF >/dev/null
  fi
  cmake --build "$BUILD" -j2 --target "$@" >/dev/null
}

# bench_tmp PREFIX: TMP=/tmp/PREFIX.XXXXXX (readable by nginx's workers); on exit every process
# in PIDS is killed and waited for, and TMP is removed.
bench_tmp() {
  TMP=$(mktemp -d "/tmp/$1.XXXXXX")
  chmod 755 "$TMP"  # nginx workers drop privileges and must read the document root
  PIDS=()
  trap bench_cleanup EXIT
}
bench_cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}

# free_port: prints a TCP port free on 127.0.0.1 now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for_port PORT: waits (up to 30 s) until something accepts on 127.0.0.1:PORT; fails with the
# tail of $TMP/app.err (the kiln server's stderr) when nothing does.
wait_for_port() {
  for _ in $(seq 1 600); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "$BENCH_NAME: nothing listening on 127.0.0.1:$1" >&2
  [ -f "$TMP/app.err" ] && tail -5 "$TMP/app.err" >&2
  return 1
}

# start_nginx TYPES LOCATION: a throwaway nginx (2 workers, own config, pid, logs and temp dirs in
# TMP, access log off) serving $TMP/www on NGINX_PORT (set here), with TYPES as its MIME types
# directive and LOCATION as the body of `location / { }`; returns once it accepts connections.
# The caller writes the file(s) under $TMP/www first.
start_nginx() {
  local types=$1 location=$2
  NGINX_PORT=$(free_port)
  mkdir -p "$TMP/www" "$TMP/logs" "$TMP/temp"
  chmod -R a+rX "$TMP/www"
  cat >"$TMP/nginx.conf" <<CONF
daemon off;
worker_processes 2;
pid $TMP/nginx.pid;
error_log $TMP/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $TMP/temp/body;
  proxy_temp_path $TMP/temp/proxy;
  fastcgi_temp_path $TMP/temp/fastcgi;
  uwsgi_temp_path $TMP/temp/uwsgi;
  scgi_temp_path $TMP/temp/scgi;
  $types
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $TMP/www;
    location / {$location}
  }
}
CONF
  "$NGINX" -p "$TMP" -c "$TMP/nginx.conf" -e "$TMP/logs/error.log" &
  PIDS+=($!)
  wait_for_port "$NGINX_PORT"
}

# run_wrk NAME URL [WRK_ARGS...]: `wrk -t2 -c$WRK_CONNECTIONS -d$DURATION --latency WRK_ARGS URL`;
# prints "NAME req/s R p99 P ms" and sets REQS (requests a second) and COUNT (requests answered).
# Fails when any answer was a 4xx/5xx (wrk's "Non-2xx or 3xx responses"), and, with
# WRK_FAIL_ON_SOCKET_ERRORS=1, on socket errors.
run_wrk() {
  local name=$1 url=$2 out
  shift 2
  out=$(wrk -t2 -c"${WRK_CONNECTIONS:-50}" -d"$DURATION" --latency "$@" "$url")
  if echo "$out" | grep -q "Non-2xx"; then
    echo "$BENCH_NAME: $name answered errors:" >&2
    echo "$out" >&2
    exit 1
  fi
  if [[ ${WRK_FAIL_ON_SOCKET_ERRORS:-0} == 1 ]] && echo "$out" | grep -q "Socket errors"; then
    echo "$BENCH_NAME: $name had socket errors:" >&2
    echo "$out" >&2
    exit 1
  fi
  REQS=$(echo "$out" | awk '/^Requests\/sec:/ {print $2}')
  # shellcheck disable=SC2034  # read by the caller
  COUNT=$(echo "$out" | awk '/requests in/ {print $1}')
  local p99
  p99=$(echo "$out" | awk '$1 == "99%" {
    v = $2; unit = v; gsub(/[0-9.]/, "", unit); sub(/[a-z]+$/, "", v);
    if (unit == "us") v /= 1000; else if (unit == "s") v *= 1000; else if (unit == "m") v *= 60000;
    printf "%.2f", v }')
  printf '%-28s req/s %10.1f   p99 %8s ms\n' "$name" "$REQS" "$p99"
}
