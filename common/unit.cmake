# capaudit_unit: the systemd unit parser, now part of capaudit_common; the
# name stays so the targets that link it need no change.
add_library(capaudit_unit INTERFACE)
target_link_libraries(capaudit_unit INTERFACE capaudit_common)
