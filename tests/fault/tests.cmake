# Fault injection: an LD_PRELOAD shim that fails pwrite/fsync/rename at the Nth call.
add_library(pafault MODULE ${CMAKE_CURRENT_LIST_DIR}/faultinject.c)
target_link_libraries(pafault PRIVATE ${CMAKE_DL_LIBS})
add_test(NAME artifact_faults COMMAND ${CMAKE_CURRENT_LIST_DIR}/artifact_faults.sh
         $<TARGET_FILE:partifact> $<TARGET_FILE:pafault> ${CMAKE_BINARY_DIR}/test-tmp/faults)
set_tests_properties(artifact_faults PROPERTIES LABELS "cli;fault")
add_test(NAME encode_faults COMMAND ${CMAKE_CURRENT_LIST_DIR}/encode_faults.sh
         $<TARGET_FILE:partifact> $<TARGET_FILE:pafault> ${CMAKE_BINARY_DIR}/test-tmp/encode_faults)
set_tests_properties(encode_faults PROPERTIES LABELS "cli;fault")
add_test(NAME finalize_faults COMMAND ${CMAKE_CURRENT_LIST_DIR}/finalize_faults.sh
         $<TARGET_FILE:partifact> $<TARGET_FILE:pafault> ${CMAKE_BINARY_DIR}/test-tmp/finalize_faults)
set_tests_properties(finalize_faults PROPERTIES LABELS "cli;fault")
add_test(NAME commit_faults COMMAND ${CMAKE_CURRENT_LIST_DIR}/commit_faults.sh
         $<TARGET_FILE:partifact> $<TARGET_FILE:pafault> ${CMAKE_BINARY_DIR}/test-tmp/commit_faults)
set_tests_properties(commit_faults PROPERTIES LABELS "cli;fault")
