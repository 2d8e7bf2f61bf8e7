#!/usr/bin/env bash
# Runs one interop test. Needs node and the pinned npm packages (make deps-node).
#   run_interop.sh c-to-lancedb BUILD_DIR_BIN WORK
#   run_interop.sh lancedb-to-c BUILD_DIR_BIN WORK
#   run_interop.sh bucket BUILD_DIR_BIN WORK PARTIFACT_CLI
#   run_interop.sh index BUILD_DIR_BIN WORK PARTIFACT_CLI
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
    awk "BEGIN{exit !($r >= 0.9)}" || { echo "partifact agrees with LanceDB on only $r of the top 10" >&2; exit 1; } ;;
  *) echo "unknown mode $MODE" >&2; exit 2 ;;
esac
