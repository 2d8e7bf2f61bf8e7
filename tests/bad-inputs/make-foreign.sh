#!/usr/bin/env bash
# Remakes tests/bad-inputs/files/foreign-art/: an artifact in the upstream layout that partifact's
# writer did not write (no partifact extras), the good material of the catalogue's "upt-" rows.
# Its rows and codes are partifact's (300 vectors of dimension 8 encoded with a model of 7
# partitions and 2 sub-vectors, files/foreign-art.model.lance; partition 6's rows left out, so
# that it is empty); the files are written by
# tests/interop/lancedb-0.39/foreign_artifact.mjs through LanceDB 0.39.0, by the upstream
# builder's rules but with 3 buckets (upstream takes min(P, 256) = 7; partifact reads any bucket
# count in a foreign artifact) and buffers of 16 rows, so that buckets hold several partitions
# and partitions several ranges. Run by hand (needs node and LanceDB, which the catalogue does
# not), after which the catalogue's messages may need updating (run.sh --print):
#   make-foreign.sh PARTIFACT INTEROP_BIN     (INTEROP_BIN: the build's interop/ directory)
set -euo pipefail
PA=$1; BIN=$2
HERE=$(cd "$(dirname "$0")" && pwd); OUT=$HERE/files/foreign-art
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
"$PA" gen-vectors --out "$W/v.fvecs" --rows 300 --dim 8 --clusters 7 --seed 11 >/dev/null
"$PA" train --input "$W/v.fvecs" --partitions 7 --sub-vectors 2 --max-iters 3 --seed 11 \
    --out "$W/model.lance" >/dev/null
"$PA" encode --input "$W/v.fvecs" --model "$W/model.lance" --out "$W/own" >/dev/null
"$BIN/interop_artifact_tool" rows "$W/own" "$W/rows.bin"
"$BIN/interop_artifact_tool" model "$W/model.lance" "$W/model.bin"
# partition 6's rows left out: an empty partition
python3 - "$W/rows.bin" <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read(); out = bytearray(); at = 0
while at < len(b):
    p, n = struct.unpack_from('<IQ', b, at); end = at + 12 + n * (8 + 2)
    out += struct.pack('<IQ', p, 0) if p == 6 else b[at:end]; at = end
open(sys.argv[1], 'wb').write(out)
PY
rm -rf "$OUT"
(cd "$HERE/../interop/lancedb-0.39" &&
  node foreign_artifact.mjs "$W/rows.bin" "$W/model.bin" "$OUT" "$W/work" --buckets 3 \
    --buffer-rows 16 2> >(grep -v ' WARN ' >&2))
cp "$W/model.lance" "$HERE/files/foreign-art.model.lance"
# (LanceDB writes schema metadata in hash order: metadata.lance differs from run to run in that
# order only)
