#!/usr/bin/env bash
# Tables as LanceDB users make them, read by partifact, with both pinned LanceDB versions
# (0.37.1: tests/interop, 0.39.0: tests/interop/lancedb-0.39): a double id, string, int64,
# timestamp and struct columns beside the vector column, 3 fragments, a delete of a few rows
# (an arrow-array deletion file), a delete of many (a bitmap deletion file) and an update
# (lancedb_mixed.mjs). For vectors of float, halffloat and double:
#   - groundtruth equals LanceDB's own flat search (bypassVectorIndex, withRowId), 100
#     queries, id for id in order; no deleted or moved row appears;
#   - groundtruth --version OLD (before the deletes) equals LanceDB's search at that version;
#   - build indexes exactly the live rows, and its search never returns a deleted row;
#   - build --commit: LanceDB lists the index, and its search with it (nprobes 8, limit 10)
#     returns exactly partifact's search results, never a deleted row; after LanceDB deletes
#     more rows, an index built before is refused by commit;
#   - (0.39.0) a shallow clone and a branch of it (base paths in the manifest): groundtruth
#     equals LanceDB's search of each;
#   - a nullable vector column with nulls: build leaves them out and counts them
#     (null_vectors), groundtruth equals LanceDB's flat search and returns none of them;
#   - f32huge: the deleted rows' vectors hold 1e20 (a squared norm past float's range, which
#     partifact refuses wherever it reads one; LanceDB refuses NaN vectors): train (its
#     sample is every live row) and build succeed, so no deleted row was read.
# In Lance file format 2.0, 2.1 and 2.2 (2.2 is LanceDB 0.39.0's default); 0.37.1 writes up to 2.1.
# Usage: run_tables.sh PARTIFACT WORK
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
PA=$1; WORK=$2
. "$HERE/../cli/lib.sh"
rm -rf "$WORK"; mkdir -p "$WORK"; T=$WORK
node_() { node "$@" 2> >(grep -v ' WARN ' >&2); }
# ids_of NPY: the values of a uint64 .npy, one a line; same_ids A B: the same values in order
ids_of() { [ -s "$1" ] && node "$HERE/npy_ids.mjs" "$1"; }
same_ids() { [ -s "$1" ] && cmp -s <(ids_of "$1") <(ids_of "$2"); }
check() { if eval "$2"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $1"; fi; }

"$PA" gen-vectors --out "$WORK/base.fvecs" --rows 20000 --dim 16 --clusters 40 --seed 4 >/dev/null || exit 1
"$PA" gen-vectors --out "$WORK/q.fvecs" --rows 100 --dim 16 --clusters 40 --seed 4 --first-row 20000 >/dev/null || exit 1
for lv in 0.37.1 0.39.0; do
  dir=$HERE; [ "$lv" = 0.39.0 ] && dir=$HERE/lancedb-0.39
  for storage in 2.0 2.1 2.2; do
    for vt in f32 f16 f64 f32huge; do
      W=$WORK/$lv-$storage-$vt; mkdir -p "$W"; what="LanceDB $lv, format $storage, $vt vectors"
      if [ "$storage" = 2.2 ] && [ "$lv" = 0.37.1 ]; then continue; fi # 0.37.1 writes up to 2.1
      node_ "$HERE/lancedb_mixed.mjs" "$dir" "$W" "$WORK/base.fvecs" "$WORK/q.fvecs" "$storage" "$vt" 10 \
        >"$W/node.out" || { fail=$((fail+1)); echo "FAIL: $what: LanceDB could not make the table"; continue; }
      read -r old latest <"$W/versions.txt"
      "$PA" groundtruth --input "$W/t.lance" --queries "$W/queries.fvecs" -k 10 --out "$W/gt.npy" \
        >"$W/gt.out" 2>"$W/gt.err"; rc=$?
      check "$what: groundtruth exits 0 ($(cat "$W/gt.err"))" '[ $rc -eq 0 ]'
      check "$what: groundtruth equals LanceDB's flat search, id for id" 'same_ids "$W/gt.npy" "$W/exact.npy"'
      ids_of "$W/gt.npy" | sort -u >"$W/gt.ids"
      check "$what: no deleted or moved row in the ground truth" '[ -z "$(sort -u "$W/deleted.txt" | comm -12 - "$W/gt.ids")" ]'
      if [ "$vt" = f32huge ]; then
        expect_exit 0 "$PA" train --input "$W/t.lance" --partitions 16 --sub-vectors 4 --out "$W/model.lance"
        expect_exit 0 "$PA" build --input "$W/t.lance" --out "$W/idx" --partitions 16 --sub-vectors 4
        continue
      fi
      expect_exit 0 "$PA" groundtruth --input "$W/t.lance" --queries "$W/queries.fvecs" -k 10 --out "$W/gt-old.npy" --version "$old"
      check "$what: groundtruth --version $old equals LanceDB's search at version $old" 'same_ids "$W/gt-old.npy" "$W/exact_old.npy"'
      [ "$vt" = f32 ] || continue
      # the index holds exactly the live rows, and search returns none of the deleted ones
      expect_exit 0 "$PA" build --input "$W/t.lance" --out "$W/idx" --partitions 16 --sub-vectors 4 --json
      live=$(sed -n 's/.*Lance dataset, version [0-9]*, \([0-9]*\) rows.*/\1/p' <("$PA" lance-info "$W/t.lance"))
      check "$what: build indexed the $live live rows" 'grep -q "\"rows\":$live," "$T/out"'
      expect_exit 0 "$PA" search --index "$W/idx" --queries "$W/queries.fvecs" -k 10 --nprobes 16 --out "$W/res.npy"
      ids_of "$W/res.npy" | sort -u >"$W/res.ids"
      check "$what: search returns no deleted or moved row" '[ -z "$(sort -u "$W/deleted.txt" | comm -12 - "$W/res.ids")" ]'
      # committed into (a copy of) the table: LanceDB searches with it exactly as partifact does
      cp -r "$W/t.lance" "$W/commit.lance"
      expect_exit 0 "$PA" build --input "$W/commit.lance" --commit --partitions 16 --sub-vectors 4
      node_ "$HERE/lancedb_search.mjs" "$dir" "$W/commit.lance" "$W/queries.fvecs" 8 10 "$W/lancedb-ivf.npy" >"$W/search.out"
      check "$what: LanceDB lists the committed index" 'grep -q "vector_idx: IvfPq" "$W/search.out"'
      expect_exit 0 "$PA" search --index "$(ls -d "$W"/commit.lance/_indices/*)" --queries "$W/queries.fvecs" \
        --nprobes 8 -k 10 --out "$W/partifact-ivf.npy"
      check "$what: LanceDB's search with the committed index equals partifact's, id for id" \
        'same_ids "$W/lancedb-ivf.npy" "$W/partifact-ivf.npy"'
      ids_of "$W/lancedb-ivf.npy" | sort -u >"$W/ivf.ids"
      check "$what: LanceDB's indexed search returns no deleted or moved row" '[ -z "$(sort -u "$W/deleted.txt" | comm -12 - "$W/ivf.ids")" ]'
      # an index built before LanceDB deleted more rows is refused by the commit
      expect_exit 0 node_ "$HERE/make_table.mjs" "$dir" "$W" t delete "id % 13 = 1"
      expect_err 2 "fragment 0 has 5837 deleted rows, 5768 when the index was built from version 6; build the index again" \
        "$PA" commit --index "$W/idx" --table "$W/t.lance"
      [ "$lv" = 0.39.0 ] || continue
      # a shallow clone (its files under the source table, a base path) and a branch of it
      node_ "$HERE/lancedb_clone.mjs" "$dir" "$W" "$W/queries.fvecs" 10 >"$W/clone.out" ||
        { fail=$((fail+1)); echo "FAIL: $what: LanceDB could not clone the table"; continue; }
      expect_exit 0 "$PA" groundtruth --input "$W/c.lance" --queries "$W/queries.fvecs" -k 10 --out "$W/gt-clone.npy"
      check "$what: groundtruth of a shallow clone equals LanceDB's search of it" 'same_ids "$W/gt-clone.npy" "$W/exact_clone.npy"'
      expect_exit 0 "$PA" groundtruth --input "$W/c.lance/tree/b" --queries "$W/queries.fvecs" -k 10 --out "$W/gt-branch.npy"
      check "$what: groundtruth of a branch equals LanceDB's search of it" 'same_ids "$W/gt-branch.npy" "$W/exact_branch.npy"'
    done
  done
done
# nullable vector columns holding nulls (lancedb_nulls.mjs: every row 3 mod 10 null): build
# leaves them out and counts them, groundtruth equals LanceDB's flat search and never returns one
for lv in 0.37.1 0.39.0; do
  dir=$HERE; [ "$lv" = 0.39.0 ] && dir=$HERE/lancedb-0.39
  for storage in 2.1 2.2; do
    [ "$storage" = 2.2 ] && [ "$lv" = 0.37.1 ] && continue
    W=$WORK/$lv-$storage-nulls; mkdir -p "$W"; what="LanceDB $lv, format $storage, null vectors"
    node_ "$HERE/lancedb_nulls.mjs" "$dir" "$W" "$WORK/base.fvecs" "$WORK/q.fvecs" "$storage" 10 >"$W/node.out" ||
      { fail=$((fail+1)); echo "FAIL: $what: LanceDB could not make the table"; continue; }
    nn=$(wc -l <"$W/nulls.txt")
    expect_exit 0 "$PA" build --input "$W/n.lance" --out "$W/idx" --partitions 16 --sub-vectors 4 --json
    check "$what: build indexed $((20000 - nn)) rows and counted $nn null vectors" \
      'grep -q "\"rows\":$((20000 - nn)),.*\"null_vectors\":$nn," "$T/out" && [ "$nn" = 2000 ]'
    expect_exit 0 "$PA" groundtruth --input "$W/n.lance" --queries "$WORK/q.fvecs" -k 10 --out "$W/gt.npy"
    check "$what: groundtruth equals LanceDB's flat search, id for id" 'same_ids "$W/gt.npy" "$W/exact_nulls.npy"'
    ids_of "$W/gt.npy" | sort -u >"$W/gt.ids"
    check "$what: no null vector in the ground truth" '[ -z "$(sort -u "$W/nulls.txt" | comm -12 - "$W/gt.ids")" ]'
  done
done
finish
