#!/usr/bin/env bash
# Runs one interop test. Needs node and the pinned npm packages (make deps-node).
#   run_interop.sh c-to-lancedb BUILD_DIR_BIN WORK
#   run_interop.sh lancedb-to-c BUILD_DIR_BIN WORK
#   run_interop.sh files BUILD_DIR_BIN WORK 0.37|0.39
#   run_interop.sh bucket BUILD_DIR_BIN WORK PARTIFACT_CLI
#   run_interop.sh index BUILD_DIR_BIN WORK PARTIFACT_CLI
#   run_interop.sh dataset BUILD_DIR_BIN WORK PARTIFACT_CLI
#   run_interop.sh lance22 BUILD_DIR_BIN WORK
#   run_interop.sh shuffle BUILD_DIR_BIN WORK PARTIFACT_CLI
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
MODE=$1; BIN=$2; WORK=$3
if [ ! -d "$HERE/node_modules/@lancedb/lancedb" ]; then
  echo "LanceDB is not installed in $HERE/node_modules: run 'make deps-node' (make check does)" >&2
  exit 1
fi
rm -rf "$WORK"; mkdir -p "$WORK"
cd "$HERE"
case "$MODE" in
  c-to-lancedb)
    "$BIN/interop_write_dataset" "$WORK/c.lance" 1100000 || exit 1
    node check_dataset.mjs "$WORK" c 1100000 2> >(grep -v ' WARN ' >&2) ;;
  files)
    # $4: the LanceDB version (0.37: tests/interop, 2.1 by default; 0.39: lancedb-0.39, 2.2)
    if [ "$4" = 0.39 ]; then DIR=lancedb-0.39; DEF=2.2; else DIR=.; DEF=2.1; fi
    if [ ! -d "$HERE/$DIR/node_modules/@lancedb/lancedb" ]; then
      echo "LanceDB $4 is not installed in $HERE/$DIR/node_modules: run 'make deps-node'" >&2
      exit 1
    fi
    node lance_files.mjs "$DIR" "$WORK" 4000 2> >(grep -v ' WARN ' >&2) || exit 1
    "$BIN/interop_read_lance_files" "$WORK" "$DEF" ;;
  lance22)
    # partifact -> LanceDB 0.39 and LanceDB 0.39 -> partifact, file format 2.2 (lance22.c)
    if [ ! -d "$HERE/lancedb-0.39/node_modules/@lancedb/lancedb" ]; then
      echo "LanceDB 0.39 is not installed in $HERE/lancedb-0.39/node_modules: run 'make deps-node'" >&2
      exit 1
    fi
    "$BIN/interop_lance22" write "$WORK" || exit 1
    node lance22.mjs check "$WORK" 2> >(grep -v ' WARN ' >&2) || exit 1
    node lance22.mjs make "$WORK" 600000 2> >(grep -v ' WARN ' >&2) || exit 1
    "$BIN/interop_lance22" read "$WORK" ;;
  shuffle)
    # lance-cuvs' older output: Lance's precomputed shuffle buffers, written through LanceDB 0.39
    # (shuffle_buffers.mjs) from the rows of partifact's own artifact; finalize --rows of the
    # shuffle directory must give the same index as finalize --artifact: the same rows and codes
    # in every partition (index files equal byte for byte, the source record aside)
    PA=$4
    "$PA" gen-vectors --out "$WORK/base.fvecs" --rows 20000 --dim 32 --clusters 40 --seed 9 >/dev/null || exit 1
    "$PA" train --input "$WORK/base.fvecs" --partitions 24 --sub-vectors 8 --out "$WORK/model.lance" >/dev/null || exit 1
    "$PA" encode --input "$WORK/base.fvecs" --model "$WORK/model.lance" --out "$WORK/art" --memory 2MiB >/dev/null || exit 1
    "$PA" finalize --artifact "$WORK/art" --out "$WORK/idx-art" >/dev/null || exit 1
    "$PA" export-rows --artifact "$WORK/art" --out "$WORK/rows.lance" --shuffle 5 >/dev/null || exit 1
    "$BIN/interop_lance22" wrap "$WORK/rows.lance" "$WORK/rows_ds.lance" || exit 1
    node shuffle_buffers.mjs rows "$WORK" rows_ds "$WORK/shuf" 700 2> >(grep -v ' WARN ' >&2) || exit 1
    # the shuffler's input, if a crash left it, is not read (here a file of other columns)
    cp "$WORK/rows.lance" "$WORK/shuf/unsorted.lance"
    ls "$WORK/shuf"
    "$PA" lance-info "$WORK/shuf/sorted_0.lance" || exit 1
    "$PA" finalize --rows "$WORK/shuf" --model "$WORK/model.lance" --out "$WORK/idx-shuf" --memory 1MiB --json || exit 1
    "$BIN/interop_lance22" same-index "$WORK/idx-art" "$WORK/idx-shuf" || exit 1
    # a budget that spills sorted runs, chunks crossing from one shuffle file into the next
    "$PA" finalize --rows "$WORK/shuf" --model "$WORK/model.lance" --out "$WORK/idx-spill" --memory 300KiB --json > "$WORK/spill.json" || exit 1
    cat "$WORK/spill.json"
    grep -q '"spill_runs":3' "$WORK/spill.json" || { echo "expected 3 spilled runs" >&2; exit 1; }
    "$BIN/interop_lance22" same-index "$WORK/idx-art" "$WORK/idx-spill" || exit 1
    # the model from the shuffle directory's metadata.lance, as lance-cuvs leaves it there (the
    # artifact's, the same model): no --model; the same rows and codes in every partition (the
    # index records the other model file's identity)
    cp "$WORK/art/metadata.lance" "$WORK/shuf/metadata.lance" || exit 1
    "$PA" finalize --rows "$WORK/shuf" --out "$WORK/idx-meta" --json || exit 1
    "$BIN/interop_lance22" same-index "$WORK/idx-art" "$WORK/idx-meta" --rows-only ;;
  lancedb-to-c)
    node make_tables.mjs "$WORK" 2> >(grep -v ' WARN ' >&2) || exit 1
    "$BIN/interop_read_lancedb" "$WORK" ;;
  bucket)
    PA=$4
    "$PA" artifact-gen --out "$WORK/artifact" --rows 600000 --partitions 257 --buckets 16 \
        --memory 4MiB --skewed > /dev/null || exit 1
    "$BIN/interop_wrap_bucket" "$WORK/artifact" 3 "$WORK/b3.lance" "$WORK/expected.bin" || exit 1
    node check_bucket.mjs "$WORK/artifact" 3 "$WORK" b3 "$WORK/expected.bin" 2> >(grep -v ' WARN ' >&2) ;;
  index)
    # LanceDB builds an IVF_PQ index and searches it; partifact opens the same index files and
    # must agree with LanceDB's own top 10 (all partitions probed) on at least 90% of the ids.
    PA=$4
    "$PA" gen-vectors --out "$WORK/base.fvecs" --rows 20000 --dim 32 --clusters 50 --seed 3 >/dev/null || exit 1
    "$PA" gen-vectors --out "$WORK/q.fvecs" --rows 100 --dim 32 --clusters 50 --seed 3 --first-row 20000 >/dev/null || exit 1
    node lancedb_index.mjs "$WORK" "$WORK/base.fvecs" "$WORK/q.fvecs" 8 4 10 2> >(grep -v ' WARN ' >&2) || exit 1
    D=$(cat "$WORK/index_dir.txt")
    "$PA" index-info "$D" || exit 1
    "$PA" search --index "$D" --queries "$WORK/q.fvecs" -k 10 --nprobes 8 --groundtruth "$WORK/lancedb.ivecs" --json > "$WORK/search.json" || exit 1
    cat "$WORK/search.json"
    r=$(sed -n 's/.*"recall":\([0-9.]*\).*/\1/p' "$WORK/search.json")
    awk "BEGIN{exit !($r >= 0.9)}" || { echo "partifact agrees with LanceDB on only $r of the top 10" >&2; exit 1; }
    # _rowid as LanceDB writes it: partifact's writer re-encodes LanceDB's _rowid column into
    # the same InlineBitpacking chunks, byte for byte; partifact's own index has such pages
    "$PA" build --input "$WORK/base.fvecs" --out "$WORK/pa-idx" --partitions 8 --sub-vectors 4 >/dev/null || exit 1
    "$BIN/interop_rowid_bytes" "$D/auxiliary.idx" "$WORK/pa-idx/auxiliary.idx" "$WORK/rowid.lance" || exit 1
    # LanceDB's 4-bit index (numBits 4, 16 sub-vectors), by LanceDB 0.37.1 and 0.39.0: partifact
    # opens it as 4-bit and agrees with LanceDB's top 10 on at least 70% of the ids (LanceDB
    # ranks 4-bit codes with quantised tables, partifact with float ones: 0.785 seen)
    for DIR in . lancedb-0.39; do
      W4="$WORK/pq4-$DIR"; mkdir -p "$W4"
      node lancedb_index.mjs "$W4" "$WORK/base.fvecs" "$WORK/q.fvecs" 8 16 10 4 "$DIR" 2> >(grep -v ' WARN ' >&2) || exit 1
      D4=$(cat "$W4/index_dir.txt")
      "$PA" index-info "$D4" > "$W4/info.txt" || exit 1
      cat "$W4/info.txt"
      grep -q "16 sub-vectors of 4 bits" "$W4/info.txt" || { echo "index-info does not say 4-bit codes" >&2; exit 1; }
      "$PA" search --index "$D4" --queries "$WORK/q.fvecs" -k 10 --nprobes 8 --groundtruth "$W4/lancedb.ivecs" --json > "$W4/search.json" || exit 1
      cat "$W4/search.json"
      r=$(sed -n 's/.*"recall":\([0-9.]*\).*/\1/p' "$W4/search.json")
      awk "BEGIN{exit !($r >= 0.7)}" || { echo "partifact agrees with LanceDB ($DIR) on only $r of the 4-bit top 10" >&2; exit 1; }
    done ;;
  dataset)
    # A LanceDB table in 3 fragments as partifact's input: build, exact ground truth and search
    # with refine, all by row address. Ground truth as .ivecs is refused (addresses need 64
    # bits); as .npy it must match LanceDB's own exact search; refine reads the vectors back
    # from the table by address.
    PA=$4; . "$HERE/../cli/lib.sh"; T=$WORK
    "$PA" gen-vectors --out "$WORK/base.fvecs" --rows 30000 --dim 32 --clusters 60 --seed 4 >/dev/null || exit 1
    "$PA" gen-vectors --out "$WORK/q.fvecs" --rows 100 --dim 32 --clusters 60 --seed 4 --first-row 30000 >/dev/null || exit 1
    node lancedb_fragments.mjs "$WORK" "$WORK/base.fvecs" "$WORK/q.fvecs" 3 10 2> >(grep -v ' WARN ' >&2) || exit 1
    expect_exit 0 "$PA" build --input "$WORK/v.lance" --out "$WORK/idx" --partitions 32 --sub-vectors 8
    expect_err 2 "does not fit in an int32 .ivecs entry; write .npy for 64-bit ids" \
        "$PA" groundtruth --input "$WORK/v.lance" --queries "$WORK/q.fvecs" -k 10 --out "$WORK/gt.ivecs"
    expect_exit 0 "$PA" groundtruth --input "$WORK/v.lance" --queries "$WORK/q.fvecs" -k 10 --out "$WORK/gt.npy"
    # partifact's exact neighbours are LanceDB's (the same row addresses)
    expect_exit 0 "$PA" search --index "$WORK/idx" --queries "$WORK/q.fvecs" -k 10 --nprobes 32 \
        --refine-factor 50 --input "$WORK/v.lance" --groundtruth "$WORK/lancedb_exact.npy" --json
    cp "$T/out" "$WORK/exact.json"
    expect_exit 0 "$PA" search --index "$WORK/idx" --queries "$WORK/q.fvecs" -k 10 --nprobes 4 \
        --refine-factor 10 --input "$WORK/v.lance" --groundtruth "$WORK/gt.npy" --json
    cat "$WORK/exact.json" "$T/out"
    exact=$(sed -n 's/.*"recall":\([0-9.]*\).*/\1/p' "$WORK/exact.json")
    refined=$(sed -n 's/.*"recall":\([0-9.]*\).*/\1/p' "$T/out")
    if awk "BEGIN{exit !($exact >= 0.99)}"; then pass=$((pass+1)); else fail=$((fail+1))
      echo "FAIL: every partition probed, refined from the table: recall $exact against LanceDB's exact search"; fi
    if awk "BEGIN{exit !($refined >= 0.95)}"; then pass=$((pass+1)); else fail=$((fail+1))
      echo "FAIL: nprobes 4, refine x10: recall $refined against partifact's ground truth"; fi
    finish ;;
  *) echo "unknown mode $MODE" >&2; exit 2 ;;
esac
