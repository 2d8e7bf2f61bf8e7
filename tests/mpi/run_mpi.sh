#!/usr/bin/env bash
# partifact build --mpi under Debian's OpenMPI (mpirun --oversubscribe, as root where CI runs
# as root), 1, 2 and 3 ranks on this machine, checked against LanceDB 0.37.1 and 0.39.0:
#   run_mpi.sh table PARTIFACT WORK  a LanceDB table (4 fragments, rows deleted), --commit with
#                                    1, 2, 3 ranks: every rank's model byte-identical (1 rank:
#                                    partifact train's), one index of N segments LanceDB lists
#                                    and searches as partifact does, exactly the live rows each
#                                    once, each rank's segment the one encode --fragments and
#                                    finalize give; --one-segment equals a single-process finalize
#   run_mpi.sh file PARTIFACT WORK   a vector file by rows, --out segments; a rank's share of
#                                    the sample refused, a refusal every rank makes
#   run_mpi.sh kill PARTIFACT WORK   rank 1 SIGKILLed while encoding: the job fails, the table
#                                    is unchanged, a rerun succeeds and removes what was left
#   run_mpi.sh absent PARTIFACT WORK a partifact built without MPI refuses --mpi
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
INTEROP=$(cd "$HERE/../interop" && pwd)
MODE=$1; PA=$2; WORK=$3
if [ "$MODE" = absent ]; then
  rm -rf "$WORK"; mkdir -p "$WORK"; T=$WORK; . "$HERE/../cli/lib.sh"
  expect_err 2 "partifact build: --mpi: this partifact was built without MPI (install OpenMPI, libopenmpi-dev, and build again; see README)" \
      "$PA" build --mpi --input "$WORK/x.fvecs" --out "$WORK/segs"
  expect_exit 2 ls "$WORK/segs"
  finish; exit
fi
# the table scripts' set-up (both LanceDBs, WORK emptied, the CLI helpers, node_), from there
HERE_MPI=$HERE; HERE=$INTEROP; . "$INTEROP/table_lib.sh"; HERE=$HERE_MPI
# mpirun for N ranks on this machine: more ranks than cores, not bound to one core each, no
# cross-memory-attach copies (containers often forbid them); as root where CI runs as root
MPIRUN=(mpirun --oversubscribe --bind-to none --mca btl_vader_single_copy_mechanism none)
[ "$(id -u)" -eq 0 ] && MPIRUN+=(--allow-run-as-root)
mpi() { local n=$1; shift; "${MPIRUN[@]}" -n "$n" "$@"; }
# expect_mpi_err CODE SUBSTRING CMD...: the job exits CODE and partifact prints exactly one
# line (rank 0's) on stderr, holding SUBSTRING (mpirun's own lines beside it are not counted)
expect_mpi_err() {
  local want=$1 sub=$2; shift 2
  "$@" >"$T/out" 2>"$T/err"; local rc=$?
  local lines; lines=$(grep -c '^partifact ' "$T/err")
  if [ "$rc" -eq "$want" ] && [ "$lines" -eq 1 ] && grep '^partifact ' "$T/err" | grep -qF -- "$sub"; then
    pass=$((pass+1))
  else fail=$((fail+1)); echo "FAIL: $* -> rc=$rc partifact lines=$lines, expected rc=$want and one line with: $sub"; cat "$T/err"; fi
}
same_file() { if cmp -s "$1" "$2"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: $3 ($1, $2 differ)"; fi; }
same_index() { same_file "$1/index.idx" "$2/index.idx" "$3"; same_file "$1/auxiliary.idx" "$2/auxiliary.idx" "$3"; }
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"d": d}))' "$T/out" "$1"; }
rows_of() { "$PA" index-info "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["rows"])'; }
# held OUT.txt SEGMENT...: every row id the segments hold (each searched with k = its rows over
# every partition), ascending, one a line: a row held twice shows twice
held() {
  local out=$1; shift
  local files=() i=0
  for s in "$@"; do
    "$PA" search --index "$s" --queries "$WORK/q1.fvecs" -k "$(rows_of "$s")" --nprobes $P \
        --out "$WORK/held-$i.npy" --force >/dev/null || { echo "FAIL: search of $s"; exit 1; }
    files+=("$WORK/held-$i.npy"); i=$((i+1))
  done
  python3 - "$out" "${files[@]}" <<'EOF'
import array, struct, sys
ids = []
for f in sys.argv[2:]:
    b = open(f, "rb").read()
    a = array.array("Q"); a.frombytes(b[10 + struct.unpack("<H", b[8:10])[0]:]); ids += a
open(sys.argv[1], "w").write("".join("%d\n" % v for v in sorted(ids)))
EOF
}
shard_data

case "$MODE" in
  table)
    # a table LanceDB made in 4 fragments (version 4), 60 rows deleted from two of them (5)
    shard_table
    # one process's training of the same table, the reference of 1 rank
    expect_exit 0 "$PA" train --input "$TB" --partitions $P --sub-vectors $M --out "$WORK/single.lance"
    for N in 1 2 3; do
      cp -r "$TB" "$WORK/t$N.lance"
      expect_exit 0 mpi $N "$PA" build --mpi --input "$WORK/t$N.lance" --commit --partitions $P \
          --sub-vectors $M --work-dir "$WORK/job$N" --keep-work --json
      expect_out "\"ranks\":$N,"; expect_out '"rows":5940,'; expect_out "\"segments\":$N,"
      expect_out '"commit":{"name":"vector_idx","version":6,"built_version":5,"fragments":4,'
      SEGS=$(json '" ".join(d["commit"]["segments"])')
      cp "$T/out" "$WORK/job$N.json"
      # every rank holds the same model, byte for byte; 1 rank holds partifact train's
      for ((r = 1; r < N; r++)); do
        same_file "$WORK/job$N/rank-0/model.lance" "$WORK/job$N/rank-$r/model.lance" "rank $r's model differs from rank 0's ($N ranks)"
      done
      [ $N -eq 1 ] && same_file "$WORK/job1/rank-0/model.lance" "$WORK/single.lance" "1 rank's model differs from partifact train's"
      # LanceDB lists one index of N segments over every live row and searches it as partifact
      # searches the segments
      ARGS=(); DIRS=()
      for u in $SEGS; do ARGS+=(--index "$WORK/t$N.lance/_indices/$u"); DIRS+=("$WORK/t$N.lance/_indices/$u"); done
      expect_exit 0 "$PA" search "${ARGS[@]}" --queries "$WORK/q.fvecs" -k 10 --nprobes $NP --out "$WORK/pa-$N.npy"
      for d in "${LANCEDBS[@]}"; do
        expect_exit 0 node_ segments.mjs "$d" "$WORK/t$N.lance" vector_idx $N "$WORK/q.fvecs" $NP 10 \
            "$WORK/pa-$N.npy" "$WORK/live-$N.txt"
        cat "$WORK/out"
      done
      # the segments together hold exactly the live rows, each once
      held "$WORK/held-$N.txt" "${DIRS[@]}"
      same_file "$WORK/held-$N.txt" "$WORK/live-$N.txt" "the $N segments do not hold exactly the live rows, each once"
      # each rank's segment is what the engine-free steps give, run as separate processes on
      # its fragments with its model (fragment ids here are the list's indices)
      for ((r = 0; r < N; r++)); do
        F=$(python3 -c 'import json,sys; k=json.load(open(sys.argv[1]))["per_rank"][int(sys.argv[2])]
print(",".join(str(i) for i in range(k["shard_begin"], k["shard_end"])))' "$WORK/job$N.json" $r)
        expect_exit 0 "$PA" encode --input "$WORK/t$N.lance" --version 5 --fragments "$F" \
            --model "$WORK/job$N/rank-$r/model.lance" --out "$WORK/loop$N-$r"
        expect_exit 0 "$PA" finalize --artifact "$WORK/loop$N-$r" --out "$WORK/loop$N-seg-$r"
        same_index "$WORK/job$N/segments/segment-000$r" "$WORK/loop$N-seg-$r" "rank $r's segment ($N ranks) differs from encode --fragments $F + finalize"
      done
    done
    # --one-segment (3 ranks): rank 0 finalizes every shard into one index, equal (index files
    # byte for byte: every partition's rows and codes) to what one process writes from the model
    cp -r "$TB" "$WORK/one.lance"
    expect_exit 0 mpi 3 "$PA" build --mpi --input "$WORK/one.lance" --one-segment --out "$WORK/one" \
        --commit --partitions $P --sub-vectors $M --work-dir "$WORK/job-one" --keep-work --json
    expect_out '"segments":1,'
    expect_exit 0 "$PA" encode --input "$WORK/one.lance" --version 5 --model "$WORK/job-one/rank-0/model.lance" \
        --out "$WORK/whole"
    expect_exit 0 "$PA" finalize --artifact "$WORK/whole" --out "$WORK/whole-index"
    same_index "$WORK/one" "$WORK/whole-index" "--one-segment differs from a single-process finalize of the same model"
    expect_exit 0 "$PA" search --index "$WORK/one" --queries "$WORK/q.fvecs" -k 10 --nprobes $NP --out "$WORK/pa-one.npy"
    expect_exit 0 node_ segments.mjs "$INTEROP/lancedb-0.39" "$WORK/one.lance" vector_idx 1 "$WORK/q.fvecs" \
        $NP 10 "$WORK/pa-one.npy" "$WORK/live-one.txt"
    # more ranks than fragments: a rank without a shard makes no segment
    node_ make_table.mjs "$INTEROP" "$WORK" two "$WORK/base.fvecs" 2 >/dev/null || exit 1
    expect_exit 0 mpi 3 "$PA" build --mpi --input "$WORK/two.lance" --commit --partitions $P \
        --sub-vectors $M --json
    expect_out '"segments":2,'; expect_out '"rows":6000,'
    expect_out '"rank":2,"sample_rows":2000,"rows":0,"shard":"fragments","shard_begin":2,"shard_end":2,'
    expect_exit 0 "$PA" table-info "$WORK/two.lance"
    expect_out "on vector, built from version 2, fragments 0 (3000 live rows)"
    expect_out "on vector, built from version 2, fragments 1 (3000 live rows)"
    # the table's refusals come before any work, from rank 0, once
    expect_mpi_err 2 "partifact build: rank 0 of 2, start: $WORK/t2.lance: the table has an index named \"vector_idx\" already (version 6); give another name or replace it" \
        mpi 2 "$PA" build --mpi --input "$WORK/t2.lance" --commit
    ;;
  file)
    # a file by rows: --out a directory of 2 segments holding rows 0..5999 once each; searched
    # together they answer as the single-process index of the same model
    expect_exit 0 mpi 2 "$PA" build --mpi --input "$WORK/base.fvecs" --out "$WORK/segs" --partitions $P \
        --sub-vectors $M --work-dir "$WORK/job" --keep-work --json
    expect_out '"ranks":2,'; expect_out '"rows":6000,'; expect_out '"segments":2,'
    expect_out '"shard":"rows","shard_begin":0,"shard_end":3000,'
    expect_out '"shard":"rows","shard_begin":3000,"shard_end":6000,'
    same_file "$WORK/job/rank-0/model.lance" "$WORK/job/rank-1/model.lance" "the ranks' models differ"
    held "$WORK/held.txt" "$WORK/segs/segment-0000" "$WORK/segs/segment-0001"
    seq 0 5999 > "$WORK/want.txt"
    same_file "$WORK/held.txt" "$WORK/want.txt" "the segments do not hold rows 0..5999 once each"
    expect_exit 0 "$PA" encode --input "$WORK/base.fvecs" --model "$WORK/job/rank-0/model.lance" --out "$WORK/whole"
    expect_exit 0 "$PA" finalize --artifact "$WORK/whole" --out "$WORK/single"
    expect_exit 0 "$PA" search --index "$WORK/segs/segment-0000" --index "$WORK/segs/segment-0001" \
        --queries "$WORK/q.fvecs" -k 10 --nprobes $NP --out "$WORK/pa-segs.npy"
    expect_exit 0 "$PA" search --index "$WORK/single" --queries "$WORK/q.fvecs" -k 10 --nprobes $NP --out "$WORK/pa-one.npy"
    same_file "$WORK/pa-segs.npy" "$WORK/pa-one.npy" "search over the 2 segments differs from the single index's"
    # the output exists now: refused before any work, and nothing beside it is left
    expect_mpi_err 2 "partifact build: rank 0 of 2, start: $WORK/segs: exists and is not a regular file" \
        mpi 2 "$PA" build --mpi --input "$WORK/base.fvecs" --out "$WORK/segs"
    # a row of rank 1's share of the sample is NaN: rank 1's message, exit 2, nothing written
    python3 - "$WORK/base.fvecs" "$WORK/nan.fvecs" <<'EOF'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
rec = 4 + 32 * 4
struct.pack_into("<f", b, 5999 * rec + 4, float("nan"))  # the last row: rank 1's share
open(sys.argv[2], "wb").write(b)
EOF
    expect_mpi_err 2 "partifact build: rank 1 of 2, train: $WORK/nan.fvecs: row 5999 has NaN at dimension 0" \
        mpi 2 "$PA" build --mpi --input "$WORK/nan.fvecs" --out "$WORK/nan-out" --partitions $P --sub-vectors $M
    expect_exit 2 ls -d "$WORK/nan-out" "$WORK"/nan-out.*
    # a refusal every rank makes: the first rank's message, once
    expect_mpi_err 2 "partifact build: rank 0 of 3, train: training needs at least as many rows as partitions: 6000 rows for 7000 partitions" \
        mpi 3 "$PA" build --mpi --input "$WORK/base.fvecs" --out "$WORK/big-out" --partitions 7000 --sub-vectors $M
    ;;
  kill)
    # rank 1 of 2 SIGKILLed after its first encoded batch: the job fails, the table keeps its
    # versions and the bytes of _versions (no index, nothing under _indices); a rerun succeeds
    # and removes the job directory the killed job left in the table
    node_ make_table.mjs "$INTEROP" "$WORK" t "$WORK/base.fvecs" 4 >/dev/null || exit 1
    TB=$WORK/t.lance
    snap() { (cd "$TB" && find _versions _indices _transactions -type f 2>/dev/null | sort | xargs md5sum); }
    snap > "$WORK/before"
    PARTIFACT_MPI_KILL_RANK=1 PARTIFACT_MPI_KILL_ROWS=1 \
        mpi 2 -x PARTIFACT_MPI_KILL_RANK -x PARTIFACT_MPI_KILL_ROWS "$PA" build --mpi --input "$TB" \
        --commit --partitions $P --sub-vectors $M >"$WORK/killed.out" 2>"$WORK/killed.err"
    rc=$?
    if [ $rc -ne 0 ] && grep -q "signal 9" "$WORK/killed.err"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: the killed job exited $rc"; cat "$WORK/killed.err"; fi
    snap > "$WORK/after"
    same_file "$WORK/before" "$WORK/after" "the killed job changed the table"
    expect_exit 0 "$PA" table-info "$TB"
    expect_out "indexes: none"
    expect_exit 0 ls -d "$TB"/.partifact-mpi-*
    expect_exit 0 mpi 2 "$PA" build --mpi --input "$TB" --commit --partitions $P --sub-vectors $M --json
    expect_out '"segments":2,'; expect_out '"version":5,'
    expect_exit 2 ls -d "$TB"/.partifact-mpi-*
    expect_exit 0 "$PA" table-info "$TB"
    expect_out "vector_idx: IVF_PQ"
    ;;
esac
finish
