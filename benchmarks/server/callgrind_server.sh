#!/bin/bash
# Whole-process callgrind of the benchmark server (uvloop + CPython + fasthttp) under wrk:
# user-space instructions per request, steady on a shared machine (timings are not).
# Usage: TREE=/path/to/tree PORT=18xxx PATHQ=/plaintext DUR=8 OUT=/tmp/cg.out benchmarks/server/callgrind_server.sh
#   extra: CONNS=64 (wrk -c), SCRIPT=file.lua (wrk -s, e.g. pipelining or POST), APP=module:app
# Loopback only (127.0.0.1), bounded: a 3 s warm-up and DUR seconds measured. Needs valgrind, wrk, curl.
# Then: callgrind_annotate --inclusive=yes $OUT.<pid> | less ; per request = total / requests.
TREE=${TREE:-$(cd "$(dirname "$0")/../.." && pwd)}; PORT=${PORT:-18099}; PATHQ=${PATHQ:-/plaintext}; OUT=${OUT:-/tmp/cg.out}
APP=${APP:-benchmarks.server.apps.fasthttp_app:app}; CONNS=${CONNS:-64}
# The interpreter itself, not a shim (pyenv's is a shell script: valgrind would trace the shell).
PY=${PY:-$(python -c "import sys; print(sys.executable)")}
cd "$TREE"
export PYTHONPATH="$TREE"
valgrind --tool=callgrind --callgrind-out-file=$OUT.%p --instr-atstart=no $PY -m fasthttp $APP --bind 127.0.0.1:$PORT > $OUT.log 2>&1 &
VP=$!
for i in $(seq 90); do curl -s -o /dev/null http://127.0.0.1:$PORT$PATHQ && break; sleep 1; done
S=""; [ -n "$SCRIPT" ] && S="-s $SCRIPT"
wrk -t1 -c$CONNS -d3s $S http://127.0.0.1:$PORT$PATHQ > /dev/null
callgrind_control -i on $VP >/dev/null
wrk -t1 -c$CONNS -d${DUR:-8}s $S http://127.0.0.1:$PORT$PATHQ > $OUT.wrk
callgrind_control -i off $VP > /dev/null
kill -INT $VP; wait $VP
REQ=$(grep -oE "^ *[0-9]+ requests" $OUT.wrk | grep -oE "[0-9]+")
IR=$(grep -oE "Collected : [0-9]+" $OUT.log | grep -oE "[0-9]+$")
echo "requests=$REQ instructions=$IR per_request=$((IR / REQ)) file=$OUT.$VP"
