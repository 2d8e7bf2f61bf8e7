# The benchmark data sets, shared by index_bench.sh and table_bench.sh (sourced). bench_dataset
# DS makes (once, in $WORK) and names the base vectors, the 1,000 queries and the index
# parameters of data set DS: base, queries, P, M. Needs PA (the partifact binary), HERE (bench/).
#   gen:     1,000,000 x 128 clustered vectors (gen-vectors, seed 1); queries: 1,000 more rows
#   fashion: Fashion-MNIST's 60,000 training images; queries: the first 1,000 test images
bench_dataset() {
  case $1 in
    gen)
      base="$WORK/gen-1m-128.fvecs"; queries="$WORK/gen-queries.fvecs"; P=256; M=16
      [ -f "$base" ] || "$PA" gen-vectors --out "$base" --rows 1000000 --dim 128 --clusters 1000 --seed 1 >/dev/null
      [ -f "$queries" ] || "$PA" gen-vectors --out "$queries" --rows 1000 --dim 128 --clusters 1000 --seed 1 \
                              --first-row 1000000 >/dev/null ;;
    fashion)
      base="$WORK/fashion-train.fvecs"; queries="$WORK/fashion-queries.fvecs"; P=256; M=16
      if [ ! -f "$base" ]; then
        /usr/bin/python3 "$HERE/fashion_mnist.py" "$base" "$WORK/fashion-test.fvecs"
        head -c $(( 1000 * (4 + 784 * 4) )) "$WORK/fashion-test.fvecs" > "$queries"
      fi ;;
    *) echo "unknown data set $1 (gen, fashion)" >&2; return 1 ;;
  esac
}
# bench_queries DS N OUT makes (once) N queries of data set DS in OUT: for gen and tiny (the
# smoke test's 20,000 x 32) N rows of the same generator past the base's rows, for fashion the
# first N test images (bench_dataset fashion wrote them).
bench_queries() {
  [ -f "$3" ] && return 0
  case $1 in
    gen) "$PA" gen-vectors --out "$3" --rows "$2" --dim 128 --clusters 1000 --seed 1 \
             --first-row 1000000 >/dev/null ;;
    tiny) "$PA" gen-vectors --out "$3" --rows "$2" --dim 32 --clusters 50 --seed 1 \
             --first-row 20000 >/dev/null ;;
    fashion) head -c $(( $2 * (4 + 784 * 4) )) "$WORK/fashion-test.fvecs" > "$3" ;;
    *) echo "unknown data set $1 (gen, fashion, tiny)" >&2; return 1 ;;
  esac
}
