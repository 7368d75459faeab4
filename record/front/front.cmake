# capaudit: the one-step front command (config work). Runs capaudit-record,
# then capaudit-analyze report unprivileged. Build-tree paths are compiled in
# as a fallback; an installed copy finds its siblings next to itself or in PATH.
set(_capaudit_record_path "")
if(TARGET capaudit-record)
  set(_capaudit_record_path "$<TARGET_FILE:capaudit-record>")
endif()
set(_capaudit_analyze_path "")
if(TARGET capaudit-analyze)
  set(_capaudit_analyze_path "$<TARGET_FILE:capaudit-analyze>")
endif()
add_executable(capaudit ${CMAKE_CURRENT_LIST_DIR}/capaudit.cpp ${CMAKE_CURRENT_LIST_DIR}/verify.cpp)
find_package(Boost REQUIRED COMPONENTS program_options)
target_link_libraries(capaudit PRIVATE capaudit_common Boost::program_options)
target_compile_definitions(capaudit PRIVATE CAPAUDIT_RECORD_PATH="${_capaudit_record_path}"
                                            CAPAUDIT_ANALYZE_PATH="${_capaudit_analyze_path}")
