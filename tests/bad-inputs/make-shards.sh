#!/usr/bin/env bash
# The shard part of the bad inputs (called by make.sh; issue 16, the engine-free steps of a
# distributed build): a copy of tests/bad-inputs/files/table-d8.lance (LanceDB 0.37.1, 600
# rows in fragments 0 and 1), shards of it and of a file encoded by fragments and row ranges,
# and the segments finalized from them, for the refusals of overlapping shards, shards of
# different models and segments that do not belong together.
#   make-shards.sh PARTIFACT D
set -euo pipefail
PA=$1; D=$2
F=$(cd "$(dirname "$0")" && pwd)/files
q() { "$@" >/dev/null 2>&1 || { echo "make-shards.sh: failed: $*" >&2; "$@"; exit 1; }; }
S=$D/sh; rm -rf "$S"; mkdir -p "$S"
cp -r "$F/table-d8.lance" "$S/t.lance"
cp -r "$F/table-d8.lance" "$S/other.lance"
TRAIN=(--partitions 4 --sub-vectors 2 --max-iters 3)
q "$PA" train --input "$S/t.lance" "${TRAIN[@]}" --seed 1 --out "$S/m.lance"
q "$PA" train --input "$S/t.lance" "${TRAIN[@]}" --seed 2 --out "$S/m2.lance"
q "$PA" train --input "$S/t.lance" --partitions 8 --sub-vectors 2 --max-iters 3 --out "$S/m8.lance"
enc() { q "$PA" encode --input "$S/t.lance" --model "$S/$1" --out "$S/$2" "${@:3}"; }
enc m.lance a0 --fragments 0
enc m.lance a1 --fragments 1
enc m.lance a01
enc m2.lance b1 --fragments 1
enc m8.lance c1 --fragments 1
q "$PA" encode --input "$D/ok/v8.fvecs" --model "$S/m.lance" --out "$S/f0" --rows 0:1200
q "$PA" encode --input "$D/ok/v8.fvecs" --model "$S/m.lance" --out "$S/f1" --rows 1000:2000
# a shard whose manifest records no coverage (as another producer may write it)
cp -r "$S/a1" "$S/nocov"
python3 -c 'import json, sys
p = sys.argv[1] + "/manifest.json"; m = json.load(open(p)); del m["partifact"]["coverage"]
open(p, "w").write(json.dumps(m, separators=(",", ":")) + "\n")' "$S/nocov"
for a in a0 a1 a01 b1; do q "$PA" finalize --artifact "$S/$a" --out "$S/s-$a"; done
