# Service mode planning (config work): systemd unit -> launch plan. No BPF.
add_library(capaudit_record_service STATIC ${CMAKE_CURRENT_LIST_DIR}/service.cpp)
target_include_directories(capaudit_record_service PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(capaudit_record_service PUBLIC capaudit_unit capaudit_common_headers)
