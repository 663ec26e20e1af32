// Secret key files: 64 hex characters and a newline, mode 0600, written
// once (never overwritten); a key file that other users can read is refused
// (PERMISSION_DENIED), as ssh does. Used for validator and client keys.
// Thread-safety: pure functions.
#pragma once

#include "crypto/schnorr.h"
#include "util/status.h"

#include <string>

namespace fides::crypto {

Result<SecretKey> loadSecretKeyFile(const std::string& path);
Status writeSecretKeyFile(const std::string& path, const SecretKey& key);
// Loads `path`, or creates it with a fresh key if it does not exist.
Result<SecretKey> loadOrCreateSecretKeyFile(const std::string& path, bool* created = nullptr);

}  // namespace fides::crypto
