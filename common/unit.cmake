# systemd unit parsing (config work). A separate small library until it joins
# capaudit_common's sources; depends only on libcap-ng for capability names.
pkg_check_modules(CAPNG REQUIRED IMPORTED_TARGET libcap-ng)
add_library(capaudit_unit STATIC ${CMAKE_CURRENT_LIST_DIR}/systemd_unit.cpp)
target_include_directories(capaudit_unit PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(capaudit_unit PUBLIC PkgConfig::CAPNG)
set_target_properties(capaudit_unit PROPERTIES POSITION_INDEPENDENT_CODE ON)
