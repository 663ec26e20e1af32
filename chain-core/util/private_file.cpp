#include "util/private_file.h"

#include <sys/stat.h>

namespace fides {

Status checkPrivateFile(const std::string& path, std::string_view what) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 0077) != 0) {
        return Status::permissionDenied(std::string(what) + " " + path +
                                        " is accessible by other users; run: chmod 600 " + path);
    }
    return Status::ok();
}

}  // namespace fides
