# Project-wide compile options and helpers for modules and tests.

add_library(fides_options INTERFACE)
target_compile_options(fides_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow
  -Wnon-virtual-dtor -Wno-missing-field-initializers)
if(FIDES_WERROR)
  target_compile_options(fides_options INTERFACE -Werror)
endif()
if(FIDES_SANITIZE)
  target_compile_options(fides_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined)
  target_link_options(fides_options INTERFACE -fsanitize=address,undefined)
endif()

# fides_module(NAME SOURCES ... DEPS ...): one static library per chain-core /
# services module. The include root is the folder above the module, so headers
# are included as "crypto/hash.h", "storage/block_store.h", ...
function(fides_module name)
  cmake_parse_arguments(M "" "INCLUDE_ROOT" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${M_SOURCES})
  if(NOT M_INCLUDE_ROOT)
    set(M_INCLUDE_ROOT "${CMAKE_CURRENT_SOURCE_DIR}/..")
  endif()
  target_include_directories(${name} PUBLIC "${M_INCLUDE_ROOT}")
  target_link_libraries(${name} PUBLIC ${M_DEPS} PRIVATE fides_options ${M_PRIVATE_DEPS})
endfunction()

# fides_test(NAME TIER SOURCES ... LIBS ... [DATA_DIR]): one Qt Test executable
# per test class, registered with CTest under the label TIER
# (unit, functional, gui, e2e).
function(fides_test name tier)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE Qt6::Test Qt6::Core fides_options ${T_LIBS})
  target_compile_definitions(${name} PRIVATE
    FIDES_TEST_DATA_DIR="${PROJECT_SOURCE_DIR}/tests/data"
    FIDES_BINARY_DIR="${PROJECT_BINARY_DIR}")
  set_target_properties(${name} PROPERTIES AUTOMOC ON RUNTIME_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/tests")
  add_test(NAME ${tier}/${name} COMMAND ${name})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  set_tests_properties(${tier}/${name} PROPERTIES LABELS ${tier} TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "QT_QPA_PLATFORM=offscreen")
endfunction()
