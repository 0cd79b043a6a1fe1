# shellcheck shell=sh
# bench/common/smtp_sink.sh: what the benchmarks that send into Postfix's smtp-sink
# (bench/engine/run, bench/send/run) share, sourced by them (POSIX sh, `set -eu`): starting the
# sink, the smtp-source reference run, and reading a "R msg/s" figure from a bench's output.
# The caller sets `root` (the repository) before sourcing and stops the sink itself
# ("$root/scripts/mailstack" sink stop PORT, usually in its EXIT trap).

# sink_start PORT: Postfix's smtp-sink on 127.0.0.1:PORT (scripts/mailstack sink), then 200
# messages from smtp-source into it to warm it up (page cache, the sink's first accept).
sink_start() {
  # shellcheck disable=SC2154  # root: set by the caller
  "$root/scripts/mailstack" sink start "$1"
  smtp-source -d -s 1 -m 200 -l 5000 -f bench@kiln-a.test -t lead@sink.test 127.0.0.1:"$1"
}

# smtp_source_rate SESSIONS MESSAGES PORT FORMAT: times smtp-source sending MESSAGES ~5 KB
# messages over SESSIONS reused connections (-d) into 127.0.0.1:PORT and prints MESSAGES per
# wall-clock second with the printf FORMAT (e.g. %.0f). Anything smtp-source prints goes to
# stderr; a failing smtp-source fails the caller (set -e).
smtp_source_rate() {
  t0=$(date +%s.%N)
  smtp-source -d -s "$1" -m "$2" -l 5000 -f bench@kiln-a.test -t lead@sink.test 127.0.0.1:"$3" >&2
  t1=$(date +%s.%N)
  awk -v n="$2" -v a="$t0" -v b="$t1" -v f="$4" 'BEGIN { printf f, n / (b - a) }'
}

# msg_rate: the figure before "msg/s" in the lines on stdin (e.g. a bench's "... = 1511 msg/s").
msg_rate() { awk '{ for (i = 1; i < NF; i++) if ($(i + 1) == "msg/s") print $i }'; }
