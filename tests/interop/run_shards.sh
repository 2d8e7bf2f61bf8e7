#!/usr/bin/env bash
# The engine-free steps of a distributed build (issue 16), driven by a plain shell loop of
# separate partifact processes, checked against LanceDB 0.37.1 and 0.39.0:
#   run_shards.sh table PARTIFACT WORK  a LanceDB table in 4 fragments, rows deleted: shards by
#                                       fragments; (a) a segment per shard committed together,
#                                       (b) all shards finalized into one segment
#   run_shards.sh file PARTIFACT WORK   a file split by --rows: the same without the table
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
MODE=$1; PA=$2; WORK=$3
. "$HERE/table_lib.sh"
# encode_shards INPUT OPTION VALUE...: a process per shard, shard-0, shard-1, ... in WORK
encode_shards() {
  local input=$1 opt=$2 i=0; shift 2
  for v in "$@"; do
    expect_exit 0 "$PA" encode --input "$input" --model "$WORK/m.lance" --out "$WORK/shard-$i" "$opt" "$v" --json
    i=$((i+1))
  done
}
# lancedb_sees SEGMENTS PA.npy LIVE.txt: both LanceDBs list vector_idx of SEGMENTS segments
# over every live row and search as partifact did (PA.npy); LIVE.txt gets the live rows
lancedb_sees() {
  for d in "${LANCEDBS[@]}"; do
    expect_exit 0 node_ segments.mjs "$d" "$TB" vector_idx "$1" "$WORK/q.fvecs" $NP 10 "$2" "$3"
    cat "$WORK/out"
  done
}
# same_files A B: the two index directories hold byte-identical index.idx and auxiliary.idx
same_files() {
  if cmp -s "$1/index.idx" "$2/index.idx" && cmp -s "$1/auxiliary.idx" "$2/auxiliary.idx"; then
    pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $1 and $2 differ"; fi
}
rows_of() { "$PA" index-info "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"])'; }
# all_rows OUT.txt SEGMENT...: every row id the segments hold (one search per segment probing
# every partition with k = its rows), one a line, ascending; a row held twice shows twice
all_rows() {
  local out=$1; shift
  local i=0 files=()
  for s in "$@"; do
    "$PA" search --index "$s" --queries "$WORK/q1.fvecs" -k "$(rows_of "$s")" --nprobes $P \
        --out "$WORK/all-$i.npy" --force >/dev/null || { echo "FAIL: search of $s"; exit 1; }
    files+=("$WORK/all-$i.npy"); i=$((i+1))
  done
  python3 -c 'import array, struct, sys
ids = []
for f in sys.argv[2:]:
    b = open(f, "rb").read()
    a = array.array("Q"); a.frombytes(b[10 + struct.unpack("<H", b[8:10])[0]:]); ids += a
open(sys.argv[1], "w").write("".join("%d\n" % v for v in sorted(ids)))' "$out" "${files[@]}"
}
# same_text A B WHAT: two files equal
same_text() {
  if cmp -s "$1" "$2"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $3"; diff "$1" "$2" | head -5; fi
}
shard_data

case "$MODE" in
  table)
    # a table LanceDB made in 4 fragments, 60 rows deleted from fragments 0 and 1
    shard_table
    expect_exit 0 "$PA" train --input "$TB" --partitions $P --sub-vectors $M --out "$WORK/m.lance"
    # the shards: a process per shard, each into its own artifact
    encode_shards "$TB" --fragments 0,1 2 3
    expect_out '"rows":1500'
    for i in 0 1 2; do
      expect_exit 0 "$PA" finalize --artifact "$WORK/shard-$i" --out "$WORK/seg-$i"
    done
    # (b)'s segment: every shard finalized into one, equal (files byte for byte: the rows and
    # codes of every partition, and the source record) to what one process writes from the
    # same model
    expect_exit 0 "$PA" finalize --artifact "$WORK/shard-0" --artifact "$WORK/shard-1" \
        --artifact "$WORK/shard-2" --out "$WORK/one" --json
    expect_out '"rows":5940'
    expect_exit 0 "$PA" encode --input "$TB" --model "$WORK/m.lance" --out "$WORK/whole"
    expect_exit 0 "$PA" finalize --artifact "$WORK/whole" --out "$WORK/single"
    same_files "$WORK/one" "$WORK/single"
    # a commit of 3 segments SIGKILLed at random moments, each on a copy of the table: it
    # holds 0 or 3 entries of the index after, never some of them; a rerun commits all 3
    SEG_ARGS=(--segment "$WORK/seg-0" --segment "$WORK/seg-1" --segment "$WORK/seg-2")
    count_entries() {
      "$PA" table-info "$1" --json | python3 -c 'import json,sys
print(sum(1 for i in json.load(sys.stdin)["indexes"] if i["name"] == "vector_idx"))'
    }
    cp -r "$TB" "$WORK/pre.lance"
    s=$(date +%s%N); "$PA" commit --table "$TB" "${SEG_ARGS[@]}" >/dev/null || exit 1
    commit_us=$(( ($(date +%s%N) - s) / 1000 ))
    RANDOM=16; seen=""
    for i in 1 2 3 4 5 6; do
      rm -rf "$TB"; cp -r "$WORK/pre.lance" "$TB"
      "$PA" commit --table "$TB" "${SEG_ARGS[@]}" >/dev/null 2>&1 &
      us=$(( commit_us * 3 / 2 * RANDOM / 32768 )) # up to past the end: some commits complete
      pid=$!; sleep "$(printf '%d.%06d' $((us / 1000000)) $((us % 1000000)))"; kill -KILL $pid 2>/dev/null
      wait $pid 2>/dev/null
      n=$(count_entries "$TB"); seen="$seen $n"
      if [ "$n" = 0 ] || [ "$n" = 3 ]; then pass=$((pass+1)); else fail=$((fail+1))
        echo "FAIL: a killed commit left $n of the 3 segments"; fi
      expect_exit 0 "$PA" commit --table "$TB" "${SEG_ARGS[@]}" --replace
      n=$(count_entries "$TB")
      if [ "$n" = 3 ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: rerun left $n segments"; fi
    done
    echo "killed commits of 3 segments (commit takes ${commit_us} us) left entries:$seen"
    rm -rf "$TB"; mv "$WORK/pre.lance" "$TB"
    # (a) a segment per shard, committed together: one index of 3 segments in one version
    expect_exit 0 "$PA" commit --table "$TB" --segment "$WORK/seg-0" --segment "$WORK/seg-1" \
        --segment "$WORK/seg-2" --json
    expect_out '"name":"vector_idx"'; expect_out '"version":6,"read_version":5,"built_version":5,"fragments":4'
    SEGS=$(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["segments"]))' "$WORK/out")
    expect_exit 0 "$PA" table-info "$TB"
    expect_out "on vector, built from version 5, fragments 0,1 (2940 live rows)"
    expect_out "on vector, built from version 5, fragments 2 (1500 live rows)"
    expect_out "on vector, built from version 5, fragments 3 (1500 live rows)"
    ARGS=(); DIRS=()
    for u in $SEGS; do ARGS+=(--index "$TB/_indices/$u"); DIRS+=("$TB/_indices/$u"); done
    expect_exit 0 "$PA" search "${ARGS[@]}" --queries "$WORK/q.fvecs" -k 10 --nprobes $NP --out "$WORK/pa-a.npy"
    lancedb_sees 3 "$WORK/pa-a.npy" "$WORK/live.txt"
    # the segments together hold exactly the live rows of the table, each once
    all_rows "$WORK/rows-a.txt" "${DIRS[@]}"
    same_text "$WORK/rows-a.txt" "$WORK/live.txt" "the 3 segments do not hold exactly the table's live rows, each once"
    # search over the 3 segments gives the one segment's answers
    expect_exit 0 "$PA" search --index "$WORK/one" --queries "$WORK/q.fvecs" -k 10 --nprobes $NP --out "$WORK/pa-b.npy"
    same_text "$WORK/pa-a.npy" "$WORK/pa-b.npy" "search over the 3 segments differs from the one segment's"
    # refusals leave the table as it was
    untouched "$TB" "partifact commit: segments $WORK/seg-0 and $WORK/one both cover fragment 0; the segments of one index cover disjoint fragments" \
        "$PA" commit --table "$TB" --segment "$WORK/seg-0" --segment "$WORK/one" --name other
    untouched "$TB" "partifact commit: $TB: the table has an index named \"vector_idx\" already (version 6); give another name or replace it" \
        "$PA" commit --table "$TB" --segment "$WORK/seg-0" --segment "$WORK/seg-1"
    untouched "$TB" "partifact finalize: artifacts $WORK/shard-0 and $WORK/whole both cover fragment 0 of $(realpath "$TB")" \
        "$PA" finalize --artifact "$WORK/shard-0" --artifact "$WORK/whole" --out "$WORK/bad"
    # (b) the one segment replaces the 3 in one commit: one index of one segment
    expect_exit 0 "$PA" commit --table "$TB" --segment "$WORK/one" --replace --json
    expect_out '"version":7,"read_version":6,"built_version":5,"fragments":4,"replaced":3'
    lancedb_sees 1 "$WORK/pa-b.npy" "$WORK/live-b.txt"
    all_rows "$WORK/rows-b.txt" "$WORK/one"
    same_text "$WORK/rows-b.txt" "$WORK/live.txt" "the one segment does not hold exactly the table's live rows, each once"
    # encode + finalize of the whole table (one process) commits as build's index does
    expect_exit 0 "$PA" commit --table "$TB" --index "$WORK/single" --name single --json
    expect_out '"version":8,"read_version":7,"built_version":5,"fragments":4'
    ;;
  file)
    # shards of one file by --rows, ids kept global
    "$PA" train --input "$WORK/base.fvecs" --partitions $P --sub-vectors $M --out "$WORK/m.lance" >/dev/null || exit 1
    encode_shards "$WORK/base.fvecs" --rows 0:1500 1500:2600 2600:6000
    expect_out '"rows":3400'
    for i in 0 1 2; do expect_exit 0 "$PA" finalize --artifact "$WORK/shard-$i" --out "$WORK/seg-$i"; done
    expect_exit 0 "$PA" finalize --artifact "$WORK/shard-2" --artifact "$WORK/shard-0" --artifact "$WORK/shard-1" --out "$WORK/one"
    expect_exit 0 "$PA" encode --input "$WORK/base.fvecs" --model "$WORK/m.lance" --out "$WORK/whole"
    expect_exit 0 "$PA" finalize --artifact "$WORK/whole" --out "$WORK/single"
    same_files "$WORK/one" "$WORK/single"
    # the segments hold rows 0..5999, each once (global ids)
    all_rows "$WORK/rows.txt" "$WORK/seg-0" "$WORK/seg-1" "$WORK/seg-2"
    seq 0 5999 > "$WORK/want.txt"
    same_text "$WORK/rows.txt" "$WORK/want.txt" "the row-range segments do not hold rows 0..5999 once each"
    # search over the segments: the single index's ids and distances
    expect_exit 0 "$PA" search --index "$WORK/seg-0" --index "$WORK/seg-1" --index "$WORK/seg-2" \
        --queries "$WORK/q.fvecs" -k 10 --nprobes $NP --out "$WORK/pa-segs.npy"
    expect_exit 0 "$PA" search --index "$WORK/single" --queries "$WORK/q.fvecs" -k 10 --nprobes $NP --out "$WORK/pa-one.npy"
    same_text "$WORK/pa-segs.npy" "$WORK/pa-one.npy" "search over the 3 row-range segments differs from the single index's"
    # the CLI raises the soft open-file limit to the hard one for them, and a hard limit too
    # low is refused, naming it
    expect_exit 0 bash -c 'ulimit -S -n 30 && exec "$0" "$@"' "$PA" finalize --artifact "$WORK/shard-0" \
        --artifact "$WORK/shard-1" --artifact "$WORK/shard-2" --out "$WORK/raised"
    same_files "$WORK/raised" "$WORK/single"
    expect_err 1 "partifact finalize: the bucket files of 2 shards are held open together, more than the process may open (RLIMIT_NOFILE 30); raise the limit, or finalize fewer shards into each segment" \
        bash -c 'ulimit -n 30 && exec "$0" "$@"' "$PA" finalize --artifact "$WORK/shard-0" \
        --artifact "$WORK/shard-1" --artifact "$WORK/shard-2" --out "$WORK/bad"
    # 4-bit codes: the same (one segment equals the single index, the segments search as it)
    mkdir -p "$WORK/b4"
    "$PA" train --input "$WORK/base.fvecs" --partitions $P --sub-vectors $M --bits 4 --out "$WORK/b4/m.lance" >/dev/null || exit 1
    for r in 0:2000 2000:6000 all; do
      a=(); [ "$r" = all ] || a=(--rows "$r")
      expect_exit 0 "$PA" encode --input "$WORK/base.fvecs" --model "$WORK/b4/m.lance" --out "$WORK/b4/a-$r" "${a[@]}"
    done
    expect_exit 0 "$PA" finalize --artifact "$WORK/b4/a-0:2000" --artifact "$WORK/b4/a-2000:6000" --out "$WORK/b4/one"
    expect_exit 0 "$PA" finalize --artifact "$WORK/b4/a-all" --out "$WORK/b4/single"
    same_files "$WORK/b4/one" "$WORK/b4/single"
    for r in 0:2000 2000:6000; do expect_exit 0 "$PA" finalize --artifact "$WORK/b4/a-$r" --out "$WORK/b4/s-$r"; done
    expect_exit 0 "$PA" search --index "$WORK/b4/s-0:2000" --index "$WORK/b4/s-2000:6000" \
        --queries "$WORK/q.fvecs" -k 10 --nprobes $NP --out "$WORK/b4/segs.npy"
    expect_exit 0 "$PA" search --index "$WORK/b4/single" --queries "$WORK/q.fvecs" -k 10 --nprobes $NP --out "$WORK/b4/one.npy"
    same_text "$WORK/b4/segs.npy" "$WORK/b4/one.npy" "4-bit: search over 2 segments differs from the single index's"
    # k past one segment's rows but within all of them
    expect_exit 0 "$PA" search --index "$WORK/seg-0" --index "$WORK/seg-1" --queries "$WORK/q1.fvecs" -k 2600 --nprobes $P
    expect_err 2 "partifact search: k = 2601 is more than the 2600 rows of the 2 segments" \
        "$PA" search --index "$WORK/seg-0" --index "$WORK/seg-1" --queries "$WORK/q1.fvecs" -k 2601 --nprobes $P
    ;;
esac
finish
