#!/usr/bin/env bash
# partifact build end to end: one command trains, encodes into an artifact and finalizes; the
# index equals the one the separate stages write from the same model and rows; defaults
# (sqrt(rows) partitions, 8-dimension sub-vectors) are applied and reported; the work
# directory is removed unless kept; bad inputs are one line on stderr with exit 2 and leave no
# index behind.
PA=$1; T=$2; rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/lib.sh"

expect_exit 0 "$PA" gen-vectors --out "$T/base.fvecs" --rows 20000 --dim 32 --clusters 50 --seed 5
expect_exit 0 "$PA" gen-vectors --out "$T/q.fvecs" --rows 200 --dim 32 --clusters 50 --seed 5 --first-row 20000
expect_exit 0 "$PA" groundtruth --input "$T/base.fvecs" --queries "$T/q.fvecs" -k 10 --out "$T/gt.ivecs"

# defaults: sqrt(20000) = 141 partitions, 32/8 = 4 sub-vectors; the work directory is removed
expect_exit 0 "$PA" build --input "$T/base.fvecs" --out "$T/idx" --max-iters 10 --json
expect_out '"rows":20000,"skipped_invalid":0,"dim":32,"partitions":141,"sub_vectors":4,"metric":"l2"'
expect_exit 1 sh -c "ls '$T' | grep build-"
expect_exit 0 "$PA" index-info "$T/idx" --json
expect_out '"rows":20000,"bytes"'
expect_exit 0 "$PA" search --index "$T/idx" --queries "$T/q.fvecs" -k 10 --nprobes 141 --refine-factor 10 \
    --input "$T/base.fvecs" --groundtruth "$T/gt.ivecs" --json
r=$(sed -n 's/.*"recall":\([0-9.]*\).*/\1/p' "$T/out")
if awk -v r="$r" 'BEGIN { exit !(r >= 0.95) }'; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: refined recall $r < 0.95"; fi

# the same index as the separate stages (same seed -> same model -> same codes)
expect_exit 0 "$PA" build --input "$T/base.fvecs" --out "$T/idx2" --partitions 16 --sub-vectors 8 \
    --max-iters 10 --seed 9 --work-dir "$T/work" --keep-work --memory 8MiB --json
expect_out '"partitions":16,"sub_vectors":8'
# the phases' times (the benchmarks' per-phase figures): coarse + PQ training within train,
# read + assign/encode + write within encode
python3 - "$T/out" <<'PY' && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: build --json phases"; cat "$T/out"; }
import json, sys
j = json.load(open(sys.argv[1]))
ph = [j[k] for k in ("ivf_seconds", "pq_seconds", "read_seconds", "assign_encode_seconds", "write_seconds")]
assert all(v >= 0 for v in ph) and ph[3] > 0, ph
assert ph[0] + ph[1] <= j["train_seconds"] + 0.002, (ph, j["train_seconds"])
assert sum(ph[2:]) <= j["encode_seconds"] + 0.003, (ph, j["encode_seconds"])
# the training sample's read within training, the model's write outside it, both in the total
assert 0 <= j["sample_seconds"] <= j["train_seconds"] - ph[0] - ph[1] + 0.002, j
assert j["model_seconds"] >= 0, j
assert j["train_seconds"] + j["model_seconds"] + j["encode_seconds"] + j["finalize_seconds"] <= j["seconds"] + 0.004, j
PY
expect_exit 0 test -f "$T/work/artifact/manifest.json"
expect_exit 0 "$PA" verify "$T/work/artifact"
expect_exit 0 "$PA" train --input "$T/base.fvecs" --partitions 16 --sub-vectors 8 --max-iters 10 --seed 9 \
    --out "$T/model.lance"
expect_exit 0 cmp "$T/model.lance" "$T/work/model.lance"
expect_exit 0 "$PA" encode --input "$T/base.fvecs" --model "$T/model.lance" --out "$T/a" --memory 8MiB
expect_exit 0 "$PA" finalize --artifact "$T/a" --out "$T/idx3"
for f in index.idx auxiliary.idx; do expect_exit 0 cmp "$T/idx2/$f" "$T/idx3/$f"; done

# the training sample within --memory: 8000 rows of 16 dimensions (512001 bytes) are cut to
# the 6399 that 400 KiB hold, said on stderr and in --json (0: not cut; without --memory the
# sample is never cut); a budget below the least sample (256 rows, one per codeword) is
# refused before anything is read
expect_exit 0 "$PA" gen-vectors --out "$T/s16.fvecs" --rows 8000 --dim 16 --clusters 8 --seed 3
expect_err 0 "partifact build: note: trained on 6399 of the 8000 sample rows, the most --memory holds" \
    "$PA" build --input "$T/s16.fvecs" --out "$T/cut" --partitions 4 --memory 400KiB --json
expect_out '"sample_rows":6399,'
expect_out '"sample_wanted_rows":8000}'
expect_exit 0 "$PA" build --input "$T/s16.fvecs" --out "$T/uncut" --partitions 4 --memory 1MiB --json
expect_out '"sample_rows":8000,'
expect_out '"sample_wanted_rows":0}'
expect_err 2 "partifact build: the memory budget of 16384 bytes is too small for the training sample: 4 partitions and 256 codewords need at least 256 rows of dimension 16, 16385 bytes; raise memory_bytes (--memory)" \
    "$PA" build --input "$T/s16.fvecs" --out "$T/bad5" --partitions 4 --memory 16KiB

# bad inputs: nothing is left that looks like an index
expect_err 2 "already exists" "$PA" build --input "$T/base.fvecs" --out "$T/idx"
expect_err 2 "cannot open" "$PA" build --input "$T/none.fvecs" --out "$T/bad1"
expect_err 2 "num_sub_vectors 7 does not divide dimension 32" \
    "$PA" build --input "$T/base.fvecs" --out "$T/bad2" --sub-vectors 7
expect_err 2 "at least as many rows as partitions" \
    "$PA" build --input "$T/base.fvecs" --out "$T/bad3" --partitions 30000
expect_err 2 "is not a valid value for --memory" "$PA" build --input "$T/base.fvecs" --out "$T/bad4" --memory lots
expect_err 2 "--input and --out are required" "$PA" build --input "$T/base.fvecs"
expect_exit 1 sh -c "ls '$T' | grep -e bad -e build- -e partial"
finish
