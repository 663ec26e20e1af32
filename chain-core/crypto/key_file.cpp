#include "crypto/key_file.h"

#include "util/private_file.h"

#include <botan/hex.h>

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace fides::crypto {

Result<SecretKey> loadSecretKeyFile(const std::string& path) {
    FIDES_RETURN_IF_ERROR(checkPrivateFile(path, "key file"));
    std::ifstream in(path);
    if (!in) return Status::notFound("cannot read key file " + path);
    Botan::secure_vector<char> buf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::size_t n = buf.size();
    while (n > 0 && std::isspace(static_cast<unsigned char>(buf[n - 1]))) --n;
    auto key = SecretKey::fromHex(std::string_view(buf.data(), n));
    if (!key) return Status::invalidArgument("key file " + path + " does not hold a valid secret key");
    return std::move(*key);
}

Status writeSecretKeyFile(const std::string& path, const SecretKey& key) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) return Status::alreadyExists("refusing to overwrite " + path);
    if (fd < 0) return Status::unavailable("cannot create " + path + ": " + std::strerror(errno));
    Botan::secure_vector<char> hex(65);
    Botan::hex_encode(hex.data(), key.secretBytes().data(), key.secretBytes().size(), false);
    hex[64] = '\n';
    bool ok = ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size()) && ::fsync(fd) == 0;
    ::close(fd);
    return ok ? Status::ok() : Status::internal("cannot write " + path);
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
