// File capabilities: the security.capability extended attribute of an
// executable, which the kernel applies at exec.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "common/result.h"
#include "common/trace.h"

namespace capaudit::record {

// Decodes a raw vfs_cap_data / vfs_ns_cap_data value (revision 1, 2 or 3;
// little-endian as stored on disk). A malformed value fails.
common::Result<common::FileCaps> decode_file_caps(std::span<const uint8_t> xattr);

// Reads and decodes PATH's security.capability. nullopt: the file has no file
// capabilities; a Failure: it could not be read or decoded (the message names
// the path). Follows symlinks, like exec does; "/proc/PID/exe" works and
// reaches a deleted binary too.
common::Result<std::optional<common::FileCaps>> read_file_caps(const std::string& path);

}  // namespace capaudit::record
