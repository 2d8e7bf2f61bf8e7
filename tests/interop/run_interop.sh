#!/usr/bin/env bash
# Runs one interop test. Needs node and the pinned npm packages (make deps-node).
#   run_interop.sh c-to-lancedb BUILD_DIR_BIN WORK
#   run_interop.sh lancedb-to-c BUILD_DIR_BIN WORK
#   run_interop.sh bucket BUILD_DIR_BIN WORK PARTIFACT_CLI
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
  *) echo "unknown mode $MODE" >&2; exit 2 ;;
esac
