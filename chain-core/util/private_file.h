// Files that hold secrets (validator, client and store keys, the node's TLS
// key): refused when other users may access them, as ssh does.
// Thread-safety: pure functions.
#pragma once

#include "util/status.h"

#include <string>
#include <string_view>

namespace fides {

// PERMISSION_DENIED ("<what> <path> is accessible by other users; run: chmod
// 600 <path>") if the file exists and its mode grants any access to group or
// others; OK otherwise (a missing file is left to whoever reads it).
Status checkPrivateFile(const std::string& path, std::string_view what);

}  // namespace fides
