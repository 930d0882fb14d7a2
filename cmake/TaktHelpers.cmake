# Abseil-style helpers: one call per library or test, dependencies by target.

# Warnings for Takt's own code (generated code does not use this), errors in
# CI (scripts/test.sh); -DTAKT_WERROR=OFF for a compiler newer than Debian 12's.
option(TAKT_WERROR "Treat warnings in Takt's own code as errors" ON)
add_library(takt_warnings INTERFACE)
target_compile_options(takt_warnings INTERFACE -Wall -Wextra -Wpedantic
  -Wno-unused-parameter $<$<BOOL:${TAKT_WERROR}>:-Werror>)

# takt_cc_library(NAME x SRCS a.cc HDRS a.h DEPS t1 t2)
function(takt_cc_library)
  cmake_parse_arguments(T "" "NAME" "SRCS;HDRS;DEPS" ${ARGN})
  add_library(${T_NAME} STATIC ${T_SRCS} ${T_HDRS})
  target_include_directories(${T_NAME} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${T_NAME} PUBLIC ${T_DEPS} PRIVATE takt_warnings)
endfunction()

# takt_cc_test(NAME x SRCS a_test.cc DEPS t1 [LABELS l] [TIMEOUT s])
function(takt_cc_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  add_executable(${T_NAME} ${T_SRCS})
  target_link_libraries(${T_NAME} PRIVATE ${T_DEPS} GTest::gmock GTest::gtest_main
                        takt_warnings)
  gtest_discover_tests(${T_NAME} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
                       PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "${T_LABELS}")
endfunction()
