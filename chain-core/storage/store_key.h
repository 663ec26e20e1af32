// The store key: 256 bits handed to SQLCipher as a raw key, never its
// built-in PBKDF2-SHA1 derivation. It comes either from a key file (64 hex
// characters) or from a passphrase stretched with Argon2id (Botan) and a
// random salt kept beside the store (the salt is not secret).
//
// Thread-safety: pure functions.
#pragma once

#include "util/status.h"

#include <botan/secmem.h>

#include <string>

namespace fides::storage {

using StoreKey = Botan::secure_vector<std::uint8_t>;

// Reads a key file of 64 hex characters (whitespace around it is ignored);
// a file other users can access is refused (PERMISSION_DENIED).
Result<StoreKey> loadKeyFile(const std::string& path);
// Writes a fresh random key file with mode 0600; refuses to overwrite.
Status createKeyFile(const std::string& path);
// Argon2id(passphrase, salt) with the salt read from `saltPath`. Only when
// `createSalt` (a new store) is a missing salt file created; for an existing
// store a missing salt is DATA_LOSS, never silently replaced.
Result<StoreKey> deriveFromPassphrase(const std::string& passphrase, const std::string& saltPath,
                                      bool createSalt);

}  // namespace fides::storage
