#!/usr/bin/env bash
# Runs one interop test. Needs node and the pinned npm packages (make deps-node).
#   run_interop.sh c-to-lancedb BUILD_DIR_BIN WORK
#   run_interop.sh lancedb-to-c BUILD_DIR_BIN WORK
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
  *) echo "unknown mode $MODE" >&2; exit 2 ;;
esac
