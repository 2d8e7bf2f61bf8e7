# Interop with LanceDB itself (pinned @lancedb/lancedb from npm, installed by make deps-node).
foreach(prog write_dataset read_lancedb wrap_bucket read_lance_files rowid_bytes lance22 artifact_tool)
  add_executable(interop_${prog} ${CMAKE_CURRENT_LIST_DIR}/${prog}.c)
  target_link_libraries(interop_${prog} PRIVATE partifact_static)
  set_target_properties(interop_${prog} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/interop)
endforeach()
foreach(prog rowid_bytes lance22)
  target_include_directories(interop_${prog} PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_BINARY_DIR}/proto)
endforeach()
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

# Lance file format 2.2 (the artifact's buckets and metadata.lance, issue 14): partifact writes
# every column type it writes (uint64, uint32, fixed_size_list<uint8> declared nullable,
# fixed_size_list<float>, list<float>, list<fixed_size_list<float>>: many pages, one row, no
# rows) and LanceDB 0.39.0 reads back every value; partifact reads every value of LanceDB's 2.2
# files of those types (lance-cuvs' metadata.lance among them) and, writing them again, makes
# the same pages byte for byte.
add_test(NAME interop_lance22 COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_interop.sh lance22
         ${CMAKE_BINARY_DIR}/interop ${CMAKE_BINARY_DIR}/test-tmp/interop-lance22)
set_tests_properties(interop_lance22 PROPERTIES LABELS interop TIMEOUT 600)

# lance-cuvs' older output, Lance's precomputed shuffle buffers (written through LanceDB 0.39 by
# shuffle_buffers.mjs from the rows of partifact's own artifact), as finalize --rows input: the
# same index as finalize --artifact, partition by partition.
add_test(NAME interop_shuffle_buffers COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_interop.sh shuffle
         ${CMAKE_BINARY_DIR}/interop ${CMAKE_BINARY_DIR}/test-tmp/interop-shuffle $<TARGET_FILE:partifact>)
set_tests_properties(interop_shuffle_buffers PROPERTIES LABELS interop TIMEOUT 600)

# The artifact against the upstream side (issue 14), with LanceDB 0.39.0: partifact's artifacts
# checked field by field against the upstream reader's and builder's rules (each check naming its
# source); LanceDB reading every bucket file and metadata.lance of them as the manifest
# describes; artifacts a foreign producer writes through LanceDB by the upstream builder's rules,
# finalized into the index partifact's own artifact of the same rows gives.
foreach(mode rules read foreign)
  add_test(NAME interop_upstream_${mode} COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_upstream.sh ${mode}
           $<TARGET_FILE:partifact> ${CMAKE_BINARY_DIR}/interop ${CMAKE_BINARY_DIR}/test-tmp/upstream-${mode})
  set_tests_properties(interop_upstream_${mode} PROPERTIES LABELS interop TIMEOUT 600
                       ENVIRONMENT "PARTIFACT_LIBRARY=$<TARGET_FILE:partifact_shared>")
endforeach()

# The engine-free steps of a distributed build (issue 16), a shell loop of separate processes:
# shards by fragments of a LanceDB table (rows deleted) or by row ranges of a file, a segment per
# shard committed as one index or all shards finalized into one segment; LanceDB 0.37.1 and
# 0.39.0 list one index of the expected segments and search as partifact searches the segments.
foreach(mode table file)
  add_test(NAME interop_shards_${mode} COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_shards.sh ${mode}
           $<TARGET_FILE:partifact> ${CMAKE_BINARY_DIR}/test-tmp/shards-${mode})
  set_tests_properties(interop_shards_${mode} PROPERTIES LABELS interop TIMEOUT 600)
endforeach()
