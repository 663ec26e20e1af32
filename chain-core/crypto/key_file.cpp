#include "crypto/key_file.h"

#include "util/private_file.h"

#include <botan/hex.h>
#include <botan/secmem.h>

#include <cctype>
#include <filesystem>

namespace fides::crypto {

namespace {
// A key file holds 64 hex characters and a newline; anything far larger is
// not one, and is not read into memory.
constexpr std::size_t kMaxKeyFileBytes = 4096;
}  // namespace

Result<SecretKey> loadSecretKeyFile(const std::string& path) {
    FIDES_RETURN_IF_ERROR(checkPrivateFile(path, "key file"));
    FIDES_ASSIGN_OR_RETURN(auto buf, readWholeFile<Botan::secure_vector<char>>(
                                         path, kMaxKeyFileBytes, "cannot read key file " + path));
    std::size_t n = buf.size();
    while (n > 0 && std::isspace(static_cast<unsigned char>(buf[n - 1]))) --n;
    auto key = SecretKey::fromHex(std::string_view(buf.data(), n));
    if (!key) return Status::invalidArgument("key file " + path + " does not hold a valid secret key");
    return std::move(*key);
}

Status writeSecretKeyFile(const std::string& path, const SecretKey& key) {
    Botan::secure_vector<char> hex(65);
    Botan::hex_encode(hex.data(), key.secretBytes().data(), key.secretBytes().size(), false);
    hex[64] = '\n';
    return writePrivateFile(path, hex.data(), hex.size());
}

Result<SecretKey> loadOrCreateSecretKeyFile(const std::string& path, bool* created) {
    if (created != nullptr) *created = false;
    if (std::filesystem::exists(path)) return loadSecretKeyFile(path);
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    SecretKey k = SecretKey::generate();
    FIDES_RETURN_IF_ERROR(writeSecretKeyFile(path, k));
    if (created != nullptr) *created = true;
    return k;
}

}  // namespace fides::crypto
