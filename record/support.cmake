# capaudit_record_support: the recorder's user-space pieces that need no BPF
# (privileges, launching the command, system context, /proc and file-cap
# reading). Included by record/CMakeLists.txt; linked by capaudit_record_core
# and the record tests.
find_package(PkgConfig REQUIRED)
if(NOT TARGET PkgConfig::CAPNG)
  pkg_check_modules(CAPNG REQUIRED IMPORTED_TARGET libcap-ng)
endif()
add_library(capaudit_record_support STATIC
  ${CMAKE_CURRENT_LIST_DIR}/privileges.cpp
  ${CMAKE_CURRENT_LIST_DIR}/launch.cpp
  ${CMAKE_CURRENT_LIST_DIR}/filecaps.cpp
  ${CMAKE_CURRENT_LIST_DIR}/proc_scan.cpp
  ${CMAKE_CURRENT_LIST_DIR}/context.cpp
  ${CMAKE_CURRENT_LIST_DIR}/container.cpp
)
target_include_directories(capaudit_record_support PUBLIC ${PROJECT_SOURCE_DIR})
find_package(Threads REQUIRED)
target_link_libraries(capaudit_record_support PUBLIC capaudit_common PRIVATE PkgConfig::CAPNG Threads::Threads)
