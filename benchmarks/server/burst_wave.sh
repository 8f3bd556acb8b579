#!/bin/bash
# The c1000 second wave of issue 17, alone: a server that has served 1,000 connections gets
# 1,000 new ones together. One worker pinned to CPU 0, wrk to CPU 1 (as benchmarks.server);
# a 1 s warm-up with 1,000 connections, then two 4 s runs; prints req/s and the latency
# percentiles of both runs (p50 / p99 / p99.9 / max, as benchmarks.server reports them), and
# the kernel's TCP counters that could explain a tail
# (listen overflows, SYN queue drops, deferred ACKs, retransmissions; loopback is shared, so
# other traffic counts too).
#
#   benchmarks/server/burst_wave.sh [TREE] [SERVER ARGS...]
#   benchmarks/server/burst_wave.sh /work/main --defer-accept 1
#
# TREE: the fasthttp tree to serve (default: this one). Found with it (issue 17): with
# TCP_DEFER_ACCEPT and no accept backstop, p99 0.2-1.8 s; tcpdump showed each late connection's
# request ACKed by the kernel at once and answered up to 1.3 s later (a queue, not a drop).
set -u
HERE=$(cd "$(dirname "$0")/../.." && pwd)
TREE=${1:-$HERE}
shift || true
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LOG=$(mktemp)
LUA=$(mktemp --suffix=.lua)
cat >"$LUA" <<'EOF'
done = function(summary, latency, requests)
    io.write(string.format("latency p50 / p99 / p99.9 / max: %.2f / %.2f / %.2f / %.2f ms\n",
        latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        latency:percentile(99.9) / 1000, latency.max / 1000))
end
EOF
cd "$HERE"
PYTHONPATH=$TREE taskset -c 0 python -P -m fasthttp benchmarks.server.apps.fasthttp_app:app \
    --bind 127.0.0.1:$PORT --workers 1 "$@" >"$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -f "$LOG" "$LUA"' EXIT
for _ in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:$PORT/plaintext && break; sleep 0.1; done
nstat -n >/dev/null 2>&1
taskset -c 1 wrk -t1 -c1000 -d1s --timeout 8s http://127.0.0.1:$PORT/plaintext >/dev/null
for run in 1 2; do
    OUT=$(taskset -c 1 wrk -t1 -c1000 -d4s --timeout 8s -s "$LUA" http://127.0.0.1:$PORT/plaintext)
    echo "run $run: $(grep 'Requests/sec' <<<"$OUT" | tr -s ' ') | $(grep '^latency' <<<"$OUT")"
done
nstat 2>/dev/null | grep -E 'ListenOverflows|ListenDrops|ReqQFullDrop|DeferAccept|Syncookies|RetransSegs|SynRetrans' || true
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
