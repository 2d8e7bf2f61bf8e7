# Every fuzz target, built with the normal compiler and fuzz/replay_main.c instead of libFuzzer,
# replays its seed corpus (fuzz/corpus/<target>: real files and every input that once crashed
# it) as a unit test; in the ASan build, under the sanitizers.
include(${CMAKE_SOURCE_DIR}/fuzz/targets.cmake)
foreach(t ${PA_FUZZ_TARGETS})
  add_executable(replay_${t} ${CMAKE_SOURCE_DIR}/fuzz/${t}.c ${CMAKE_SOURCE_DIR}/fuzz/replay_main.c)
  target_link_libraries(replay_${t} PRIVATE partifact_static)
  target_include_directories(replay_${t} PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_BINARY_DIR}/proto)
  target_compile_definitions(replay_${t} PRIVATE PA_FUZZ_DATA="${CMAKE_SOURCE_DIR}/fuzz/data")
  add_test(NAME fuzz_replay_${t} COMMAND replay_${t} ${CMAKE_SOURCE_DIR}/fuzz/corpus/${t})
  set_tests_properties(fuzz_replay_${t} PROPERTIES LABELS unit
    ENVIRONMENT "TMPDIR=${CMAKE_BINARY_DIR}/test-tmp")
endforeach()
