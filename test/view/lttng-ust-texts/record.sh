#!/bin/bash
# record.sh - builds app (tp.h/tp.c/app.c) and records it with the real LTTng (lttng-tools 2.13) into OUT:
# one session, a `texts` channel in discard mode (events lost) or overwrite mode (packets lost) with tiny
# sub-buffers, per-UID or per-PID buffers, all `texts:*` events.
#   Usage: bash record.sh OUT [uid|pid] [ITERATIONS] [SEED] [SUBBUF_SIZE] [NUM_SUBBUF] [discard|overwrite]
#   (defaults: uid, 200 iterations per thread, seed 1, 4096-byte sub-buffers, 2 of them, discard)
#   A large trace: bash record.sh /tmp/big uid 1000000 1 1M 8   (2 M events; bigger sub-buffers lose fewer)
# The trace lands in OUT/ust/uid/0/64-bit or OUT/ust/pid/texts-PID-DATE. The script runs in a private mount
# namespace (fresh tmpfs on /run/lttng and /dev/shm, its own LTTNG_HOME) with its own lttng-sessiond, which it
# stops at the end: another lttng-sessiond on the machine is neither seen nor disturbed.
set -euo pipefail
if [ -z "${TEXTS_IN_NS:-}" ]; then
	export TEXTS_IN_NS=1
	exec unshare -m --propagation private bash -c '
		mkdir -p /run/lttng && mount -t tmpfs texts-lttng /run/lttng &&
		mount -t tmpfs texts-shm /dev/shm && exec bash "$@"' bash "$0" "$@"
fi
OUT=${1:?usage: record.sh OUT [uid|pid] [ITERATIONS] [SEED] [SUBBUF_SIZE] [NUM_SUBBUF] [discard|overwrite]}
BUF=${2:-uid}
ITER=${3:-200}
SEED=${4:-1}
SUBBUF=${5:-4096}
NSUB=${6:-2}
MODE=${7:-discard}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/ltt-texts-XXXXXX)
export LTTNG_HOME=$WORK/home
mkdir -p "$LTTNG_HOME"
gcc -O2 -Wall -I"$HERE" -o "$WORK/texts" "$HERE/app.c" "$HERE/tp.c" -llttng-ust -ldl -lpthread
lttng-sessiond --daemonize --no-kernel
PID=$(cat /run/lttng/lttng-sessiond.pid)
cleanup() {
	lttng destroy texts >/dev/null 2>&1 || true
	kill "$PID" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
	rm -rf "$WORK"
}
trap cleanup EXIT
rm -rf "$OUT"
lttng create texts --output="$OUT" >/dev/null
lttng enable-channel -u --buffers-"$BUF" --"$MODE" --subbuf-size "$SUBBUF" --num-subbuf "$NSUB" texts >/dev/null
lttng enable-event -u -c texts 'texts:*' >/dev/null
lttng start >/dev/null
"$WORK/texts" "$ITER" "$SEED"
lttng stop >/dev/null
lttng destroy texts >/dev/null
chmod -R a+rX "$OUT"
