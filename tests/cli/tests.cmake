# CLI tests: exit codes and one-line errors, run against the built partifact binary.

# pa_cli_test(NAME): tests/cli/NAME.sh PARTIFACT SCRATCH, scratch test-tmp/NAME, labels unit;cli
function(pa_cli_test name)
  add_test(NAME ${name} COMMAND ${CMAKE_SOURCE_DIR}/tests/cli/${name}.sh $<TARGET_FILE:partifact>
           ${CMAKE_BINARY_DIR}/test-tmp/${name})
  set_tests_properties(${name} PROPERTIES LABELS "unit;cli")
endfunction()
add_test(NAME cli_basics COMMAND ${CMAKE_SOURCE_DIR}/tests/cli/cli_basics.sh $<TARGET_FILE:partifact>
         ${CMAKE_BINARY_DIR}/test-tmp/cli)
set_tests_properties(cli_basics PROPERTIES LABELS "unit;cli")

# cmake --install into a scratch prefix, then build a program against it with pkg-config.
add_test(NAME install_pkgconfig COMMAND ${CMAKE_SOURCE_DIR}/tests/cli/install_pkgconfig.sh
         ${CMAKE_BINARY_DIR} ${CMAKE_BINARY_DIR}/test-tmp/install)
set_tests_properties(install_pkgconfig PROPERTIES LABELS "install" RESOURCE_LOCK cmake_install)

pa_cli_test(artifact_cli)
pa_cli_test(artifact_layout)

# SIGKILL the writer at random moments; verify accepts complete or refuses incomplete, nothing else.
add_test(NAME artifact_kill COMMAND ${CMAKE_SOURCE_DIR}/tests/cli/artifact_kill.sh $<TARGET_FILE:partifact>
         ${CMAKE_BINARY_DIR}/test-tmp/artifact_kill 25)
set_tests_properties(artifact_kill PROPERTIES LABELS "cli;crash")

add_test(NAME train_encode_cli COMMAND ${CMAKE_SOURCE_DIR}/tests/cli/train_encode_cli.sh $<TARGET_FILE:partifact>
         ${CMAKE_BINARY_DIR}/test-tmp/train_encode_cli ${CMAKE_BINARY_DIR}/test-backends)
set_tests_properties(train_encode_cli PROPERTIES LABELS "unit;cli")

# finalize (both paths), search, groundtruth, index-info, export-rows
pa_cli_test(index_cli)

pa_cli_test(build_cli)

# SIGKILL `partifact encode` at random moments; the same rule, and a rerun completes.
add_test(NAME encode_kill COMMAND ${CMAKE_SOURCE_DIR}/tests/cli/encode_kill.sh $<TARGET_FILE:partifact>
         ${CMAKE_BINARY_DIR}/test-tmp/encode_kill 20)
set_tests_properties(encode_kill PROPERTIES LABELS "cli;crash")

# SIGKILL `partifact finalize` and `partifact build` at random moments: the index is absent or
# complete and identical, and a rerun completes.
add_test(NAME index_kill COMMAND ${CMAKE_SOURCE_DIR}/tests/cli/index_kill.sh $<TARGET_FILE:partifact>
         ${CMAKE_BINARY_DIR}/test-tmp/index_kill 12)
set_tests_properties(index_kill PROPERTIES LABELS "cli;crash")

# finalize over a manifest of 100k+ ranges peaks within --memory + the stated fixed cost
# (/usr/bin/time -v); not under the sanitizers (label memory only).
add_test(NAME manifest_memory COMMAND ${CMAKE_SOURCE_DIR}/tests/cli/manifest_memory.sh $<TARGET_FILE:partifact>
         ${CMAKE_BINARY_DIR}/test-tmp/manifest_memory)
set_tests_properties(manifest_memory PROPERTIES LABELS "memory")
# encode from a Lance table of dimension 1024 within --memory 32MiB (peak RSS, /usr/bin/time -v)
add_executable(test_to_dataset ${CMAKE_CURRENT_LIST_DIR}/to_dataset.c)
target_link_libraries(test_to_dataset PRIVATE partifact_static)
add_test(NAME memory_encode_lance COMMAND ${CMAKE_SOURCE_DIR}/tests/cli/memory_encode.sh $<TARGET_FILE:partifact>
         ${CMAKE_BINARY_DIR}/test-tmp/memory_encode $<TARGET_FILE:test_to_dataset>)
set_tests_properties(memory_encode_lance PROPERTIES LABELS "memory;cli")

# --skip-invalid in train (the sample), encode and build, counted in --json
pa_cli_test(skip_invalid_cli)

# extreme values: rows whose distances overflow float refused or skipped; large safe ones exact
add_executable(test_scale_fvecs ${CMAKE_CURRENT_LIST_DIR}/scale_fvecs.c)
add_test(NAME extreme_values_cli COMMAND ${CMAKE_SOURCE_DIR}/tests/cli/extreme_values_cli.sh $<TARGET_FILE:partifact>
         ${CMAKE_BINARY_DIR}/test-tmp/extreme_values_cli $<TARGET_FILE:test_scale_fvecs>)
set_tests_properties(extreme_values_cli PROPERTIES LABELS "unit;cli")
# Outputs: refused when they exist (replaced atomically with --force) or are inputs; symlinks and
# foreign directories planted in every output path are left alone; killed runs' leftovers go.
pa_cli_test(outputs_cli)
# --version --verbose names the CPU and BLAS core; the core correction (re-exec) and its
# switches; the same neighbours under Prescott, Haswell, default and corrected kernels
pa_cli_test(blas_cli)

# OpenMP's wait: the CLI's GOMP_SPINCOUNT where the user set none (libgomp's display), the
# user's variables left alone, the same model either way.
pa_cli_test(omp_cli)

# index-info's memory_fixed_bytes / memory_min_bytes: search --memory accepts the least budget
# exactly and refuses one byte less.
pa_cli_test(index_budget_cli)

# search --memory (a quarter of the index) peaks within the budget + the stated fixed cost and
# gives the unbounded search's results (/usr/bin/time -v); not under the sanitizers.
add_test(NAME search_memory COMMAND ${CMAKE_SOURCE_DIR}/tests/cli/search_memory.sh $<TARGET_FILE:partifact>
         ${CMAKE_BINARY_DIR}/test-tmp/search_memory)
set_tests_properties(search_memory PROPERTIES LABELS "memory;cli")

# Every JSON output (manifest.json, the index records, table-info, --json summaries) stays
# valid and exact for paths and names with quotes, backslashes, control characters, non-ASCII.
pa_cli_test(json_cli)

# backend ABI v2: train, bind, encode and work_bytes through the reference plugin; options
add_test(NAME backend_cli COMMAND ${CMAKE_SOURCE_DIR}/tests/cli/backend_cli.sh $<TARGET_FILE:partifact>
         ${CMAKE_BINARY_DIR}/test-tmp/backend_cli ${CMAKE_BINARY_DIR}/test-backends)
set_tests_properties(backend_cli PROPERTIES LABELS "unit;cli")

# an out-of-tree v2 backend plugin built against the installed partifact_backend.h
add_test(NAME install_plugin COMMAND ${CMAKE_SOURCE_DIR}/tests/cli/install_plugin.sh
         ${CMAKE_BINARY_DIR} ${CMAKE_BINARY_DIR}/test-tmp/install_plugin)
set_tests_properties(install_plugin PROPERTIES LABELS "install" RESOURCE_LOCK cmake_install)

# 4-bit PQ codes through train, encode, finalize, search, build (pq4)
add_test(NAME pq4_cli COMMAND ${CMAKE_SOURCE_DIR}/tests/cli/pq4_cli.sh $<TARGET_FILE:partifact>
         ${CMAKE_BINARY_DIR}/test-tmp/pq4_cli ${CMAKE_BINARY_DIR}/test-backends)
set_tests_properties(pq4_cli PROPERTIES LABELS "unit;cli")

# search's scan kernels: the 4-bit fast scan (default) against the plain scan, every kernel
# (PA_KERNEL) writing the same ids, 8-bit too, and --memory.
pa_cli_test(fastscan_cli)

# AMX on and off (PA_AMX=0): byte-identical models and index files (skipped without AMX)
add_test(NAME amx_cli COMMAND ${CMAKE_SOURCE_DIR}/tests/cli/amx_cli.sh $<TARGET_FILE:partifact>
         ${CMAKE_BINARY_DIR}/test-tmp/amx_cli)
set_tests_properties(amx_cli PROPERTIES LABELS "unit;cli" SKIP_RETURN_CODE 77)
