# Backend plugins for the loading tests, built as MODULE libraries into test-backends/.
foreach(plugin ref oldabi none)
  add_library(partifact-backend-${plugin} MODULE ${CMAKE_CURRENT_LIST_DIR}/backend_${plugin}.c)
  target_include_directories(partifact-backend-${plugin} PRIVATE ${CMAKE_SOURCE_DIR}/include)
  set_target_properties(partifact-backend-${plugin} PROPERTIES PREFIX "lib"
    LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/test-backends)
endforeach()
add_executable(test_backend_load ${CMAKE_CURRENT_LIST_DIR}/test_backend_load.c)
target_link_libraries(test_backend_load PRIVATE partifact_static)
target_include_directories(test_backend_load PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/tests/unit)
add_dependencies(test_backend_load partifact-backend-ref partifact-backend-oldabi partifact-backend-none)
add_test(NAME test_backend_load COMMAND test_backend_load ${CMAKE_BINARY_DIR}/test-backends)
set_tests_properties(test_backend_load PROPERTIES LABELS unit)
