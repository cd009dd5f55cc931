# Helpers shared by every folder's CMakeLists.txt.

set(PSY_WARNINGS -Wall -Wextra -Wpedantic -Wno-unused-parameter)
if(PSY_SANITIZE)
  string(REPLACE "," ";" _psy_sans "${PSY_SANITIZE}")
  foreach(s ${_psy_sans})
    add_compile_options(-fsanitize=${s} -fno-omit-frame-pointer)
    add_link_options(-fsanitize=${s})
  endforeach()
endif()

# psy_library(NAME SOURCES ... [DEPS ...]) -- a static library for one concern.
function(psy_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(${name} PRIVATE ${PSY_WARNINGS})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

# psy_test(NAME SOURCES ... [DEPS ...]) -- a Catch2 test executable registered with CTest.
# Tests find the shared reference data through PSY_SHARED_DIR (env PSY_SHARED overrides at run time).
function(psy_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE psy_test_main ${ARG_DEPS})
  target_compile_options(${name} PRIVATE ${PSY_WARNINGS})
  add_test(NAME ${name} COMMAND ${name} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "PSY_BIN_DIR=${PROJECT_BINARY_DIR}")
endfunction()
