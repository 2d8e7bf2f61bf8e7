#!/usr/bin/env bash
# Extreme values: finite rows whose squared distances overflow float (values around 1e19 and
# above) are refused naming the row, in train, encode, build, groundtruth (base and queries) and
# search (queries), or skipped and counted with --skip-invalid; large but safe values (every
# value times 2^56, squared norms up to about 2.6e36, under the limit of 5.32e36) give exactly
# the answers of the unscaled data: the same search results, refined or not, and the same
# ground truth for every metric. At branch start the refused rows were used, their distances
# +inf or NaN, and ranked.
PA=$1; T=$2; SCALE=$3; rm -rf "$T"; mkdir -p "$T"
. "$(dirname "$0")/lib.sh"

expect_exit 0 "$PA" gen-vectors --out "$T/s.fvecs" --rows 5000 --dim 16 --clusters 20 --seed 3
expect_exit 0 "$PA" gen-vectors --out "$T/q.fvecs" --rows 200 --dim 16 --clusters 20 --seed 4
F=72057594037927936 # 2^56: scaling by a power of two is exact, so every result must be the same
expect_exit 0 "$SCALE" "$T/s.fvecs" "$T/sx.fvecs" $F
expect_exit 0 "$SCALE" "$T/q.fvecs" "$T/qx.fvecs" $F
for x in "" x; do
  expect_exit 0 "$PA" build --input "$T/s$x.fvecs" --out "$T/i$x" --partitions 8 --sub-vectors 4
  expect_exit 0 "$PA" search --index "$T/i$x" --queries "$T/q$x.fvecs" -k 10 --nprobes 3 --out "$T/r$x.ivecs"
  expect_exit 0 "$PA" search --index "$T/i$x" --queries "$T/q$x.fvecs" -k 10 --nprobes 3 \
      --refine-factor 4 --input "$T/s$x.fvecs" --out "$T/rr$x.ivecs"
  for m in l2 dot cosine; do
    expect_exit 0 "$PA" groundtruth --input "$T/s$x.fvecs" --queries "$T/q$x.fvecs" -k 10 --metric $m --out "$T/g$m$x.ivecs"
  done
done
for f in r rr gl2 gdot gcosine; do expect_exit 0 cmp "$T/$f.ivecs" "$T/${f}x.ivecs"; done

# one value of 3e19 in row 4 (records are 68 bytes: int32 16, then 16 floats): squared norm 9e38
cp "$T/s.fvecs" "$T/huge.fvecs"; put_hex "$T/huge.fvecs" $(( 68 * 4 + 4 + 4 )) b52ad05f
msg="huge.fvecs: row 4 has squared norm 9e+38, more than 5.32e+36: its distances would overflow float"
expect_err 2 "partifact train: $T/$msg" "$PA" train --input "$T/huge.fvecs" --partitions 8 --sub-vectors 4 --out "$T/m.lance"
expect_exit 0 "$PA" train --input "$T/s.fvecs" --partitions 8 --sub-vectors 4 --out "$T/m.lance"
expect_err 2 "partifact encode: $T/$msg" "$PA" encode --input "$T/huge.fvecs" --model "$T/m.lance" --out "$T/a"
expect_err 2 "partifact build: $T/$msg" "$PA" build --input "$T/huge.fvecs" --out "$T/ih" --partitions 8 --sub-vectors 4
expect_err 2 "partifact groundtruth: $T/$msg" "$PA" groundtruth --input "$T/huge.fvecs" --queries "$T/q.fvecs" -k 10 --out "$T/g.ivecs"
expect_err 2 "partifact groundtruth: $T/$msg" "$PA" groundtruth --input "$T/s.fvecs" --queries "$T/huge.fvecs" -k 10 --out "$T/g.ivecs"
expect_err 2 "partifact search: $T/$msg" "$PA" search --index "$T/i" --queries "$T/huge.fvecs" -k 10
# --skip-invalid leaves the row out everywhere, and counts it
expect_exit 0 "$PA" encode --input "$T/huge.fvecs" --model "$T/m.lance" --out "$T/a" --skip-invalid --json
expect_out '"rows":4999,"skipped_invalid":1,'
expect_exit 0 "$PA" train --input "$T/huge.fvecs" --partitions 8 --sub-vectors 4 --out "$T/m2.lance" --skip-invalid --json
expect_out '"sample_skipped_invalid":1,'
finish
