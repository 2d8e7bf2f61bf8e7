#!/usr/bin/env bash
# Fault injection (LD_PRELOAD libpafault.so) while replacing an output with --force: a model
# (the Lance writer), ground truth (the buffered output), an index and an artifact (directory
# outputs, swapped in by renameat2). Every pwrite, fsync and rename the replacement makes is
# failed in turn: the command exits 2 with one line, the old output is byte-identical, and no
# temporary file or work directory is left; then an undisturbed --force replaces it.
PA=$1; SHIM=$2; T=$3
rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/../cli/lib.sh"
. "$(dirname "$0")/../cli/writers.sh"
cd "$T" || exit 1
export OMP_NUM_THREADS=1
writer_inputs 2000 50
leftovers() { ls -A | grep -e 'partifact-tmp' -e '\.partial-' -e '\.build-'; }
cmds=(
  "train --input v.fvecs --partitions 8 --sub-vectors 4 --max-iters 2 --out OUT"
  "groundtruth --input v.fvecs --queries q.fvecs -k 10 --out OUT"
  "finalize --artifact a --out OUT"
  "encode --input v.fvecs --model m.lance --out OUT"
)
outs=(o-m.lance o-gt.ivecs o-idx o-art)
faults=0
for k in "${!cmds[@]}"; do
  o=${outs[$k]}; cmd=${cmds[$k]//OUT/$o}
  "$PA" $cmd >/dev/null
  before=$(tree_sum . | grep " ./$o")
  rm -f count.log; PA_FAULT_LOG=count.log LD_PRELOAD="$SHIM" "$PA" $cmd --force >/dev/null 2>&1
  read -r _ np _ nf _ nr <count.log
  for op in "pwrite 1" "pwrite $np" $(for n in $(seq 1 "$nf"); do echo "fsync $n"; done | tr ' ' :) \
            $(for n in $(seq 1 "$nr"); do echo "rename $n"; done | tr ' ' :); do
    set -- ${op//:/ }
    PA_FAULT_OP=$1 PA_FAULT_AT=$2 LD_PRELOAD="$SHIM" "$PA" $cmd --force >out 2>err; rc=$?
    faults=$((faults+1))
    if [ $rc -eq 1 ] && [ "$(wc -l <err)" -eq 1 ] && [ "$(tree_sum . | grep " ./$o")" = "$before" ] &&
       [ -z "$(leftovers)" ]; then pass=$((pass+1))
    else fail=$((fail+1)); echo "FAIL: ${cmd%% *} --force, $1 #$2 failing: rc=$rc, left: $(leftovers)"; cat err; fi
  done
  expect_exit 0 "$PA" $cmd --force
  [ -z "$(leftovers)" ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: ${cmd%% *} left $(leftovers)"; }
done
echo "output replacement faults injected: $faults"
finish
