#!/usr/bin/env bash
# Build vs FAISS, and the limit (issue 13): `partifact build` (train + assign + encode +
# finalize) against FAISS IndexIVFPQ train + add (8-bit) and IndexIVFPQFastScan, the factory's
# IVF256,PQ32x4fs (4-bit, PQ on the vectors: FAISS's default) and IVF256,PQ32x4fsr (4-bit on
# residuals, as partifact and LanceDB encode), with FAISS built from source for this CPU (bench/faiss_build.sh;
# FAISS_PYTHONPATH) -- the same data, training sample (256 rows per partition, at least 65,536;
# the PQ codebooks on 65,536 residuals), iterations (coarse 10, PQ 25), bits and threads (2).
# Paired runs alternating partifact, FAISS, partifact, FAISS ..., RUNS of each, medians and the
# per-run range of the ratio; each phase's time; the PQ reconstruction error of each side (MSE
# of the residuals' reconstruction over every row: partifact train --encode on the same seed,
# whose model is checked byte for byte against the build's (the first run's, built again with
# --keep-work: the timed builds run as a user runs them, their scratch artifact not synced),
# and faiss_common.pq_mse).
# The limit: each phase's floating-point work (formulas printed with the table) against the
# sgemm rate `partifact --version --json` measures before each run, and for search (nprobes
# NPROBES, SEARCH_QUERIES queries in one batch, both cores) the code bytes scanned per query
# against the copy bandwidth bench/stream.c measures (arrays far above the L3, and arrays that
# fit it: the index's codes do).
# Usage: bench/build_vs_faiss.sh [BUILD_DIR]; env RUNS (3), WORK (bench/out/build_vs_faiss),
#        DATASETS ("gen fashion"; "tiny": 20,000 x 32, P=16, M=8, a smoke test), BITS ("8 4 4r":
#        4 and 4r where partifact build takes --bits; 4 is FAISS's x4fs, 4r its x4fsr),
#        NPROBES (20), SEARCH_QUERIES (10000), FAISS_PYTHONPATH, FAISS_CORRECTNESS_ONLY and
#        FAISS_BLAS (bench/faiss_peer.sh)
set -euo pipefail
BUILD=${1:-build}; PA="$(cd "$BUILD" && pwd)/partifact"
HERE=$(cd "$(dirname "$0")" && pwd); . "$HERE/datasets.sh"; . "$HERE/faiss_peer.sh"
"$PA" --version --verbose # the CPU, BLAS kernels and sgemm rate of every figure below
faiss_peer_header         # the FAISS measured; stops here where it is a generic build
RUNS=${RUNS:-3}; WORK=${WORK:-bench/out/build_vs_faiss}; DATASETS=${DATASETS:-"gen fashion"}
NPROBES=${NPROBES:-20}; SEARCH_QUERIES=${SEARCH_QUERIES:-10000}
if [ -z "${BITS:-}" ]; then
  # (not `--help | grep -q`: grep's early exit kills the writer, and pipefail fails the test)
  BITS=8; grep -q -- '--bits' <("$PA" build --help 2>&1) && BITS="8 4 4r"
fi
mkdir -p "$WORK"; WORK=$(cd "$WORK" && pwd)
. "$HERE/bench_util.sh" # peak
cc -O3 -march=native -fopenmp "$HERE/stream.c" -o "$WORK/stream"
bandwidth() { # copy GB/s: median of 3 (each the best of its passes), DRAM (2 x 1 GiB), L3 (2 x 32 MiB)
  local dram=() l3=()
  for _ in 1 2 3; do
    dram+=("$(OMP_NUM_THREADS=2 "$WORK/stream" 1024 3)"); l3+=("$(OMP_NUM_THREADS=2 "$WORK/stream" 32 20)")
  done
  printf '%s\n' "${dram[@]}" | sort -g | sed -n 2p; printf '%s\n' "${l3[@]}" | sort -g | sed -n 2p
}
echo "load before: $(uptime)"
read -r bw_dram bw_l3 < <(bandwidth | paste -sd' ')
echo "copy bandwidth (2 threads): DRAM $bw_dram GB/s, L3-resident $bw_l3 GB/s"
results="$WORK/results.jsonl"; : > "$results"
for ds in $DATASETS; do
  if [ "$ds" = tiny ]; then # a smoke test of the script: 20,000 x 32, P=16, M=8
    base="$WORK/tiny.fvecs"; P=16; M=8
    [ -f "$base" ] || "$PA" gen-vectors --out "$base" --rows 20000 --dim 32 --clusters 50 --seed 1 >/dev/null
  else
    bench_dataset "$ds"
  fi
  q10k="$WORK/$ds-queries-$SEARCH_QUERIES.fvecs"
  bench_queries "$ds" "$SEARCH_QUERIES" "$q10k"
  dim=$(od -An -t d4 -N 4 "$base" | tr -d ' ')
  for bits in $BITS; do
    m=$M; fa_args="$bits"; pa_bits=()
    # 4-bit: twice the sub-vectors (the same code bytes), or the largest even divisor of the
    # dimension below that (Fashion-MNIST's 784: 28)
    m4=$((M * 2)); while [ $(( dim % m4 )) -ne 0 ] || [ $(( m4 % 2 )) -ne 0 ]; do m4=$((m4 - 1)); done
    case $bits in # partifact encodes residuals; FAISS's fast-scan by default the vectors (fs)
      4) m=$m4; fa_args="4 fs"; pa_bits=(--bits 4) ;;
      4r) m=$m4; fa_args="4 fsr"; pa_bits=(--bits 4) ;;
    esac
    for run in $(seq 1 "$RUNS"); do
      "$PA" --version --json > "$WORK/v.json"
      rm -rf "$WORK/idx" "$WORK/work"
      # the build as a user runs it: its artifact a scratch one, not synced (--keep-work syncs)
      /usr/bin/time -v -o "$WORK/t.txt" "$PA" build --input "$base" --out "$WORK/idx" --partitions $P \
          --sub-vectors $m "${pa_bits[@]}" --seed $run --work-dir "$WORK/work" --json \
          > "$WORK/pa.json"
      pa_rss=$(peak "$WORK/t.txt")
      "$PA" train --input "$base" --partitions $P --sub-vectors $m "${pa_bits[@]}" --seed $run \
          --out "$WORK/model.lance" --force --encode --json > "$WORK/pa_mse.json"
      if [ "$run" = 1 ]; then # the MSE's model is the build's: an untimed build that keeps its work
        rm -rf "$WORK/idx-kept" "$WORK/work"
        "$PA" build --input "$base" --out "$WORK/idx-kept" --partitions $P --sub-vectors $m \
            "${pa_bits[@]}" --seed $run --work-dir "$WORK/work" --keep-work > /dev/null
        cmp -s "$WORK/model.lance" "$WORK/work/model.lance" ||
          { echo "train --encode's model differs from the build's ($ds, run $run)" >&2; exit 1; }
        rm -rf "$WORK/idx-kept" "$WORK/work"
      fi
      search="{}"
      if [ "$run" = "$RUNS" ] && [ "$bits" != 4r ]; then # search bytes against bandwidth, last run's index
        "$PA" search --index "$WORK/idx" --queries "$q10k" -k 10 --nprobes "$NPROBES" --repeat 3 \
            --json > "$WORK/s.json"
        search=$(cat "$WORK/s.json")
      fi
      /usr/bin/time -v -o "$WORK/t.txt" $FAISS_PY "$HERE/faiss_ivfpq.py" "$base" $P $m $run $fa_args \
          > "$WORK/fa.json"
      fa_rss=$(peak "$WORK/t.txt")
      python3 - "$ds" "$bits" "$run" "$WORK/v.json" "$WORK/pa.json" "$WORK/pa_mse.json" "$pa_rss" \
          "$WORK/fa.json" "$fa_rss" "$search" >> "$results" <<'PY'
import json, sys
ds, bits, run, v, pa, pm, parss, fa, farss, search = sys.argv[1:]
j = lambda p: json.load(open(p))
print(json.dumps({"data": ds, "variant": bits, "bits": int(bits.rstrip("r")), "run": int(run), "sgemm_gflops": j(v)["sgemm"]["gflops"],
                  "amx_gflops": (j(v).get("amx") or {}).get("gflops"),
                  "pa": j(pa), "pa_mse": j(pm)["pq_mse"], "pa_rss_kib": int(parss),
                  "faiss": j(fa), "faiss_rss_kib": int(farss), "search": json.loads(search)}))
PY
      python3 -c "import json,sys; r=json.loads(open(sys.argv[1]).readlines()[-1]); print(f\"{r['data']} {r['variant']} run {r['run']}: partifact {r['pa']['seconds']:.2f} s (mse {r['pa_mse']:.5g}), faiss {r['faiss']['total_seconds']:.2f} s (mse {r['faiss']['pq_mse']:.5g}), sgemm {r['sgemm_gflops']} GFLOP/s\")" "$results" >&2
    done
  done
done
read -r bw_dram2 bw_l3_2 < <(bandwidth | paste -sd' ')
echo "copy bandwidth after (2 threads): DRAM $bw_dram2 GB/s, L3-resident $bw_l3_2 GB/s"
echo "load after: $(uptime)"
rm -rf "$WORK/idx" "$WORK/work" "$WORK/model.lance"
/usr/bin/python3 "$HERE/build_vs_faiss_report.py" "$results" "$FAISS_HEADER" \
    "$bw_dram" "$bw_l3" "$bw_dram2" "$bw_l3_2"
