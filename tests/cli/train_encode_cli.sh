#!/usr/bin/env bash
# partifact gen-vectors / train / encode end to end on small data, with the built-in cpu backend
# and the test plugin (--accelerator ref), and their one-line errors with exit 2.
PA=$1; T=$2; PLUGINS=$3; rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/lib.sh"

expect_exit 0 "$PA" gen-vectors --out "$T/base.fvecs" --rows 20000 --dim 32 --clusters 50 --seed 3
expect_exit 0 "$PA" gen-vectors --out "$T/d16.fvecs" --rows 1000 --dim 16 --seed 3
expect_exit 0 "$PA" train --input "$T/base.fvecs" --partitions 32 --sub-vectors 8 --max-iters 10 \
    --out "$T/model.lance" --encode --json
expect_out '"partitions":32,"sub_vectors":8'
expect_out '"encoded_rows":20000'
# the same seed gives the same model, byte for byte
expect_exit 0 "$PA" train --input "$T/base.fvecs" --partitions 32 --sub-vectors 8 --max-iters 10 --out "$T/model2.lance"
expect_exit 0 cmp "$T/model.lance" "$T/model2.lance"

expect_exit 0 "$PA" encode --input "$T/base.fvecs" --model "$T/model.lance" --out "$T/a" --memory 32MiB --json
expect_out '"backend":"cpu","rows":20000'
expect_exit 0 "$PA" verify "$T/a"
expect_exit 0 "$PA" inspect --json "$T/a"
expect_out '"partitions":32'
# the test plugin, loaded at run time, writes an artifact that verifies
expect_exit 0 "$PA" encode --input "$T/base.fvecs" --model "$T/model.lance" --out "$T/b" \
    --accelerator ref --backend-path "$PLUGINS" --json
expect_out '"backend":"ref"'
expect_exit 0 "$PA" verify "$T/b"

expect_err 2 "d16.fvecs has dimension 16, the model" "$PA" encode --input "$T/d16.fvecs" --model "$T/model.lance" --out "$T/c"
expect_err 2 "libpartifact-backend-gpu.so not found" "$PA" encode --input "$T/base.fvecs" --model "$T/model.lance" --out "$T/c" --accelerator gpu --backend-path "$PLUGINS"
expect_err 2 "backend was built for ABI version 1 (it exports partifact_backend_v1); this partifact speaks version 2 (partifact_backend_v2)" "$PA" encode --input "$T/base.fvecs" --model "$T/model.lance" --out "$T/c" --accelerator oldabi --backend-path "$PLUGINS"
expect_exit 1 test -e "$T/c/manifest.json"
# the --memory budget covers the model, the backend's blocks, the batch and the writer, and
# what does not fit is refused up front, with the numbers
expect_err 2 "the memory budget of 102400 bytes is too small: the model (32 partitions, dimension 32) needs" \
    "$PA" encode --input "$T/base.fvecs" --model "$T/model.lance" --out "$T/c" --memory 100KiB
expect_err 2 "a batch of 65536 rows 9699328, the input's read buffer 8388600, and the artifact writer the rest; lower batch_rows or raise memory_bytes (--batch, --memory)" \
    "$PA" encode --input "$T/base.fvecs" --model "$T/model.lance" --out "$T/c" --memory 8MiB --batch 65536
expect_err 2 "bytes for the artifact writer after the model" \
    "$PA" encode --input "$T/base.fvecs" --model "$T/model.lance" --out "$T/c" --memory 400KiB --buckets 32
expect_exit 1 test -e "$T/c"
# without --batch, the batch shrinks to fit a small budget
expect_exit 0 "$PA" encode --input "$T/base.fvecs" --model "$T/model.lance" --out "$T/small" --memory 2MiB --json
expect_out '"rows":20000'
expect_exit 0 "$PA" verify "$T/small"
expect_err 2 "not a partifact model" "$PA" encode --input "$T/base.fvecs" --model "$T/a/partitions/bucket-00000.lance" --out "$T/c"
expect_err 2 "num_sub_vectors 7 does not divide dimension 32" "$PA" train --input "$T/base.fvecs" --partitions 8 --sub-vectors 7 --out "$T/m.lance"
expect_err 2 "--metric: \"hamming\" is not l2, cosine or dot" "$PA" train --input "$T/base.fvecs" --metric hamming --out "$T/m.lance"
expect_err 2 "1000 rows for 2000 partitions" "$PA" train --input "$T/d16.fvecs" --partitions 2000 --sub-vectors 4 --out "$T/m.lance"
printf 'junk' > "$T/x.npy"
expect_err 2 "not a .npy file" "$PA" train --input "$T/x.npy" --out "$T/m.lance"
finish
