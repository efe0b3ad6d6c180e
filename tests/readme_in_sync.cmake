# Fails when the README's example differs from examples/targeted_query.cpp (between the markers), so the
# README cannot show code that no longer compiles. Run as: cmake -DROOT=<source dir> -P readme_in_sync.cmake
file(READ ${ROOT}/examples/targeted_query.cpp source)
file(READ ${ROOT}/README.md readme)
string(REGEX MATCH "// \\[readme\\]\n(.*)  // \\[readme\\]" _ "${source}")
set(example "${CMAKE_MATCH_1}")
string(REGEX REPLACE "(^|\n)  " "\\1" example "${example}")  # the README shows it unindented
string(FIND "${readme}" "${example}" where)
if(where EQUAL -1 OR example STREQUAL "")
  message(FATAL_ERROR "README.md does not contain the example of examples/targeted_query.cpp verbatim:\n${example}")
endif()
message(STATUS "README example in sync")
