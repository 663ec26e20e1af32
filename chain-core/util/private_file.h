// Files that hold secrets (validator, client and store keys, the node's TLS
// key): refused when other users may access them, as ssh does; read straight
// into a buffer the caller picks (no stream buffer keeps a copy) and created
// with mode 0600, never over an existing file.
// Thread-safety: pure functions.
#pragma once

#include "util/status.h"

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace fides {

// PERMISSION_DENIED ("<what> <path> is accessible by other users; run: chmod
// 600 <path>") if the file exists and its mode grants any access to group or
// others; OK otherwise (a missing file is left to whoever reads it).
Status checkPrivateFile(const std::string& path, std::string_view what);

// Reads the whole file at `path` (at most `maxBytes`) with read(2) into the
// memory `resize(n)` returns after making room for n bytes. NOT_FOUND
// `unreadable` if it cannot be opened or read; INVALID_ARGUMENT
// "<unreadable>: larger than <maxBytes> bytes" if it is larger.
Status readFileInto(const std::string& path, std::size_t maxBytes, const std::string& unreadable,
                    const std::function<char*(std::size_t)>& resize);

// The whole file at `path` in a `Buffer` of bytes or chars (for secrets a
// Botan::secure_vector, so that the only copy is wiped on release).
template <class Buffer>
Result<Buffer> readWholeFile(const std::string& path, std::size_t maxBytes, const std::string& unreadable) {
    Buffer out;
    FIDES_RETURN_IF_ERROR(readFileInto(path, maxBytes, unreadable, [&out](std::size_t n) {
        out.resize(n);
        return reinterpret_cast<char*>(out.data());
    }));
    return out;
}

// Creates `path` with mode 0600 and writes `len` bytes, fsynced.
// ALREADY_EXISTS ("refusing to overwrite <path>") if it exists, UNAVAILABLE
// if it cannot be created, INTERNAL if the write fails.
Status writePrivateFile(const std::string& path, const void* data, std::size_t len);

}  // namespace fides
