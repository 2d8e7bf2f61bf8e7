# Interop with LanceDB itself (pinned @lancedb/lancedb from npm, installed by make deps-node).
foreach(prog write_dataset read_lancedb wrap_bucket)
  add_executable(interop_${prog} ${CMAKE_CURRENT_LIST_DIR}/${prog}.c)
  target_link_libraries(interop_${prog} PRIVATE partifact_static)
  set_target_properties(interop_${prog} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/interop)
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
