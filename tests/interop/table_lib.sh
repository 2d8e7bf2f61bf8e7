# Shared by the table scripts (run_commit.sh, run_shards.sh), sourced with HERE (this
# directory) and WORK (a scratch directory, emptied) set: both pinned LanceDBs present, the CLI
# test helpers (tests/cli/lib.sh), node without LanceDB's WARN lines, and the check that a
# refused command leaves a table as it was.
LANCEDBS=("$HERE" "$HERE/lancedb-0.39")
for d in "${LANCEDBS[@]}"; do
  if [ ! -d "$d/node_modules/@lancedb/lancedb" ]; then
    echo "LanceDB is not installed in $d/node_modules: run 'make deps-node' (make check does)" >&2
    exit 1
  fi
done
rm -rf "$WORK"; mkdir -p "$WORK"
cd "$HERE"
. "$HERE/../cli/lib.sh"; T=$WORK
node_() { node "$@" 2> >(grep -v ' WARN ' >&2); }
# the files of a table (path, size, checksum), to show that a refused commit changed nothing
snapshot() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 md5sum); }
# untouched TABLE SUBSTRING CMD...: CMD exits 2 with one line holding SUBSTRING, TABLE unchanged
untouched() {
  local tb=$1 sub=$2; shift 2
  snapshot "$tb" > "$WORK/before"
  expect_err 2 "$sub" "$@"
  snapshot "$tb" > "$WORK/after"
  if cmp -s "$WORK/before" "$WORK/after"; then pass=$((pass+1)); else fail=$((fail+1))
    echo "FAIL: $* changed $tb:"; diff "$WORK/before" "$WORK/after" | head; fi
}
