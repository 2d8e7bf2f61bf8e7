# The benchmarks' FAISS peer (bench/faiss_common.py, bench/faiss_peer.sh): a generic FAISS
# build is refused as a peer unless the run says it is a correctness run, and is labelled so.
add_test(NAME bench_faiss_peer COMMAND ${CMAKE_SOURCE_DIR}/tests/bench/faiss_peer.sh
         $<TARGET_FILE:partifact> ${CMAKE_BINARY_DIR}/test-tmp/bench_faiss_peer)
set_tests_properties(bench_faiss_peer PROPERTIES LABELS "unit;cli")

# bench/scale_bench.sh's tables in seconds (partifact only, 4,000 rows, both contention modes,
# growth and search), resumed from its cache, no busy loop left behind; not under the
# sanitizers (peak RSS figures).
add_test(NAME bench_scale_smoke COMMAND ${CMAKE_SOURCE_DIR}/tests/bench/scale_smoke.sh
         $<TARGET_FILE:partifact> ${CMAKE_BINARY_DIR}/test-tmp/bench_scale_smoke)
set_tests_properties(bench_scale_smoke PROPERTIES LABELS "cli;bench")

# bench/kernels_bench.sh's re-exec cost compares a run without any re-exec (neither the OpenMP
# nor the BLAS correction) against one with both: its two environments, checked.
add_test(NAME bench_kernels_reexec COMMAND ${CMAKE_SOURCE_DIR}/bench/kernels_bench.sh
         ${CMAKE_BINARY_DIR} --check-reexec)
set_tests_properties(bench_kernels_reexec PROPERTIES LABELS "cli;bench")
