# cmake -P script: TOOL's man page from its --help/--version (help2man).
# For capaudit-analyze every sub-command's --help goes in as well.
set(_include ${OUT}.include)
file(WRITE ${_include} "[SEE ALSO]\ncapaudit(1), capaudit-record(1), capaudit-analyze(1); /usr/share/doc/capaudit/\n")
if(NAME STREQUAL "capaudit-analyze")
  file(APPEND ${_include} "[COMMANDS]\n")
  foreach(cmd info dump report config check diff verify)
    execute_process(COMMAND ${TOOL} ${cmd} --help OUTPUT_VARIABLE _help RESULT_VARIABLE _rc)
    if(NOT _rc EQUAL 0)
      message(FATAL_ERROR "${TOOL} ${cmd} --help failed (${_rc})")
    endif()
    # roff: a leading '.' or '\'' is a request; escape backslashes.
    string(REPLACE "\\" "\\e" _help "${_help}")
    string(REGEX REPLACE "\n([.'])" "\n\\\\&\\1" _help "${_help}")
    file(APPEND ${_include} ".SS ${cmd}\n.nf\n${_help}.fi\n")
  endforeach()
endif()
set(_names_capaudit "record a command's Linux capability checks and say what it needs")
set(_names_capaudit-record "record the Linux capability checks of a command, process or cgroup (eBPF)")
set(_names_capaudit-analyze "analyze capaudit traces: capabilities needed, configs, gates")
execute_process(
  COMMAND ${HELP2MAN} --no-info --no-discard-stderr --section=1 "--name=${_names_${NAME}}"
          --include=${_include} --output=${OUT} ${TOOL}
  RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "help2man ${TOOL} failed (${_rc})")
endif()
