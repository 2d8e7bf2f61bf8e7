# partifact build --mpi (src/mpi) under Debian's OpenMPI: 1, 2 and 3 ranks on this machine,
# checked against LanceDB 0.37.1 and 0.39.0 (tests/mpi/run_mpi.sh). Registered only where the
# MPI driver is built (CMake found MPI); without it build --mpi is refused (tests/cli).
find_program(PA_MPIRUN NAMES mpirun)
if(TARGET pa_mpi AND PA_MPIRUN)
  foreach(mode table file kill)
    add_test(NAME mpi_build_${mode} COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_mpi.sh ${mode}
             $<TARGET_FILE:partifact> ${CMAKE_BINARY_DIR}/test-tmp/mpi-${mode})
    set_tests_properties(mpi_build_${mode} PROPERTIES LABELS "mpi;interop" TIMEOUT 600)
  endforeach()
  set_tests_properties(mpi_build_kill PROPERTIES LABELS "mpi;interop;crash")
else()
  # a partifact built without MPI refuses --mpi with one line
  add_test(NAME mpi_build_absent COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_mpi.sh absent
           $<TARGET_FILE:partifact> ${CMAKE_BINARY_DIR}/test-tmp/mpi-absent)
  set_tests_properties(mpi_build_absent PROPERTIES LABELS cli)
endif()
