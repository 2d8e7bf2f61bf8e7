# The Python package (python/): its pytest suite against this build's libpartifact and CLI.
# Debian's python3 with python3-numpy and python3-pytest (make deps installs them); a python3
# earlier on PATH (pyenv, a venv) usually lacks them, so /usr/bin is looked in first.
find_program(PA_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT PA_PYTHON3)
  find_program(PA_PYTHON3 NAMES python3)
endif()
add_test(NAME python_pytest
         COMMAND ${PA_PYTHON3} -m pytest -q -p no:cacheprovider ${CMAKE_SOURCE_DIR}/python/tests
                 --basetemp=${CMAKE_BINARY_DIR}/test-tmp/python_pytest)
set_tests_properties(python_pytest PROPERTIES LABELS "python" TIMEOUT 300
  ENVIRONMENT "PARTIFACT_LIBRARY=$<TARGET_FILE:partifact_shared>;PARTIFACT_CLI=$<TARGET_FILE:partifact>;PYTHONDONTWRITEBYTECODE=1")
