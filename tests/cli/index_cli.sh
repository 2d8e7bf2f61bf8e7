#!/usr/bin/env bash
# partifact finalize / search / groundtruth / index-info / export-rows end to end on small
# clustered data: both finalize paths give byte-identical index files (also with a memory
# budget that forces spills), search reports QPS and recall, refine reaches 0.95, and every bad
# input is one line on stderr with exit 2.
PA=$1; T=$2; rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/lib.sh"

expect_exit 0 "$PA" gen-vectors --out "$T/base.fvecs" --rows 20000 --dim 32 --clusters 50 --seed 3
expect_exit 0 "$PA" gen-vectors --out "$T/q.fvecs" --rows 200 --dim 32 --clusters 50 --seed 3 --first-row 20000
expect_exit 0 "$PA" gen-vectors --out "$T/q16.fvecs" --rows 10 --dim 16 --seed 3
expect_exit 0 "$PA" train --input "$T/base.fvecs" --partitions 16 --sub-vectors 8 --max-iters 10 --out "$T/model.lance"
expect_exit 0 "$PA" train --input "$T/base.fvecs" --partitions 8 --sub-vectors 8 --max-iters 5 --out "$T/model8.lance"
expect_exit 0 "$PA" encode --input "$T/base.fvecs" --model "$T/model.lance" --out "$T/a" --memory 4MiB --batch 4096

# artifact path (model from the manifest), and the generic path on shuffled rows
expect_exit 0 "$PA" finalize --artifact "$T/a" --out "$T/idx" --json
expect_out '"source":"artifact","rows":20000,"partitions":16'
expect_exit 0 "$PA" export-rows --artifact "$T/a" --out "$T/rows.lance" --shuffle 9 --json
expect_out '"rows":20000,"shuffled":true'
expect_exit 0 "$PA" finalize --rows "$T/rows.lance" --model "$T/model.lance" --out "$T/idx2" --json
expect_out '"spill_runs":0'
expect_exit 0 "$PA" finalize --rows "$T/rows.lance" --model "$T/model.lance" --out "$T/idx3/" --memory 128KiB --tmp "$T" --json
expect_out '"source":"rows","rows":20000'
if grep -q '"spill_runs":0,' "$T/out"; then fail=$((fail+1)); echo "FAIL: 128KiB did not spill"; else pass=$((pass+1)); fi
# the whole file fits one sort chunk (720,000 bytes), but not beside the writer's copy of the
# largest partition (2,204 rows, 70,528 bytes): it is spilled as one run and merged instead
expect_exit 0 "$PA" finalize --rows "$T/rows.lance" --model "$T/model.lance" --out "$T/idx1c" --memory 760KiB --tmp "$T" --json
expect_out '"spill_bytes":320000,"spill_runs":1'
for f in index.idx auxiliary.idx; do
  expect_exit 0 cmp "$T/idx/$f" "$T/idx2/$f"
  expect_exit 0 cmp "$T/idx/$f" "$T/idx3/$f"
  expect_exit 0 cmp "$T/idx/$f" "$T/idx1c/$f"
done
expect_exit 1 sh -c "ls '$T' | grep -e partial -e spill"
# a partition larger than the memory budget is refused up front, with the numbers, both paths
expect_err 2 "which need 105792 bytes to read, sort and write (8-byte codes), and the manifest's tables 4160 bytes, more than the memory budget of 16384 bytes; raise memory_bytes (--memory)" \
    "$PA" finalize --artifact "$T/a" --out "$T/small" --memory 16KiB
expect_err 2 "which need 105792 bytes to merge, sort and write, and the read buffers of 11 spilled runs at least 2816 more: more than the memory budget of 65536 bytes" \
    "$PA" finalize --rows "$T/rows.lance" --model "$T/model.lance" --out "$T/small" --memory 64KiB --tmp "$T"
expect_exit 1 sh -c "ls '$T' | grep -e small -e partial -e spill"
expect_exit 0 "$PA" lance-info "$T/idx/auxiliary.idx"
expect_out 'storage_metadata'
# _rowid in InlineBitpacking pages as LanceDB writes it (1 MiB pages: 20000 rows, one page),
# the codes Flat
expect_exit 0 "$PA" lance-info --pages "$T/idx/auxiliary.idx"
expect_out 'page 0: rows [0, 20000) mini-block/inline_bitpacking'
cp "$T/out" "$T/aux-pages.txt"
expect_exit 0 grep -qx '    page 0: rows \[0, 20000) mini-block/inline_bitpacking at byte .*' "$T/aux-pages.txt"
expect_exit 0 sh -c "grep -A1 '^  __pq_code' '$T/aux-pages.txt' | grep -q 'mini-block/flat'"
expect_exit 0 sh -c "[ \$(grep -c inline_bitpacking '$T/aux-pages.txt') -eq 1 ]"
expect_exit 0 "$PA" index-info "$T/idx" --json
expect_out '"type":"IVF_PQ","metric":"l2","dimension":32,"partitions":16,"sub_vectors":8,"num_bits":8,"rows":20000'

# ground truth, search, recall
expect_exit 0 "$PA" groundtruth --input "$T/base.fvecs" --queries "$T/q.fvecs" -k 100 --out "$T/gt.ivecs" --json
expect_out '"queries":200,"k":100,"base_rows":20000'
expect_exit 0 "$PA" search --index "$T/idx" --queries "$T/q.fvecs" -k 10 --nprobes 4 --groundtruth "$T/gt.ivecs" --out "$T/res.ivecs" --json
expect_out '"recall":'
expect_out '"qps":'
expect_exit 0 test -s "$T/res.ivecs"
expect_exit 0 "$PA" search --index "$T/idx" --queries "$T/q.fvecs" -k 10 --nprobes 8 --refine-factor 10 --input "$T/base.fvecs" --groundtruth "$T/gt.ivecs" --json
r=$(sed -n 's/.*"recall":\([0-9.]*\).*/\1/p' "$T/out")
if awk "BEGIN{exit !($r >= 0.95)}"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: refine recall $r < 0.95"; fi
# nprobes above the partitions: a warning on stderr, clamped, still succeeds
"$PA" search --index "$T/idx" --queries "$T/q.fvecs" -k 10 --nprobes 1000 --json >"$T/out" 2>"$T/err"
if [ $? -eq 0 ] && grep -q 'warning: --nprobes 1000 is more than the index.s 16 partitions; using 16' "$T/err" && grep -q '"nprobes":16' "$T/out"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: nprobes clamp"; cat "$T/err"; fi

# errors: one line, exit 2
expect_err 2 "q16.fvecs have dimension 16, index" "$PA" search --index "$T/idx" --queries "$T/q16.fvecs"
expect_err 2 "k = 30000 is more than the 20000 rows" "$PA" search --index "$T/idx" --queries "$T/q.fvecs" -k 30000 --nprobes 16
expect_err 2 "nope/auxiliary.idx: cannot open" "$PA" search --index "$T/nope" --queries "$T/q.fvecs"
mkdir -p "$T/bad"; head -c 3000 "$T/idx/auxiliary.idx" > "$T/bad/auxiliary.idx"; cp "$T/idx/index.idx" "$T/bad/"
expect_err 2 "bad/auxiliary.idx" "$PA" index-info "$T/bad"
expect_err 2 "has 8 partitions, but artifact" "$PA" finalize --artifact "$T/a" --model "$T/model8.lance" --out "$T/idx4"
expect_err 2 "already exists" "$PA" finalize --artifact "$T/a" --out "$T/idx"
expect_err 2 "--rows needs --model" "$PA" finalize --rows "$T/rows.lance" --out "$T/idx4"
expect_err 2 "one of --artifact or --rows" "$PA" finalize --artifact "$T/a" --rows "$T/rows.lance" --out "$T/idx4"
expect_err 2 "has 100 neighbours per query, fewer than -k 200" "$PA" search --index "$T/idx" --queries "$T/q.fvecs" -k 200 --groundtruth "$T/gt.ivecs"
expect_err 2 "--refine-factor needs --input" "$PA" search --index "$T/idx" --queries "$T/q.fvecs" --refine-factor 4
expect_err 2 "queries have dimension 16, the base has dimension 32" "$PA" groundtruth --input "$T/base.fvecs" --queries "$T/q16.fvecs" -k 10 --out "$T/g2.ivecs"
expect_exit 1 test -e "$T/idx4"

# SIGKILL finalize at several moments: INDEX is either absent or complete, never half-written
expect_exit 0 "$PA" gen-vectors --out "$T/b128.fvecs" --rows 3000 --dim 128
expect_exit 0 "$PA" train --input "$T/b128.fvecs" --partitions 64 --sub-vectors 16 --max-iters 2 --out "$T/m64.lance"
expect_exit 0 "$PA" artifact-gen --out "$T/big" --rows 1000000 --partitions 64 --sub-vectors 16 --model "$T/m64.lance"
for d in 0.005 0.02 0.04 0.08 0.12 0.2 0.5; do
  rm -rf "$T/kix" "$T"/kix.partial-*
  "$PA" finalize --artifact "$T/big" --model "$T/m64.lance" --out "$T/kix" >/dev/null 2>&1 & pid=$!
  sleep $d; kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
  if [ ! -e "$T/kix" ]; then pass=$((pass+1))
  elif "$PA" index-info "$T/kix" --json 2>/dev/null | grep -q '"rows":1000000'; then pass=$((pass+1))
  else fail=$((fail+1)); echo "FAIL: killed after ${d}s left an incomplete $T/kix"; fi
done
finish
