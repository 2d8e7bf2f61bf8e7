# The libFuzzer targets, one per parser of outside bytes (docs/fuzzing.md), one a line. The one
# list: fuzz/CMakeLists.txt builds them with libFuzzer, fuzz/replay.cmake replays their corpora
# in ctest, and the Makefile's check-fuzz runs each (it reads the names from this file).
set(PA_FUZZ_TARGETS
  fuzz_lance_file
  fuzz_lance_dataset
  fuzz_artifact_manifest
  fuzz_model
  fuzz_npy
  fuzz_vecs
  fuzz_index
  fuzz_table_info
  fuzz_queries
  fuzz_groundtruth
  fuzz_deletion
)
