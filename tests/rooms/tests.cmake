# Rooms (docs/architecture.md): the include path each room compiles with reaches the internal
# headers of the rooms it uses and of no other, so a forbidden include fails the build. The
# test compiles, for every room and every room with headers, a file including those headers
# with the room's own include path: it must compile where the room uses the other, and fail
# with "No such file" where it does not.
get_property(pa_rooms GLOBAL PROPERTY PA_ROOMS)
set(pa_graph "")
foreach(room IN LISTS pa_rooms)
  get_target_property(uses pa_${room} PA_USES)
  if(NOT uses)
    set(uses "")
  endif()
  string(REPLACE ";" "," uses "${uses}")
  string(APPEND pa_graph "${room}|${uses}|$<JOIN:$<TARGET_PROPERTY:pa_${room},INCLUDE_DIRECTORIES>,|>\n")
endforeach()
# the CLI (tools/) uses the common room only (and the mpi room where MPI is built)
string(APPEND pa_graph "tools|${PA_CLI_USES}|$<JOIN:$<TARGET_PROPERTY:partifact,INCLUDE_DIRECTORIES>,|>\n")
file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/rooms/graph.txt CONTENT "${pa_graph}")
add_test(NAME rooms_forbidden_include
  COMMAND ${CMAKE_COMMAND} -DGRAPH=${CMAKE_BINARY_DIR}/rooms/graph.txt -DCC=${CMAKE_C_COMPILER}
          -DSRC=${CMAKE_SOURCE_DIR} -DWORK=${CMAKE_BINARY_DIR}/rooms/probes
          -P ${CMAKE_CURRENT_LIST_DIR}/check_includes.cmake)
set_tests_properties(rooms_forbidden_include PROPERTIES LABELS unit)

# GNUInstallDirs, the plugin directory and -Werror as a plain configure sets them.
add_test(NAME build_options COMMAND ${CMAKE_CURRENT_LIST_DIR}/build_options.sh ${CMAKE_SOURCE_DIR}
         ${CMAKE_BINARY_DIR}/test-tmp/build_options)
set_tests_properties(build_options PROPERTIES LABELS "install")

# The built library searches the plugin directory of its install prefix.
add_executable(test_plugin_path ${CMAKE_CURRENT_LIST_DIR}/test_plugin_path.c)
target_link_libraries(test_plugin_path PRIVATE partifact_static)
target_include_directories(test_plugin_path PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit)
target_compile_definitions(test_plugin_path PRIVATE PA_TEST_PLUGIN_DIR="${PA_PLUGIN_DIR}")
add_test(NAME test_plugin_path COMMAND test_plugin_path)
set_tests_properties(test_plugin_path PROPERTIES LABELS unit)

# The unit harness runs one case by name (tests/unit/test.h).
add_test(NAME unit_case_selection COMMAND ${CMAKE_CURRENT_LIST_DIR}/case_selection.sh
         $<TARGET_FILE:test_cpu> ${CMAKE_BINARY_DIR}/test-tmp/case_selection)
set_tests_properties(unit_case_selection PROPERTIES LABELS unit)
