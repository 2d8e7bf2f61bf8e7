# Interop with LanceDB itself (pinned @lancedb/lancedb from npm, installed by make deps-node).
foreach(prog write_dataset read_lancedb wrap_bucket read_lance_files rowid_bytes)
  add_executable(interop_${prog} ${CMAKE_CURRENT_LIST_DIR}/${prog}.c)
  target_link_libraries(interop_${prog} PRIVATE partifact_static)
  set_target_properties(interop_${prog} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/interop)
endforeach()
target_include_directories(interop_rowid_bytes PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_BINARY_DIR}/proto)
add_test(NAME interop_c_to_lancedb COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_interop.sh c-to-lancedb
         ${CMAKE_BINARY_DIR}/interop ${CMAKE_BINARY_DIR}/test-tmp/interop-c2l)
add_test(NAME interop_lancedb_to_c COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_interop.sh lancedb-to-c
         ${CMAKE_BINARY_DIR}/interop ${CMAKE_BINARY_DIR}/test-tmp/interop-l2c)
add_test(NAME interop_bucket_in_lancedb COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_interop.sh bucket
         ${CMAKE_BINARY_DIR}/interop ${CMAKE_BINARY_DIR}/test-tmp/interop-bucket $<TARGET_FILE:partifact>)
set_tests_properties(interop_c_to_lancedb interop_lancedb_to_c interop_bucket_in_lancedb
                     PROPERTIES LABELS interop TIMEOUT 600)

# LanceDB builds an IVF_PQ index; partifact opens and searches it (src/index).
add_test(NAME interop_lancedb_index COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_interop.sh index
         ${CMAKE_BINARY_DIR}/interop ${CMAKE_BINARY_DIR}/test-tmp/interop-index $<TARGET_FILE:partifact>)
set_tests_properties(interop_lancedb_index PROPERTIES LABELS interop TIMEOUT 600)

# A LanceDB table in several fragments as the input of build, groundtruth and search refine.
add_test(NAME interop_lancedb_dataset_input COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_interop.sh dataset
         ${CMAKE_BINARY_DIR}/interop ${CMAKE_BINARY_DIR}/test-tmp/interop-dataset $<TARGET_FILE:partifact>)
set_tests_properties(interop_lancedb_dataset_input PROPERTIES LABELS interop TIMEOUT 600)

# partifact's index committed into LanceDB tables (LanceDB 0.37.1 and 0.39.0): listed, searched
# exactly as partifact searches, appended to and optimized; refusals leave the table untouched;
# SIGKILL during build --commit and commit; two commits into one table at once.
foreach(mode interop checks)
  add_test(NAME interop_table_commit_${mode} COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_commit.sh ${mode}
           $<TARGET_FILE:partifact> ${CMAKE_BINARY_DIR}/test-tmp/table-commit-${mode})
  set_tests_properties(interop_table_commit_${mode} PROPERTIES LABELS interop TIMEOUT 600)
endforeach()
add_test(NAME interop_table_commit_kill COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_commit.sh kill
         $<TARGET_FILE:partifact> ${CMAKE_BINARY_DIR}/test-tmp/table-commit-kill 20)
add_test(NAME interop_table_commit_race COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_commit.sh race
         $<TARGET_FILE:partifact> ${CMAKE_BINARY_DIR}/test-tmp/table-commit-race 5)
set_tests_properties(interop_table_commit_kill interop_table_commit_race
                     PROPERTIES LABELS "interop;crash" TIMEOUT 600)

# Data files in Lance file formats 2.0, 2.1 and 2.2 as LanceDB 0.37.1 and 0.39.0 write them
# (columns of every type beside the vectors, nullable vectors, several fragments): partifact reads
# every value of the columns it needs, and names the ones it does not read.
foreach(ver 0.37 0.39)
  add_test(NAME interop_lance_files_${ver} COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_interop.sh files
           ${CMAKE_BINARY_DIR}/interop ${CMAKE_BINARY_DIR}/test-tmp/interop-files-${ver} ${ver})
  set_tests_properties(interop_lance_files_${ver} PROPERTIES LABELS interop TIMEOUT 600)
endforeach()

# Tables as LanceDB users make them (string, double, int64, timestamp, struct columns, deletes of
# both deletion-file kinds, an update; float, halffloat and double vectors; formats 2.1 and 2.2,
# LanceDB 0.37.1 and 0.39.0): groundtruth and --version equal LanceDB's own flat search.
add_test(NAME interop_lancedb_tables COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_tables.sh
         $<TARGET_FILE:partifact> ${CMAKE_BINARY_DIR}/test-tmp/interop-tables)
set_tests_properties(interop_lancedb_tables PROPERTIES LABELS interop TIMEOUT 600)

# The engine-free steps of a distributed build (issue 16), a shell loop of separate processes:
# shards by fragments of a LanceDB table (rows deleted) or by row ranges of a file, a segment per
# shard committed as one index or all shards finalized into one segment; LanceDB 0.37.1 and
# 0.39.0 list one index of the expected segments and search as partifact searches the segments.
foreach(mode table file)
  add_test(NAME interop_shards_${mode} COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_shards.sh ${mode}
           $<TARGET_FILE:partifact> ${CMAKE_BINARY_DIR}/test-tmp/shards-${mode})
  set_tests_properties(interop_shards_${mode} PROPERTIES LABELS interop TIMEOUT 600)
endforeach()
