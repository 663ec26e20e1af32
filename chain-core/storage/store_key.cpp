#include "storage/store_key.h"

#include "crypto/random.h"
#include "util/bytes.h"
#include "util/private_file.h"

#include <botan/hex.h>
#include <botan/mem_ops.h>
#include <botan/pwdhash.h>

#include <cctype>

namespace fides::storage {

namespace {
constexpr std::size_t kKeySize = 32;
constexpr std::size_t kSaltSize = 16;
// Argon2id, 64 MiB, 3 passes, 1 lane: about a quarter second on the reference machine.
constexpr std::size_t kArgonMemoryKiB = 64 * 1024;
constexpr std::size_t kArgonIterations = 3;
// The key file holds 64 hex characters, the salt 16 bytes: anything far
// larger is neither, and is not read into memory.
constexpr std::size_t kMaxFileBytes = 4096;
}  // namespace

Result<StoreKey> loadKeyFile(const std::string& path) {
    FIDES_RETURN_IF_ERROR(checkPrivateFile(path, "store key file"));
    FIDES_ASSIGN_OR_RETURN(auto raw, readWholeFile<Botan::secure_vector<std::uint8_t>>(
                                         path, kMaxFileBytes, "cannot read " + path));
    std::size_t b = 0;
    std::size_t e = raw.size();
    while (b < e && std::isspace(raw[b])) ++b;
    while (e > b && std::isspace(raw[e - 1])) --e;
    if (e - b != kKeySize * 2) {
        return Status::invalidArgument("store key file " + path + " must hold 64 hex characters");
    }
    StoreKey key(kKeySize);
    try {
        std::size_t n =
            Botan::hex_decode(key.data(), reinterpret_cast<const char*>(raw.data() + b), e - b, false);
        if (n != kKeySize) return Status::invalidArgument("store key file " + path + " is not valid hex");
    } catch (const std::exception&) {
        return Status::invalidArgument("store key file " + path + " is not valid hex");
    }
    return key;
}

Status createKeyFile(const std::string& path) {
    StoreKey key(kKeySize);
    crypto::randomBytes(key.data(), key.size());
    Botan::secure_vector<char> hex(kKeySize * 2 + 1);
    Botan::hex_encode(hex.data(), key.data(), key.size(), false);
    hex[kKeySize * 2] = '\n';
    return writePrivateFile(path, hex.data(), hex.size());
}

Result<StoreKey> deriveFromPassphrase(const std::string& passphrase, const std::string& saltPath,
                                      bool createSalt) {
    if (passphrase.size() < 12) {
        return Status::invalidArgument("store passphrase must have at least 12 characters");
    }
    Bytes salt;
    auto existing = readWholeFile<Bytes>(saltPath, kMaxFileBytes, "cannot read " + saltPath);
    if (!existing && existing.status().code() == Code::InvalidArgument) {  // larger than any salt
        return Status::dataLoss("salt file " + saltPath + " is damaged");
    }
    if (existing) {
        salt = std::move(*existing);
        if (salt.size() != kSaltSize) return Status::dataLoss("salt file " + saltPath + " is damaged");
    } else if (!createSalt) {
        return Status::dataLoss("salt file " + saltPath +
                                " is missing; without it the store key cannot be derived");
    } else {
        salt.resize(kSaltSize);
        crypto::randomBytes(salt.data(), salt.size());
        FIDES_RETURN_IF_ERROR(writePrivateFile(saltPath, salt.data(), salt.size()));
    }
    try {
        auto family = Botan::PasswordHashFamily::create_or_throw("Argon2id");
        auto pwdhash = family->from_params(kArgonMemoryKiB, kArgonIterations, 1);
        StoreKey key(kKeySize);
        pwdhash->derive_key(key.data(), key.size(), passphrase.data(), passphrase.size(), salt.data(),
                            salt.size());
        return key;
    } catch (const std::exception& e) {
        return Status::internal(std::string("key derivation failed: ") + e.what());
    }
}

}  // namespace fides::storage
