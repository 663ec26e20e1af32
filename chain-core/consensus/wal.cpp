#include "consensus/wal.h"

#include "crypto/hash.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace fides::consensus {

namespace fs = std::filesystem;

namespace {
constexpr std::size_t kHeaderBytes = 4 + 8;

std::string errnoText() { return std::strerror(errno); }

Result<Bytes> readAll(int fd) {
    Bytes out;
    std::uint8_t buf[1 << 16];
    if (::lseek(fd, 0, SEEK_SET) < 0) return Status::unavailable("cannot seek in the WAL: " + errnoText());
    while (true) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) return Status::unavailable("cannot read the WAL: " + errnoText());
        if (n == 0) break;
        out.insert(out.end(), buf, buf + n);
    }
    return out;
}

struct Scan {
    std::vector<WalRecord> records;
    std::uint64_t goodEnd = 0;   // end of the last good record
    bool tornTail = false;       // bad bytes only at the end
    bool corruptMiddle = false;  // a bad record followed by more data
    std::uint64_t badOffset = 0;
    std::size_t badIndex = 0;
};

std::uint32_t lengthAt(const Bytes& data, std::uint64_t o) {
    return (std::uint32_t{data[o]} << 24) | (std::uint32_t{data[o + 1]} << 16) |
           (std::uint32_t{data[o + 2]} << 8) | std::uint32_t{data[o + 3]};
}

bool validRecordAt(const Bytes& data, std::uint64_t o) {
    if (data.size() - o < kHeaderBytes) return false;
    const std::uint32_t len = lengthAt(data, o);
    if (len == 0 || len > Wal::kMaxRecordBytes || o + kHeaderBytes + len > data.size()) return false;
    const crypto::Hash256 sum = crypto::sha256(ByteView(data.data() + o + kHeaderBytes, len));
    return std::memcmp(sum.data(), data.data() + o + 4, 8) == 0;
}

// A damaged region is a torn tail only if no valid record starts after it:
// a torn write leaves garbage at the end, never good records behind it.
bool validRecordAfter(const Bytes& data, std::uint64_t from) {
    for (std::uint64_t o = from + 1; o + kHeaderBytes <= data.size(); ++o) {
        if (validRecordAt(data, o)) return true;
    }
    return false;
}

Scan scan(const Bytes& data) {
    Scan s;
    std::uint64_t o = 0;
    const std::uint64_t size = data.size();
    while (o < size) {
        if (!validRecordAt(data, o)) {
            if (validRecordAfter(data, o))
                s.corruptMiddle = true;
            else
                s.tornTail = true;
            s.badOffset = o;
            s.badIndex = s.records.size();
            break;
        }
        const std::uint64_t end = o + kHeaderBytes + lengthAt(data, o);
        WalRecord r;
        r.kind = static_cast<WalKind>(data[o + kHeaderBytes]);
        r.body.assign(data.begin() + static_cast<std::ptrdiff_t>(o + kHeaderBytes + 1),
                      data.begin() + static_cast<std::ptrdiff_t>(end));
        s.records.push_back(std::move(r));
        o = end;
        s.goodEnd = o;
    }
    return s;
}

Status truncateTo(int fd, std::uint64_t size) {
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0 || ::fsync(fd) != 0) {
        return Status::unavailable("cannot truncate the WAL: " + errnoText());
    }
    return Status::ok();
}
}  // namespace

std::string Wal::pathFor(const std::string& dir, std::uint64_t height) {
    return (fs::path(dir) / ("wal-" + std::to_string(height) + ".log")).string();
}

Result<std::unique_ptr<Wal>> Wal::open(const std::string& dir, std::uint64_t height, WalOpenReport* report) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Status::unavailable("cannot create WAL folder " + dir + ": " + ec.message());
    const std::string path = pathFor(dir, height);
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return Status::unavailable("cannot open " + path + ": " + errnoText());
    std::unique_ptr<Wal> wal(new Wal(fd, height, path));
    FIDES_ASSIGN_OR_RETURN(Bytes data, readAll(fd));
    Scan s = scan(data);
    if (s.corruptMiddle) {
        return Status::dataLoss(
            "consensus WAL " + path + " is damaged at byte " + std::to_string(s.badOffset) + " (record " +
            std::to_string(s.badIndex) +
            ") and valid records follow, so this is not a torn write. Keep a copy of the "
            "file; `fides-node wal-repair --home DIR` cuts the log there, after which the "
            "validator may have forgotten messages it signed in this height: only run it "
            "if the other validators have moved past height " +
            std::to_string(height));
    }
    WalOpenReport r;
    if (s.tornTail) {
        r.droppedTailBytes = data.size() - s.goodEnd;
        FIDES_RETURN_IF_ERROR(truncateTo(fd, s.goodEnd));
    }
    if (::lseek(fd, 0, SEEK_END) < 0)
        return Status::unavailable("cannot seek in " + path + ": " + errnoText());
    r.records = std::move(s.records);
    if (report != nullptr) *report = std::move(r);
    return wal;
}

Result<std::uint64_t> Wal::repair(const std::string& dir, std::uint64_t height) {
    const std::string path = pathFor(dir, height);
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return Status::notFound("no WAL at " + path);
    auto data = readAll(fd);
    if (!data) {
        ::close(fd);
        return data.status();
    }
    Scan s = scan(*data);
    std::uint64_t removed = data->size() - s.goodEnd;
    Status st = removed > 0 ? truncateTo(fd, s.goodEnd) : Status::ok();
    ::close(fd);
    if (!st) return st;
    return removed;
}

std::vector<std::uint64_t> Wal::heights(const std::string& dir) {
    std::vector<std::uint64_t> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind("wal-", 0) != 0 || name.size() < 9 || name.substr(name.size() - 4) != ".log") continue;
        const std::string number = name.substr(4, name.size() - 8);
        if (number.empty() || number.find_first_not_of("0123456789") != std::string::npos) continue;
        out.push_back(std::stoull(number));
    }
    return out;
}

Status Wal::pruneBelow(const std::string& dir, std::uint64_t height) {
    for (std::uint64_t h : heights(dir)) {
        if (h >= height) continue;
        std::error_code ec;
        fs::remove(pathFor(dir, h), ec);
    }
    return Status::ok();
}

Wal::~Wal() {
    if (m_fd >= 0) ::close(m_fd);
}

Status Wal::append(WalKind kind, ByteView body) {
    const std::size_t len = body.size() + 1;
    if (len > kMaxRecordBytes) return Status::invalidArgument("WAL record too large");
    Bytes rec(kHeaderBytes + len);
    rec[0] = static_cast<std::uint8_t>(len >> 24);
    rec[1] = static_cast<std::uint8_t>(len >> 16);
    rec[2] = static_cast<std::uint8_t>(len >> 8);
    rec[3] = static_cast<std::uint8_t>(len);
    rec[kHeaderBytes] = static_cast<std::uint8_t>(kind);
    std::memcpy(rec.data() + kHeaderBytes + 1, body.data(), body.size());
    const crypto::Hash256 sum = crypto::sha256(ByteView(rec.data() + kHeaderBytes, len));
    std::memcpy(rec.data() + 4, sum.data(), 8);
    std::size_t done = 0;
    while (done < rec.size()) {
        const ssize_t n = ::write(m_fd, rec.data() + done, rec.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return Status::unavailable("cannot write " + m_path + ": " + errnoText());
        }
        done += static_cast<std::size_t>(n);
    }
    return Status::ok();
}

Status Wal::sync() {
    if (::fdatasync(m_fd) != 0) return Status::unavailable("cannot sync " + m_path + ": " + errnoText());
    return Status::ok();
}

}  // namespace fides::consensus
