# Runs one command line and checks how it ended: the exit code, what it printed, and that an error is
# exactly one line on stderr with nothing left behind. Used by tests/CMakeLists.txt for the programs.
#   cmake -DCOMMAND="prog|arg|arg" -DCODE=2 [-DOUT=regex] [-DERR=regex] [-DABSENT=path] [-DPRESENT=path]
#         [-DBLOCK=path] -P cli_expect.cmake
# PRESENT: a file that must still be there afterwards (a previous run's output, say).
# BLOCK: a directory made at that path first, so that a file the program writes there cannot be.
if(DEFINED BLOCK)
  file(MAKE_DIRECTORY "${BLOCK}")
endif()
string(REPLACE "|" ";" command "${COMMAND}")
execute_process(COMMAND ${command} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code STREQUAL "${CODE}")
  message(FATAL_ERROR "exit code ${code}, expected ${CODE}\nstdout: ${out}\nstderr: ${err}")
endif()
if(DEFINED OUT AND NOT out MATCHES "${OUT}")
  message(FATAL_ERROR "stdout does not match '${OUT}':\n${out}")
endif()
if(DEFINED ERR)
  if(NOT err MATCHES "${ERR}")
    message(FATAL_ERROR "stderr does not match '${ERR}':\n${err}")
  endif()
  string(REGEX MATCHALL "\n" newlines "${err}")
  list(LENGTH newlines lines)
  if(NOT lines EQUAL 1)
    message(FATAL_ERROR "the error is ${lines} lines, expected one:\n${err}")
  endif()
endif()
if(DEFINED ABSENT AND EXISTS "${ABSENT}")
  message(FATAL_ERROR "${ABSENT} was left behind")
endif()
if(DEFINED PRESENT AND NOT EXISTS "${PRESENT}")
  message(FATAL_ERROR "${PRESENT} is gone")
endif()
message(STATUS "ok: exit ${code}")
