#!/bin/bash
# record.sh OUT N: builds the app (gcc, -llttng-ust) and records N events of it with the real LTTng into OUT
# (a lossless blocking channel). Runs its own lttng-sessiond in a private mount namespace (fresh tmpfs on
# /run/lttng and /dev/shm, as ../shared/peers/common.sh does), so that another sessiond on the machine is
# neither seen nor disturbed; that sessiond is stopped by its pid at the end.
set -euo pipefail
OUT=$1
N=$2
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "${BENCH_IN_NS:-}" ]; then
	export BENCH_IN_NS=1
	exec unshare -m --propagation private bash -c '
		mkdir -p /run/lttng && mount -t tmpfs bench-lttng /run/lttng &&
		mount -t tmpfs bench-shm /dev/shm && exec bash "$@"' bash "$0" "$@"
fi
BUILD=$(mktemp -d /tmp/ltt-bench-ust-build.XXXXXX)
export LTTNG_HOME=$BUILD/home
mkdir -p "$LTTNG_HOME"
gcc -O2 -Wall -I"$HERE" -o "$BUILD/app" "$HERE/app.c" "$HERE/tp.c" -llttng-ust -ldl -lm
lttng-sessiond --daemonize
SPID=$(cat /run/lttng/lttng-sessiond.pid)
cleanup() {
	lttng destroy bench >/dev/null 2>&1 || true
	kill "$SPID" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
	rm -rf "$BUILD"
}
trap cleanup EXIT
rm -rf "$OUT"
lttng create bench --output="$OUT" >/dev/null
lttng enable-channel -u --subbuf-size 4M --num-subbuf 8 --blocking-timeout=inf ch >/dev/null
lttng enable-event -u -c ch 'bench:*' >/dev/null
lttng start >/dev/null
LTTNG_UST_ALLOW_BLOCKING=1 "$BUILD/app" "$N"
lttng stop >/dev/null
lttng destroy bench >/dev/null
