#include "util/private_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fides {

Status checkPrivateFile(const std::string& path, std::string_view what) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 0077) != 0) {
        return Status::permissionDenied(std::string(what) + " " + path +
                                        " is accessible by other users; run: chmod 600 " + path);
    }
    return Status::ok();
}

Status readFileInto(const std::string& path, std::size_t maxBytes, const std::string& unreadable,
                    const std::function<char*(std::size_t)>& resize) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::notFound(unreadable);
    struct stat st {};
    bool ok = ::fstat(fd, &st) == 0 && st.st_size >= 0;
    if (ok && static_cast<std::size_t>(st.st_size) > maxBytes) {
        ::close(fd);
        return Status::invalidArgument(unreadable + ": larger than " + std::to_string(maxBytes) + " bytes");
    }
    if (ok) {
        const auto size = static_cast<std::size_t>(st.st_size);
        char* data = resize(size);
        std::size_t done = 0;
        while (ok && done < size) {
            const ssize_t n = ::read(fd, data + done, size - done);
            if (n < 0 && errno == EINTR) continue;
            ok = n > 0;
            if (ok) done += static_cast<std::size_t>(n);
        }
    }
    ::close(fd);
    return ok ? Status::ok() : Status::notFound(unreadable);
}

Status writePrivateFile(const std::string& path, const void* data, std::size_t len) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST) return Status::alreadyExists("refusing to overwrite " + path);
    if (fd < 0) return Status::unavailable("cannot create " + path + ": " + std::strerror(errno));
    const bool ok = ::write(fd, data, len) == static_cast<ssize_t>(len) && ::fsync(fd) == 0;
    ::close(fd);
    return ok ? Status::ok() : Status::internal("cannot write " + path);
}

}  // namespace fides
