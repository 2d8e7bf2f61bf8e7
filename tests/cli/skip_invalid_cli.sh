#!/usr/bin/env bash
# --skip-invalid reaches every place rows are read, the training sample included: train, encode
# and build on an input with NaN and infinite rows leave exactly those rows out and count them
# in --json (sample_skipped_invalid: rows left out of the training sample; skipped_invalid:
# rows left out of the stream). At branch start train refused the sample's NaN row even with
# --skip-invalid.
PA=$1; T=$2; rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/lib.sh"

expect_exit 0 "$PA" gen-vectors --out "$T/v.fvecs" --rows 2000 --dim 8 --clusters 20 --seed 4
cp "$T/v.fvecs" "$T/clean.fvecs"
# records are 36 bytes (int32 8, then 8 floats): NaN in rows 5 and 100, +inf in row 1500
put_hex "$T/v.fvecs" $(( 36 * 5 + 4 + 4 * 2 )) 0000c07f
put_hex "$T/v.fvecs" $(( 36 * 100 + 4 )) 0000c07f
put_hex "$T/v.fvecs" $(( 36 * 1500 + 4 + 4 * 7 )) 0000807f

expect_err 2 "v.fvecs: row 5 has NaN at dimension 2" \
    "$PA" train --input "$T/v.fvecs" --partitions 4 --sub-vectors 2 --out "$T/m0.lance"
expect_exit 0 "$PA" train --input "$T/v.fvecs" --partitions 4 --sub-vectors 2 --skip-invalid \
    --out "$T/m.lance" --json
expect_out '"sample_rows":1997,'
expect_out '"sample_skipped_invalid":3,"skipped_invalid":3}'
expect_exit 0 "$PA" train --input "$T/v.fvecs" --partitions 4 --sub-vectors 2 --skip-invalid \
    --out "$T/m2.lance" --encode --json
expect_out '"encoded_rows":1997,'
expect_out '"sample_skipped_invalid":3,"skipped_invalid":3}'
# the sample without the invalid rows is the same whatever else the input holds: same model
expect_exit 0 cmp "$T/m.lance" "$T/m2.lance"

expect_exit 0 "$PA" encode --input "$T/v.fvecs" --model "$T/m.lance" --out "$T/a" --skip-invalid --json
expect_out '"rows":1997,"skipped_invalid":3,'
expect_exit 0 "$PA" verify "$T/a"
expect_exit 0 "$PA" build --input "$T/v.fvecs" --out "$T/idx" --partitions 4 --sub-vectors 2 \
    --skip-invalid --json
expect_out '"rows":1997,"skipped_invalid":3,'
expect_out '"sample_skipped_invalid":3,"sample_wanted_rows":0}'
expect_exit 0 "$PA" index-info "$T/idx"
# groundtruth's base: the rows are left out, so the clean copies of rows 5 and 100, as queries,
# find other rows than themselves (k = 1: each .ivecs record is 8 bytes, k then the id)
head -c $(( 36 * 200 )) "$T/clean.fvecs" > "$T/q.fvecs"
expect_exit 0 "$PA" groundtruth --input "$T/v.fvecs" --queries "$T/q.fvecs" -k 1 --out "$T/g.ivecs" \
    --skip-invalid --json
expect_out '"skipped_invalid":3}'
expect_exit 0 test "$(od -An -tu4 -j $(( 8 * 4 + 4 )) -N4 "$T/g.ivecs" | tr -d ' ')" = 4
expect_exit 1 test "$(od -An -tu4 -j $(( 8 * 5 + 4 )) -N4 "$T/g.ivecs" | tr -d ' ')" = 5
expect_exit 1 test "$(od -An -tu4 -j $(( 8 * 100 + 4 )) -N4 "$T/g.ivecs" | tr -d ' ')" = 100
expect_err 2 "v.fvecs: row 5 has NaN at dimension 2" \
    "$PA" groundtruth --input "$T/v.fvecs" --queries "$T/q.fvecs" -k 1 --out "$T/g2.ivecs"
finish
