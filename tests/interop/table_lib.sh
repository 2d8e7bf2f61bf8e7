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
# The shard scripts' data (run_shards.sh, tests/mpi/run_mpi.sh). shard_data: P, M, NP and
# WORK/base.fvecs (6,000 x 32 clustered rows), q.fvecs (100 queries), q1.fvecs (1 query);
# shard_table: TB=WORK/t.lance, a LanceDB table of base.fvecs in 4 fragments (version 4), 60
# rows deleted from fragments 0 and 1 (version 5).
TABLE_LIB_DIR=$HERE
shard_data() {
  P=16; M=8; NP=6
  "$PA" gen-vectors --out "$WORK/base.fvecs" --rows 6000 --dim 32 --clusters 40 --seed 5 >/dev/null || exit 1
  "$PA" gen-vectors --out "$WORK/q.fvecs" --rows 100 --dim 32 --clusters 40 --seed 5 --first-row 6000 >/dev/null || exit 1
  "$PA" gen-vectors --out "$WORK/q1.fvecs" --rows 1 --dim 32 --seed 9 >/dev/null || exit 1
}
shard_table() {
  node_ make_table.mjs "$TABLE_LIB_DIR" "$WORK" t "$WORK/base.fvecs" 4 >/dev/null || exit 1
  node_ make_table.mjs "$TABLE_LIB_DIR" "$WORK" t delete 'id % 50 = 7 AND id < 3000' >/dev/null || exit 1
  TB=$WORK/t.lance
}
