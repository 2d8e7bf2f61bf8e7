# The bad-input catalogue (tests/bad-inputs/catalogue.tsv): every entry is a command on a bad
# file that must exit 2 with exactly one expected line on stderr.
add_test(NAME bad_inputs COMMAND ${CMAKE_CURRENT_LIST_DIR}/run.sh $<TARGET_FILE:partifact>
         ${CMAKE_BINARY_DIR}/test-tmp/bad-inputs)
set_tests_properties(bad_inputs PROPERTIES LABELS "unit;cli")
