#!/usr/bin/env bash
# Refine cost A/B (CPU time, so that a loaded machine's waits do not count): for each binary,
# paired and alternating (A B A B ...), the task-clock of `search --repeat 1` and of
# `search --repeat R+1` on the same queries; their difference / R is the CPU time of one pass
# (the index's and inputs' opening cancel out), printed per query in microseconds, with the
# median and range over RUNS pairs.
# Usage: bench/refine_ab.sh INDEX INPUT QUERIES BIN_A BIN_B [search options...]
#   env RUNS (5), R (4)
set -euo pipefail
idx=$1 input=$2 q=$3 A=$4 B=$5; shift 5
RUNS=${RUNS:-5}; R=${R:-4}
nq=$(( $(stat -c %s "$q") / (4 + 4 * $(od -An -t d4 -N 4 "$q" | tr -d ' ')) ))
cpu() { # cpu BIN REPEAT: task-clock milliseconds
  perf stat -x, -e task-clock "$1" search --index "$idx" --queries "$q" --input "$input" \
    --repeat "$2" "${@:3}" 2>&1 >/dev/null | awk -F, '/task-clock/ {print $1}'
}
echo "load before: $(uptime)"
ra=(); rb=()
for run in $(seq "$RUNS"); do
  for side in A B; do
    bin=$A; [ $side = B ] && bin=$B
    t1=$(cpu "$bin" 1 "$@"); tr=$(cpu "$bin" $((R + 1)) "$@")
    us=$(awk -v a="$t1" -v b="$tr" -v r="$R" -v n="$nq" 'BEGIN{printf "%.2f", (b - a) / r / n * 1000}')
    [ $side = A ] && ra+=("$us") || rb+=("$us")
  done
done
stats() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{printf "median %.2f us/query (range %.2f-%.2f, %d runs)", v[int((NR+1)/2)], v[1], v[NR], NR}'; }
echo "A $A: $(stats "${ra[@]}")  [${ra[*]}]"
echo "B $B: $(stats "${rb[@]}")  [${rb[*]}]"
echo "load after: $(uptime)"
