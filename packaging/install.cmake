# Installation: `cmake --install build --prefix /usr` puts the tools, their
# man pages, bash completion and the documentation where Debian expects them.
# The analyzer's rule tables (analyze/data) are compiled into the binary, so
# there is no separate data directory to install.
include(GNUInstallDirs)

set(_capaudit_tools capaudit-analyze)
if(TARGET capaudit-record)
  list(APPEND _capaudit_tools capaudit-record)
endif()
if(TARGET capaudit)
  list(APPEND _capaudit_tools capaudit)
endif()
install(TARGETS ${_capaudit_tools} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Man pages: help2man over each tool's own --help and --version, so a page
# never says something the tool does not. capaudit-analyze's page also carries
# every sub-command's --help.
find_program(CAPAUDIT_HELP2MAN help2man)
if(CAPAUDIT_HELP2MAN)
  set(_man_dir ${CMAKE_BINARY_DIR}/man)
  set(_pages "")
  foreach(tool IN LISTS _capaudit_tools)
    set(_page ${_man_dir}/${tool}.1)
    add_custom_command(
      OUTPUT ${_page}
      COMMAND ${CMAKE_COMMAND} -DHELP2MAN=${CAPAUDIT_HELP2MAN} -DTOOL=$<TARGET_FILE:${tool}> -DNAME=${tool}
              -DOUT=${_page} -DSOURCE_DIR=${PROJECT_SOURCE_DIR} -P ${PROJECT_SOURCE_DIR}/packaging/man.cmake
      DEPENDS ${tool} ${PROJECT_SOURCE_DIR}/packaging/man.cmake
      COMMENT "Generating man page ${tool}.1 from --help"
      VERBATIM)
    list(APPEND _pages ${_page})
  endforeach()
  add_custom_target(capaudit_man ALL DEPENDS ${_pages})
  install(FILES ${_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(WARNING "help2man not found: no man pages (scripts/setup installs it)")
endif()

# bash completion: one script; bash-completion loads it by command name.
foreach(tool IN LISTS _capaudit_tools)
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/capaudit.bash-completion
          DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME ${tool})
endforeach()

# Documentation and the committed sample traces (examples to analyze).
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR} FILES_MATCHING PATTERN "*.md")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/samples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
