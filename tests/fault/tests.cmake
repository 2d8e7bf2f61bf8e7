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
# Disk full while replacing each command's output (a small tmpfs; needs root, else skipped).
add_test(NAME diskfull COMMAND ${CMAKE_CURRENT_LIST_DIR}/diskfull.sh
         $<TARGET_FILE:partifact> ${CMAKE_BINARY_DIR}/test-tmp/diskfull)
set_tests_properties(diskfull PROPERTIES LABELS "cli;fault" SKIP_RETURN_CODE 77)
# Failing pwrite, fsync and rename while replacing outputs (--force): the old output survives.
add_test(NAME output_faults COMMAND ${CMAKE_CURRENT_LIST_DIR}/output_faults.sh
         $<TARGET_FILE:partifact> $<TARGET_FILE:pafault> ${CMAKE_BINARY_DIR}/test-tmp/output_faults)
set_tests_properties(output_faults PROPERTIES LABELS "cli;fault")
# Failing reads of the input at every stage of a build: nothing left behind, the retry the same.
add_test(NAME build_faults COMMAND ${CMAKE_CURRENT_LIST_DIR}/build_faults.sh
         $<TARGET_FILE:partifact> $<TARGET_FILE:pafault> ${CMAKE_BINARY_DIR}/test-tmp/build_faults)
set_tests_properties(build_faults PROPERTIES LABELS "cli;fault")
