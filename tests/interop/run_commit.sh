#!/usr/bin/env bash
# Committing partifact's index into LanceDB tables, against LanceDB 0.37.1 (tests/interop) and
# 0.39.0 (tests/interop/lancedb-0.39). Needs node and the pinned npm packages (make deps-node).
#   run_commit.sh interop PARTIFACT WORK   LanceDB lists and searches the committed index (8-bit
#                                          and 4-bit codes)
#   run_commit.sh checks PARTIFACT WORK    source record, manifest fields, table-info, refusals
#   run_commit.sh kill PARTIFACT WORK RUNS SIGKILL during build --commit and commit
#   run_commit.sh race PARTIFACT WORK RUNS two commits into one table at once
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
MODE=$1; PA=$2; WORK=$3
. "$HERE/table_lib.sh"
# WORK/pristine.lance (LanceDB, 3 fragments), and WORK/idx built from its copy WORK/t.lance
pristine_and_index() {
  node_ make_table.mjs "$HERE" "$WORK" pristine "$WORK/base.fvecs" 3 >/dev/null || exit 1
  cp -r "$WORK/pristine.lance" "$WORK/t.lance"
  "$PA" build --input "$WORK/t.lance" --out "$WORK/idx" --partitions 8 --sub-vectors 4 >/dev/null || exit 1
}
"$PA" gen-vectors --out "$WORK/base.fvecs" --rows 6000 --dim 32 --clusters 40 --seed 5 >/dev/null || exit 1
"$PA" gen-vectors --out "$WORK/q.fvecs" --rows 100 --dim 32 --clusters 40 --seed 5 --first-row 6000 >/dev/null || exit 1

case "$MODE" in
  interop)
    # for each LanceDB: a table in 3 fragments; build --commit; listIndices and indexStats;
    # 100 queries give partifact's ids in partifact's order (nprobes 6 of 16); an old handle
    # appends; optimize() indexes the new rows and search finds them
    # (l2 with both; cosine and dot with 0.39.0)
    for d in "${LANCEDBS[@]}"; do
      mkdir -p "$WORK/$(basename "$d")"
      node_ table_commit.mjs "$d" "$WORK/$(basename "$d")" "$PA" "$WORK/base.fvecs" "$WORK/q.fvecs" \
          3 16 8 6 || exit 1
    done
    for m in cosine dot; do
      node_ table_commit.mjs "$HERE/lancedb-0.39" "$WORK/lancedb-0.39" "$PA" "$WORK/base.fvecs" \
          "$WORK/q.fvecs" 3 16 8 6 $m || exit 1
    done
    # 4-bit codes (build --bits 4, 16 sub-vectors): both LanceDBs load and search the index
    # (l2; cosine with 0.39.0)
    for d in "${LANCEDBS[@]}"; do
      node_ table_commit.mjs "$d" "$WORK/$(basename "$d")" "$PA" "$WORK/base.fvecs" "$WORK/q.fvecs" \
          3 16 16 6 l2 4 || exit 1
    done
    node_ table_commit.mjs "$HERE/lancedb-0.39" "$WORK/lancedb-0.39" "$PA" "$WORK/base.fvecs" \
        "$WORK/q.fvecs" 3 16 16 6 cosine 4 || exit 1 ;;
  checks)
    node_ make_table.mjs "$HERE" "$WORK" t "$WORK/base.fvecs" 3 >/dev/null || exit 1
    cp -r "$WORK/t.lance" "$WORK/pristine.lance"
    TB=$WORK/t.lance; R=$(realpath "$TB")
    expect_exit 0 "$PA" build --input "$TB" --out "$WORK/idx" --partitions 8 --sub-vectors 4
    # the source record beside LanceDB's own keys
    expect_exit 0 "$PA" lance-info "$WORK/idx/index.idx" --json
    for key in '"lance:index"' '"lance:ivf"' '"lance:flat"' '"partifact:index"' '"partifact:source"'; do
      expect_out "$key"; done
    # table-info before: three fragments, no index
    expect_exit 0 "$PA" table-info "$TB"
    expect_out "$R: Lance table, version 3 (V2 manifest names), 6000 rows, 0 deleted"
    expect_out "indexes: none"
    # refusals leave the table as it was
    untouched "$TB" "partifact build: $TB: no column named \"nope\"" \
        "$PA" build --input "$TB" --commit --column nope
    "$PA" build --input "$WORK/base.fvecs" --out "$WORK/idx-file" --partitions 8 --sub-vectors 4 >/dev/null || exit 1
    untouched "$TB" "partifact commit: $WORK/idx-file: the index records no source table (it was not built from a Lance table); build it from the table" \
        "$PA" commit --index "$WORK/idx-file" --table "$TB"
    untouched "$TB" "partifact commit: $WORK/pristine.lance: the index $WORK/idx was built from another table ($R)" \
        "$PA" commit --index "$WORK/idx" --table "$WORK/pristine.lance"
    mkdir -p "$WORK/plain"
    untouched "$WORK/plain" "partifact commit: $WORK/plain: not a Lance dataset (no _versions directory)" \
        "$PA" commit --index "$WORK/idx" --table "$WORK/plain"
    # commit: version 4, the old manifest's other fields byte for byte
    expect_exit 0 "$PA" commit --index "$WORK/idx" --table "$TB" --json
    expect_out '"name":"vector_idx"'; expect_out '"version":4,"read_version":3,"built_version":3,"fragments":3,"replaced":0'
    expect_exit 0 node manifest_fields.mjs "$TB/_versions/18446744073709551612.manifest" \
        "$TB/_versions/18446744073709551611.manifest"
    expect_exit 0 "$PA" table-info "$TB"
    expect_out "vector_idx: IVF_PQ"; expect_out "on vector, built from version 3, fragments 0,1,2 (6000 live rows)"
    expect_exit 0 "$PA" table-info "$TB" --json
    expect_out '"versions":[1,2,3,4]'; expect_out '"fragments":[0,1,2],"rows_covered":6000'
    untouched "$TB" "partifact commit: $TB: the table has an index named \"vector_idx\" already (version 4); give another name or replace it" \
        "$PA" commit --index "$WORK/idx" --table "$TB"
    untouched "$TB" "partifact build: $TB: the table has an index named \"vector_idx\" already (version 4); give another name or replace it" \
        "$PA" build --input "$TB" --commit
    # a second name, then --replace: the entry replaced in one commit
    expect_exit 0 "$PA" commit --index "$WORK/idx" --table "$TB" --name second
    expect_exit 0 "$PA" build --input "$TB" --commit --replace --partitions 8 --sub-vectors 4 --json
    expect_out '"replaced":1'
    # its transaction adds the new entry and removes the old one
    expect_exit 0 node txn_indices.mjs "$TB/_transactions/$(cd "$TB/_transactions" && ls 5-*.txn)"
    expect_out "read_version 5"; expect_out "new vector_idx"; expect_out "removed vector_idx"
    expect_exit 0 node_ table_check.mjs "$HERE" versions 6000 "$TB" second vector_idx
    expect_exit 0 node_ table_check.mjs "$HERE/lancedb-0.39" versions 6000 "$TB" second vector_idx
    # an index whose fragments are gone: a table restored to version 2 (fragments 0, 1)
    cp -r "$WORK/pristine.lance" "$WORK/gone.lance"
    expect_exit 0 "$PA" build --input "$WORK/gone.lance" --out "$WORK/idx-gone" --partitions 8 --sub-vectors 4
    rm "$WORK/gone.lance/_versions/18446744073709551612.manifest"
    G=$(realpath "$WORK/gone.lance")
    untouched "$WORK/gone.lance" "partifact commit: $WORK/gone.lance: fragment 2, which the index was built from (version 3), is no longer in the table (version 2); build the index again" \
        "$PA" commit --index "$WORK/idx-gone" --table "$WORK/gone.lance"
    expect_err 2 "partifact search: $WORK/gone.lance: fragment 2, which the index was built from (version 3), is no longer in the table (version 2); build the index again" \
        "$PA" search --index "$WORK/idx-gone" --queries "$WORK/q.fvecs" --refine-factor 4 --input "$WORK/gone.lance"
    expect_exit 0 "$PA" search --index "$WORK/idx" --queries "$WORK/q.fvecs" --refine-factor 4 --input "$TB"
    # LanceDB's own index is carried over byte for byte; both are listed and searched
    cp -r "$WORK/pristine.lance" "$WORK/theirs.lance"
    node_ lancedb_create_index.mjs "$HERE" "$WORK/theirs.lance" theirs 4 4 >/dev/null || exit 1
    expect_exit 0 "$PA" build --input "$WORK/theirs.lance" --commit --partitions 8 --sub-vectors 4
    expect_exit 0 node manifest_fields.mjs "$WORK/theirs.lance/_versions/18446744073709551611.manifest" \
        "$WORK/theirs.lance/_versions/18446744073709551610.manifest"
    expect_out "index entries: 1 old, 2 new, 1 carried unchanged"
    for d in "${LANCEDBS[@]}"; do
      expect_exit 0 node_ table_check.mjs "$d" versions 6000 "$WORK/theirs.lance" theirs vector_idx; done
    # a table with V1 manifest names gets version 4 as 4.manifest
    node_ make_table.mjs "$HERE" "$WORK" v1 "$WORK/base.fvecs" 3 v1 >/dev/null || exit 1
    expect_exit 0 "$PA" build --input "$WORK/v1.lance" --commit --partitions 8 --sub-vectors 4
    expect_exit 0 ls "$WORK/v1.lance/_versions/4.manifest"
    expect_exit 0 "$PA" table-info "$WORK/v1.lance"
    expect_out "version 4 (V1 manifest names), 6000 rows"
    for d in "${LANCEDBS[@]}"; do
      expect_exit 0 node_ table_check.mjs "$d" versions 6000 "$WORK/v1.lance" vector_idx; done
    # a table LanceDB made with stable row ids: refused before any work
    node_ make_table.mjs "$HERE/lancedb-0.39" "$WORK" stable "$WORK/base.fvecs" 2 stable >/dev/null || exit 1
    untouched "$WORK/stable.lance" "partifact build: $WORK/stable.lance: the table uses stable row ids (feature flag 0x2), but partifact's indexes hold row addresses; nothing was committed" \
        "$PA" build --input "$WORK/stable.lance" --commit --partitions 8 --sub-vectors 4
    # LanceDB appends after the build: the commit goes on top, the new fragment unindexed
    cp -r "$WORK/pristine.lance" "$WORK/grown.lance"
    expect_exit 0 "$PA" build --input "$WORK/grown.lance" --out "$WORK/idx-grown" --partitions 8 --sub-vectors 4
    node_ make_table.mjs "$HERE" "$WORK" grown append 50 32 >/dev/null
    expect_exit 0 "$PA" commit --index "$WORK/idx-grown" --table "$WORK/grown.lance" --json
    expect_out '"version":5,"read_version":4,"built_version":3,"fragments":3'
    expect_exit 0 "$PA" table-info "$WORK/grown.lance"
    expect_out "on vector, built from version 3, fragments 0,1,2 (6000 live rows)"
    expect_exit 0 node_ table_check.mjs "$HERE/lancedb-0.39" versions 6050 "$WORK/grown.lance" vector_idx
    # LanceDB deletes rows after the build: table-info counts them, the commit is refused
    cp -r "$WORK/pristine.lance" "$WORK/del.lance"
    expect_exit 0 "$PA" build --input "$WORK/del.lance" --out "$WORK/idx-del" --partitions 8 --sub-vectors 4
    node_ make_table.mjs "$HERE" "$WORK" del delete 'id >= 2000 AND id < 2010' >/dev/null
    DL=$(realpath "$WORK/del.lance")
    expect_exit 0 "$PA" table-info "$WORK/del.lance"
    expect_out "$DL: Lance table, version 4 (V2 manifest names), 6000 rows, 10 deleted"
    expect_out "  1: 2000 rows, 10 deleted"
    untouched "$WORK/del.lance" "partifact commit: $WORK/del.lance: fragment 1 has 10 deleted rows since the index was built from version 3; build the index again" \
        "$PA" commit --index "$WORK/idx-del" --table "$WORK/del.lance"
    # a dimension that does not match: another table's vectors under the same path
    "$PA" gen-vectors --out "$WORK/b16.fvecs" --rows 600 --dim 16 --seed 2 >/dev/null
    cp -r "$WORK/pristine.lance" "$WORK/dim.lance"
    expect_exit 0 "$PA" build --input "$WORK/dim.lance" --out "$WORK/idx-dim" --partitions 4 --sub-vectors 4
    rm -rf "$WORK/dim.lance"; node_ make_table.mjs "$HERE" "$WORK" dim "$WORK/b16.fvecs" 3 >/dev/null
    D16=$(realpath "$WORK/dim.lance")
    untouched "$WORK/dim.lance" "partifact commit: $WORK/dim.lance: column \"vector\" has 16 dimensions, the index $WORK/idx-dim holds 32" \
        "$PA" commit --index "$WORK/idx-dim" --table "$WORK/dim.lance"
    finish ;;
  kill)
    # SIGKILL at a random moment of build --commit (odd runs) or commit (even runs), each on a
    # fresh copy of the table; LanceDB must then open it at the old or the new version, and a
    # rerun (with --replace, in case the killed run had committed) must succeed
    RUNS=$4
    pristine_and_index
    s=$(date +%s%N); "$PA" build --input "$WORK/t.lance" --commit --partitions 8 --sub-vectors 4 >/dev/null || exit 1
    build_us=$(( ($(date +%s%N) - s) / 1000 ))
    s=$(date +%s%N); "$PA" commit --index "$WORK/idx" --table "$WORK/t.lance" --name probe >/dev/null || exit 1
    commit_us=$(( ($(date +%s%N) - s) / 1000 ))
    echo "build --commit takes ${build_us} us, commit ${commit_us} us"
    RANDOM=12; tables=()
    for i in $(seq 1 "$RUNS"); do
      rm -rf "$WORK/t.lance"; cp -r "$WORK/pristine.lance" "$WORK/t.lance"
      if [ $((i % 2)) -eq 1 ]; then us=$(( build_us * RANDOM / 32768 ))
        "$PA" build --input "$WORK/t.lance" --commit --partitions 8 --sub-vectors 4 >/dev/null 2>&1 &
      else us=$(( commit_us * RANDOM / 32768 ))
        "$PA" commit --index "$WORK/idx" --table "$WORK/t.lance" >/dev/null 2>&1 & fi
      pid=$!; sleep "$(printf '0.%06d' "$us")"; kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
      mv "$WORK/t.lance" "$WORK/k$i.lance"; tables+=("$WORK/k$i.lance:3")
    done
    echo "the killed runs left $(ls -d "$WORK"/k*.lance/.partifact-commit-* 2>/dev/null | wc -l) temporary manifests and $(ls -d "$WORK"/k*.lance/_indices/* 2>/dev/null | wc -l) index directories"
    for d in "${LANCEDBS[@]}"; do
      expect_exit 0 node_ table_check.mjs "$d" killed 6000 "${tables[@]}"; cat "$T/out"; done
    for i in $(seq 1 "$RUNS"); do
      # the index's source is t.lance: rerun the commit there
      rm -rf "$WORK/t.lance"; mv "$WORK/k$i.lance" "$WORK/t.lance"
      if [ $((i % 2)) -eq 1 ]; then
        expect_exit 0 "$PA" build --input "$WORK/t.lance" --commit --replace --partitions 8 --sub-vectors 4
      else expect_exit 0 "$PA" commit --index "$WORK/idx" --table "$WORK/t.lance" --replace; fi
      mv "$WORK/t.lance" "$WORK/k$i.lance"
    done
    for i in $(seq 1 "$RUNS"); do tables[$((i - 1))]=$WORK/k$i.lance; done
    # the reruns removed the temporary manifests the killed runs left
    left=$(ls -d "$WORK"/k*.lance/.partifact-commit-* 2>/dev/null | wc -l)
    if [ "$left" -eq 0 ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $left temporary manifests left"; fi
    expect_exit 0 node_ table_check.mjs "$HERE" indexed 6000 "${tables[@]}"
    finish ;;
  race)
    # two commits into one table at once: two names (both must commit, one on top of the
    # other), or one name (one commits, the other stops with a clear error); every version
    # opens in LanceDB
    RUNS=$4
    pristine_and_index
    retries=0
    for i in $(seq 1 "$RUNS"); do
      rm -rf "$WORK/t.lance"; cp -r "$WORK/pristine.lance" "$WORK/t.lance"
      "$PA" commit --index "$WORK/idx" --table "$WORK/t.lance" --name a --json >"$WORK/a.out" 2>"$WORK/a.err" & pa=$!
      "$PA" commit --index "$WORK/idx" --table "$WORK/t.lance" --name b --json >"$WORK/b.out" 2>"$WORK/b.err" & pb=$!
      wait $pa; ra=$?; wait $pb; rb=$?
      retries=$((retries + $(cat "$WORK/a.out" "$WORK/b.out" | sed -n 's/.*"retries":\([0-9]*\).*/\1/p' | awk '{s+=$1} END {print s+0}')))
      if [ $ra -eq 0 ] && [ $rb -eq 0 ]; then pass=$((pass+1)); else fail=$((fail+1))
        echo "FAIL: race $i, two names: exits $ra $rb"; cat "$WORK/a.err" "$WORK/b.err"; fi
      expect_exit 0 node_ table_check.mjs "$HERE" versions 6000 "$WORK/t.lance" a b
      "$PA" commit --index "$WORK/idx" --table "$WORK/t.lance" >"$WORK/a.out" 2>"$WORK/a.err" & pa=$!
      "$PA" commit --index "$WORK/idx" --table "$WORK/t.lance" >"$WORK/b.out" 2>"$WORK/b.err" & pb=$!
      wait $pa; ra=$?; wait $pb; rb=$?
      errs=$(cat "$WORK/a.err" "$WORK/b.err")
      if [ $((ra + rb)) -eq 2 ] && [ "$(printf '%s\n' "$errs" | grep -c .)" -eq 1 ] &&
         printf '%s' "$errs" | grep -qF 'the table has an index named "vector_idx" already (version 6)'; then
        pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: race $i, one name: exits $ra $rb: $errs"; fi
      expect_exit 0 node_ table_check.mjs "$HERE/lancedb-0.39" versions 6000 "$WORK/t.lance" a b vector_idx
    done
    echo "two-name races: $retries commits lost the race and committed on top after re-reading"
    # a commit while LanceDB compacts the table (optimize() rewrites the fragments): the commit
    # ends committed or refuses the rewritten fragments, LanceDB's optimize ends done or with
    # its retryable conflict, and every version opens
    node_ make_table.mjs "$HERE" "$WORK" many "$WORK/base.fvecs" 6 >/dev/null || exit 1
    rm -rf "$WORK/t.lance"; cp -r "$WORK/many.lance" "$WORK/t.lance"
    "$PA" build --input "$WORK/t.lance" --out "$WORK/idx6" --partitions 8 --sub-vectors 4 >/dev/null || exit 1
    outcomes=""
    for i in $(seq 1 "$RUNS"); do
      rm -rf "$WORK/t.lance"; cp -r "$WORK/many.lance" "$WORK/t.lance"
      node lancedb_optimize.mjs "$HERE" "$WORK/t.lance" >"$WORK/o.out" 2>/dev/null & po=$!
      sleep "0.$(( (i * 3) % 10 ))"
      "$PA" commit --index "$WORK/idx6" --table "$WORK/t.lance" >"$WORK/a.out" 2>"$WORK/a.err"; ra=$?
      wait $po; ro=$?
      if { [ $ra -eq 0 ] || { [ $ra -eq 2 ] && [ "$(wc -l <"$WORK/a.err")" -eq 1 ] &&
             grep -qE "which the index was built from \(version 6\), is no longer in the table" "$WORK/a.err"; }; } &&
         { [ $ro -eq 0 ] || grep -q "Retryable commit conflict" "$WORK/o.out"; }; then
        pass=$((pass+1)); else fail=$((fail+1))
        echo "FAIL: commit during optimize: exits $ra $ro"; cat "$WORK/a.err" "$WORK/o.out"; fi
      outcomes="$outcomes commit:$ra/optimize:$ro"
      [ $ra -eq 0 ] && want=vector_idx || want=
      expect_exit 0 node_ table_check.mjs "$HERE" versions 6000 "$WORK/t.lance" $want
    done
    echo "commits during optimize:$outcomes"
    finish ;;
  *) echo "unknown mode $MODE" >&2; exit 2 ;;
esac
