#!/usr/bin/env bash
# The artifact against the upstream side (issue 14), with LanceDB 0.39.0 (tests/interop/lancedb-0.39)
# and the upstream sources' rules; independent of partifact's artifact code (the manifest is
# parsed, the Lance footers and schemas read, by the scripts themselves).
#   run_upstream.sh rules   PARTIFACT BIN WORK   artifacts partifact writes, checked field by
#                                                field against the upstream reader's and builder's
#                                                rules (upstream_rules.mjs)
#   run_upstream.sh read    PARTIFACT BIN WORK   LanceDB reads every bucket file and metadata.lance
#                                                of them: the rows and model the manifest describes,
#                                                as partifact reads them (read_artifact.mjs)
#   run_upstream.sh foreign PARTIFACT BIN WORK   artifacts a producer other than partifact writes by
#                                                the upstream builder's rules through LanceDB
#                                                (foreign_artifact.mjs): finalize gives the index of
#                                                partifact's own artifact of the same rows, byte for
#                                                byte in every partition's rows and codes and model
# BIN holds interop_artifact_tool (tests/interop/artifact_tool.c).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
MODE=$1; PA=$2; BIN=$3; WORK=$4
L39=$HERE/lancedb-0.39
if [ ! -d "$L39/node_modules/@lancedb/lancedb" ]; then
  echo "LanceDB 0.39.0 is not installed in $L39/node_modules: run 'make deps-node' (make check does)" >&2
  exit 1
fi
rm -rf "$WORK"; mkdir -p "$WORK"; T=$WORK
. "$HERE/../cli/lib.sh"
TOOL=$BIN/interop_artifact_tool
node39() { (cd "$L39" && node "$@") 2> >(grep -v ' WARN ' >&2); }
# node39 as a check: its exit status counts as one pass or failure
check_node() { if node39 "$@"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: node $*"; fi; }

# ---- material: clustered vectors (dimension 16), models of 300 partitions (more than the 256
# buckets upstream uses at most: buckets shared) and of 40 (a bucket per partition), 4 sub-vectors
q() { "$@" >/dev/null 2>"$T/q.err" || { echo "FAIL: $*"; cat "$T/q.err"; exit 1; }; }
q "$PA" gen-vectors --out "$WORK/base.fvecs" --rows 4000 --dim 16 --clusters 40 --seed 7
head -c $(( 68 * 1500 )) "$WORK/base.fvecs" > "$WORK/part.fvecs"   # 1500 rows: empty partitions
q "$PA" train --input "$WORK/base.fvecs" --partitions 300 --sub-vectors 4 --max-iters 3 --out "$WORK/m300.lance"
q "$PA" train --input "$WORK/base.fvecs" --partitions 40 --sub-vectors 4 --max-iters 3 --metric cosine --out "$WORK/m40cos.lance"
# artifact-gen's codes are of dimension 8 x sub-vectors: its model, 2 sub-vectors of 8
q "$PA" train --input "$WORK/base.fvecs" --partitions 300 --sub-vectors 2 --max-iters 3 --out "$WORK/m300s2.lance"
# partifact's artifacts: encode (upstream's default bucket count), and artifact-gen with several
# ranges per partition (small buffers), a bucket count of its own, and far fewer rows than
# partitions
q "$PA" encode --input "$WORK/part.fvecs" --model "$WORK/m300.lance" --out "$WORK/enc300"
q "$PA" encode --input "$WORK/base.fvecs" --model "$WORK/m40cos.lance" --out "$WORK/enc40"
q "$PA" artifact-gen --out "$WORK/gen7" --rows 3000 --partitions 300 --sub-vectors 2 --buckets 7 \
    --buffer-rows 256 --seed 3 --model "$WORK/m300s2.lance"
q "$PA" artifact-gen --out "$WORK/gen-sparse" --rows 200 --partitions 300 --sub-vectors 2 --seed 4 \
    --model "$WORK/m300s2.lance"

case "$MODE" in
  rules)
    # and a Python producer (the package's ArtifactWriter), batch by batch, 4 buckets, small buffers
    PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3   # Debian's, with numpy (make deps)
    PYTHONPATH=$HERE/../../python PARTIFACT_LIBRARY=${PARTIFACT_LIBRARY:-$(dirname "$PA")/libpartifact.so} \
      "$PY" - "$WORK/m300.lance" "$WORK/part.fvecs" "$WORK/py4" <<'PY' || { echo "FAIL: the Python producer"; exit 1; }
import sys, numpy as np, partifact as pa
m = pa.Model.load(sys.argv[1])
x = np.ascontiguousarray(np.fromfile(sys.argv[2], dtype=np.float32).reshape(-1, 17)[:, 1:])
with pa.ArtifactWriter(sys.argv[3], m, buckets=4, max_buffer_rows=256) as w:
    for s in range(0, len(x), 250):
        parts, codes = m.encode(x[s:s + 250])
        w.append(np.arange(s, s + len(parts), dtype=np.uint64), parts, codes)
PY
    check_node upstream_rules.mjs "$WORK/py4" "$WORK/r0" --buckets 4 --dim 16 --metric l2 --require empty,shared,multirange
    check_node upstream_rules.mjs "$WORK/enc300" "$WORK/r1" --dim 16 --metric l2 --require empty,shared
    check_node upstream_rules.mjs "$WORK/enc40" "$WORK/r2" --dim 16 --metric cosine
    check_node upstream_rules.mjs "$WORK/gen7" "$WORK/r3" --buckets 7 --dim 16 --metric l2 --require shared,multirange
    check_node upstream_rules.mjs "$WORK/gen-sparse" "$WORK/r4" --dim 16 --metric l2 --require empty
    finish ;;
  read)
    for a in enc300:m300 enc40:m40cos gen7:m300s2 gen-sparse:m300s2; do
      art=${a%%:*}; model=${a##*:}
      expect_exit 0 "$TOOL" rows "$WORK/$art" "$WORK/$art.rows"
      expect_exit 0 "$TOOL" model "$WORK/$model.lance" "$WORK/$model.bin"
      check_node read_artifact.mjs "$WORK/$art" "$WORK/read-$art" "$WORK/$art.rows" "$WORK/$model.bin"
    done
    finish ;;
  foreign)
    # the rows and codes partifact computed (its own artifact, read back), given to the foreign
    # producer; both artifacts finalized; the indexes compared
    for c in "enc300 m300 f-default" "enc300 m300 f-b16 --buckets 16 --buffer-rows 8 --total-loss 1.5e3" \
             "enc40 m40cos f-p40 --buffer-rows 64"; do
      set -- $c; own=$1 model=$2 name=$3; shift 3
      expect_exit 0 "$TOOL" rows "$WORK/$own" "$WORK/$own.rows"
      expect_exit 0 "$TOOL" model "$WORK/$model.lance" "$WORK/$model.bin"
      check_node foreign_artifact.mjs "$WORK/$own.rows" "$WORK/$model.bin" "$WORK/$name" "$WORK/$name-work" "$@"
      # the producer followed the rules (the same check as partifact's own artifacts get)
      b=$(echo "$@" | sed -n 's/.*--buckets \([0-9]*\).*/--buckets \1/p')
      metric=l2; [ "$model" = m40cos ] && metric=cosine
      check_node upstream_rules.mjs "$WORK/$name" "$WORK/$name-rules" $b --dim 16 --metric $metric
      # verify accepts it, and says that only its structure could be checked
      expect_exit 0 "$PA" verify "$WORK/$name" --json
      expect_out '"layout":"foreign","structural_only":true}'
      expect_exit 0 "$PA" finalize --artifact "$WORK/$name" --out "$WORK/$name.idx"
      [ -d "$WORK/$own.idx" ] || expect_exit 0 "$PA" finalize --artifact "$WORK/$own" --out "$WORK/$own.idx"
      expect_exit 0 "$TOOL" index "$WORK/$name.idx" "$WORK/$name.idx.bin"
      [ -f "$WORK/$own.idx.bin" ] || expect_exit 0 "$TOOL" index "$WORK/$own.idx" "$WORK/$own.idx.bin"
      if cmp "$WORK/$name.idx.bin" "$WORK/$own.idx.bin"; then pass=$((pass+1)); else fail=$((fail+1))
        echo "FAIL: the index of $name differs from the index of partifact's own artifact $own"; fi
      # partition sizes as partifact reports them
      "$PA" index-info "$WORK/$name.idx" --json > "$WORK/$name.info" 2>&1
      "$PA" index-info "$WORK/$own.idx" --json > "$WORK/$own.info" 2>&1
      if [ -s "$WORK/$own.info" ] && cmp -s <(sed 's/"index":"[^"]*"//' "$WORK/$name.info") <(sed 's/"index":"[^"]*"//' "$WORK/$own.info"); then
        pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: index-info of $name and $own differ"; diff "$WORK/$name.info" "$WORK/$own.info" | head -5; fi
    done
    # what the upstream reader accepts beside what the builder writes (serde: members in any
    # order, whitespace, #[serde(default)] members left out: an empty partition as {}, no
    # total_loss): the same index
    python3 - "$WORK/f-default/manifest.json" "$WORK/f-serde.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m['partitions'] = [p if p['num_rows'] else {} for p in m['partitions']]
del m['total_loss']
assert any(p == {} for p in m['partitions'])
json.dump(m, open(sys.argv[2], 'w'), indent=2, sort_keys=True)
PY
    cp -r "$WORK/f-default" "$WORK/f-serde"; cp "$WORK/f-serde.json" "$WORK/f-serde/manifest.json"
    expect_exit 0 "$PA" verify "$WORK/f-serde"
    expect_exit 0 "$PA" finalize --artifact "$WORK/f-serde" --out "$WORK/f-serde.idx"
    expect_exit 0 "$TOOL" index "$WORK/f-serde.idx" "$WORK/f-serde.idx.bin"
    if cmp "$WORK/f-serde.idx.bin" "$WORK/enc300.idx.bin"; then pass=$((pass+1)); else fail=$((fail+1))
      echo "FAIL: the index of f-serde differs from the index of partifact's own artifact enc300"; fi
    # the model given as partifact's model file instead of metadata.lance: the same index
    expect_exit 0 "$PA" finalize --artifact "$WORK/f-default" --model "$WORK/m300.lance" --out "$WORK/f-model.idx"
    expect_exit 0 "$TOOL" index "$WORK/f-model.idx" "$WORK/f-model.idx.bin"
    if cmp "$WORK/f-model.idx.bin" "$WORK/enc300.idx.bin"; then pass=$((pass+1)); else fail=$((fail+1))
      echo "FAIL: the index of f-default finalized with --model differs from enc300's"; fi
    finish ;;
  *) echo "unknown mode $MODE" >&2; exit 2 ;;
esac
