#!/bin/bash
# lttng-stream.sh - a real LTTng 2.13 session daemon streams the texts app (test/view/lttng-ust-texts, one thread
# pinned to CPU 0, so two runs record the same events in the same order) to a relay.
#   Usage: bash lttng-stream.sh CTRL_URL DATA_URL SESSION[,SESSION...] ITERATIONS [LIVE_US [PAUSE_US [GO_FILE]]]
# Several sessions record the same events (each its own buffers, so timestamps differ by a few ns).
# LIVE_US > 0 makes it a live session (lttng create --live=LIVE_US). With GO_FILE, the script prints "started"
# once the session records and waits for GO_FILE to exist before running the app (a live viewer attaches in
# between), and "stopping" before it stops the session. Runs in a private mount namespace (tmpfs on
# /run/lttng and /dev/shm, its own LTTNG_HOME) with its own lttng-sessiond, stopped at the end: no other LTTng
# on the machine sees or is disturbed by it.
# Trace chunks: CREATE_OPTS adds options to `lttng create` (--snapshot), SETUP is an lttng command run on each
# session after enable-event (enable-rotation --timer 1s), and STEPS replaces the one app run by a list of steps:
# app (run the app), rotate, clear, snapshot (record), sleep:SECONDS. Each lttng step prints its output (and
# "STEP failed: ERROR" when it fails: the test reads lttng's error) on stdout.
set -euo pipefail
if [ -z "${RELAY_IN_NS:-}" ]; then
	export RELAY_IN_NS=1
	exec unshare -m --propagation private bash -c '
		mkdir -p /run/lttng && mount -t tmpfs relay-lttng /run/lttng &&
		mount -t tmpfs relay-shm /dev/shm && exec bash "$@"' bash "$0" "$@"
fi
CTRL=$1; DATA=$2; NAME=$3; ITER=$4; LIVE=${5:-0}; PAUSE=${6:-0}; GO=${7:-}
APP=$(cd "$(dirname "$0")/../view/lttng-ust-texts" && pwd)
WORK=$(mktemp -d /tmp/ltt-relay-XXXXXX)
export LTTNG_HOME=$WORK/home
mkdir -p "$LTTNG_HOME"
gcc -O2 -Wall -I"$APP" -o "$WORK/texts" "$APP/app.c" "$APP/tp.c" -llttng-ust -ldl -lpthread
lttng-sessiond --daemonize --no-kernel
PID=$(cat /run/lttng/lttng-sessiond.pid)
IFS=, read -ra NAMES <<< "$NAME"
cleanup() {
	for N in "${NAMES[@]}"; do lttng destroy "$N" >/dev/null 2>&1 || true; done
	kill "$PID" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
	rm -rf "$WORK"
}
trap cleanup EXIT
for N in "${NAMES[@]}"; do
	if [ "$LIVE" -gt 0 ]; then
		lttng create "$N" --live="$LIVE" --ctrl-url="$CTRL" --data-url="$DATA" >/dev/null
	else
		lttng create "$N" ${CREATE_OPTS:-} --ctrl-url="$CTRL" --data-url="$DATA" >/dev/null
	fi
	lttng enable-channel -s "$N" -u --subbuf-size 64K --num-subbuf 8 texts >/dev/null
	lttng enable-event -s "$N" -u -c texts 'texts:*' >/dev/null
	[ -z "${SETUP:-}" ] || lttng $SETUP -s "$N" >/dev/null
	lttng start "$N" >/dev/null
done
if [ -n "$GO" ]; then
	echo started
	while [ ! -e "$GO" ]; do sleep 0.05; done
fi
for STEP in ${STEPS:-app}; do
	case $STEP in
	app) taskset -c 0 "$WORK/texts" "$ITER" 7 1 "$PAUSE" ;;
	sleep:*) sleep "${STEP#sleep:}" ;;
	*)
		for N in "${NAMES[@]}"; do
			if [ "$STEP" = snapshot ]; then CMD=(snapshot record -s "$N"); else CMD=("$STEP" "$N"); fi
			lttng "${CMD[@]}" 2>"$WORK/err" || echo "$STEP failed: $(grep -m1 Error "$WORK/err")"
		done ;;
	esac
done
[ -z "$GO" ] || echo stopping
for N in "${NAMES[@]}"; do lttng stop "$N" >/dev/null; done
# With a live viewer attached, `lttng destroy` of a live session on lttng-relayd 2.13.9 never returned here
# (babeltrace2 or ltt view alike): live sessions are destroyed without waiting.
DESTROY_WAIT=(); [ "$LIVE" -gt 0 ] && DESTROY_WAIT=(--no-wait)
for N in "${NAMES[@]}"; do lttng destroy "${DESTROY_WAIT[@]}" "$N" >/dev/null; done
