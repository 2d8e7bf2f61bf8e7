#!/usr/bin/env bash
# Backend ABI v2 through the CLI: build and train run THROUGH the chosen backend (the reference
# plugin, whose trace=FILE option records each call and whose model is its own: evenly spaced
# sample rows), the model is bound once per job, encode's memory budget is planned from what the
# backend says it needs (work_bytes), --backend-option reaches the backend, which refuses a key
# it does not know, and the index built through the plugin is searched with recall checked.
PA=$1; T=$2; PLUGINS=$3; rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/lib.sh"
count() { grep -c -- "$1" "$T/trace"; }

expect_exit 0 "$PA" gen-vectors --out "$T/base.fvecs" --rows 20000 --dim 32 --clusters 50 --seed 7
expect_exit 0 "$PA" gen-vectors --out "$T/q.fvecs" --rows 200 --dim 32 --clusters 50 --seed 7 --first-row 20000
expect_exit 0 "$PA" groundtruth --input "$T/base.fvecs" --queries "$T/q.fvecs" -k 10 --out "$T/gt.ivecs"

# build: the plugin trains (on the whole 20000-row sample), is bound once, encodes, is unbound
expect_exit 0 "$PA" build --input "$T/base.fvecs" --out "$T/idx" --partitions 32 --sub-vectors 8 \
    --accelerator ref --backend-path "$PLUGINS" --backend-option "trace=$T/trace" \
    --work-dir "$T/work" --keep-work --json
expect_out '"partitions":32,"sub_vectors":8'
expect_out '"ivf_iters":1,"pq_iters":0' # the plugin's own stats, not the cpu's
expect_exit 0 test "$(cat "$T/trace" | tr '\n' ' ')" = \
    "create train rows=20000 partitions=32 bind partitions=32 dim=32 encode rows=20000 unbind destroy "
expect_exit 0 "$PA" verify "$T/work/artifact"
# searched with recall checked: the plugin's naive codes rank well enough to refine from
expect_exit 0 "$PA" search --index "$T/idx" --queries "$T/q.fvecs" -k 10 --nprobes 32 --refine-factor 10 \
    --input "$T/base.fvecs" --groundtruth "$T/gt.ivecs" --json
r=$(sed -n 's/.*"recall":\([0-9.]*\).*/\1/p' "$T/out")
if awk -v r="$r" 'BEGIN { exit !(r >= 0.85) }'; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: recall through the ref backend $r < 0.85"; fi

# train through the plugin: the same model as the build's, and not the cpu backend's
rm -f "$T/trace"
expect_exit 0 "$PA" train --input "$T/base.fvecs" --partitions 32 --sub-vectors 8 --out "$T/ref.lance" \
    --accelerator ref --backend-path "$PLUGINS" --backend-option "trace=$T/trace" --json
expect_exit 0 cmp "$T/ref.lance" "$T/work/model.lance"
expect_exit 0 test "$(count '^train rows=20000 partitions=32$')" = 1
expect_exit 0 "$PA" train --input "$T/base.fvecs" --partitions 32 --sub-vectors 8 --out "$T/cpu.lance"
expect_exit 1 cmp -s "$T/ref.lance" "$T/cpu.lance"
# train --encode encodes on the chosen backend too
rm -f "$T/trace"
expect_exit 0 "$PA" train --input "$T/base.fvecs" --partitions 32 --sub-vectors 8 --out "$T/ref2.lance" \
    --accelerator ref --backend-path "$PLUGINS" --backend-option "trace=$T/trace" --encode --json
expect_out '"encoded_rows":20000'
expect_exit 0 test "$(tr '\n' ' ' < "$T/trace")" = \
    "create train rows=20000 partitions=32 bind partitions=32 dim=32 encode rows=20000 unbind destroy "

# encode in batches: one bind for the whole job, one encode call per batch
rm -f "$T/trace"
expect_exit 0 "$PA" encode --input "$T/base.fvecs" --model "$T/ref.lance" --out "$T/a" --batch 5000 \
    --accelerator ref --backend-path "$PLUGINS" --backend-option "trace=$T/trace"
expect_exit 0 test "$(count '^bind ')" = 1
expect_exit 0 test "$(count '^encode rows=5000$')" = 4
expect_exit 0 test "$(count '^unbind$')" = 1
expect_exit 0 "$PA" verify "$T/a"

# the budget is planned from the backend's work_bytes: the ref plugin needs batch x dim floats
# per call (65536 x 32 x 4 bytes), the cpu backend its own blocks
expect_err 2 "the backend's working blocks 8388608, a batch of 65536 rows" \
    "$PA" encode --input "$T/base.fvecs" --model "$T/ref.lance" --out "$T/c" --memory 8MiB --batch 65536 \
    --accelerator ref --backend-path "$PLUGINS"
expect_err 2 "the backend's working blocks 524288, a batch of 65536 rows" \
    "$PA" encode --input "$T/base.fvecs" --model "$T/ref.lance" --out "$T/c" --memory 8MiB --batch 65536

# options reach the backend, which names a key it does not know
expect_err 2 'create failed: unknown option "colour" (the ref backend takes trace=FILE, corrupt=train|encode and fail)' \
    "$PA" encode --input "$T/base.fvecs" --model "$T/ref.lance" --out "$T/c" \
    --accelerator ref --backend-path "$PLUGINS" --backend-option colour=blue
expect_err 2 'create failed: unknown option "colour"' \
    "$PA" build --input "$T/base.fvecs" --out "$T/c" --accelerator ref --backend-path "$PLUGINS" \
    --backend-option "trace=$T/trace" --backend-option colour=blue
expect_err 2 'create failed: unknown option "colour"' \
    "$PA" train --input "$T/base.fvecs" --out "$T/c.lance" --partitions 8 --sub-vectors 8 \
    --accelerator ref --backend-path "$PLUGINS" --backend-option colour=blue
expect_err 2 'the cpu backend takes no options, got "threads=4" (unknown key "threads")' \
    "$PA" build --input "$T/base.fvecs" --out "$T/c" --backend-option threads=4
expect_err 2 '"colour" is not a valid value for --backend-option' \
    "$PA" build --input "$T/base.fvecs" --out "$T/c" --backend-option colour
expect_err 2 '"a=1,b=2" is not a valid value for --backend-option' \
    "$PA" encode --input "$T/base.fvecs" --model "$T/ref.lance" --out "$T/c" --backend-option a=1,b=2
# what a backend returns is checked: a non-finite model, a partition that does not exist
expect_err 2 "partifact build: backend ref: train: centroid 3 has a non-finite value" \
    "$PA" build --input "$T/base.fvecs" --out "$T/c" --partitions 32 --sub-vectors 8 \
    --accelerator ref --backend-path "$PLUGINS" --backend-option corrupt=train
expect_err 2 "partifact encode: backend ref: row 4999 assigned to partition 32 of 32" \
    "$PA" encode --input "$T/base.fvecs" --model "$T/ref.lance" --out "$T/c" --batch 5000 \
    --accelerator ref --backend-path "$PLUGINS" --backend-option corrupt=encode
expect_exit 1 test -e "$T/c"
expect_exit 1 test -e "$T/c.lance"
finish
