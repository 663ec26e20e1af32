#include "util/encoding.h"

#include <array>

namespace fides {

Writer& Writer::u8(std::uint8_t v) {
    m_out.push_back(v);
    return *this;
}
namespace {
// Big-endian, appended with one capacity check rather than one per byte.
template <class T>
void appendBigEndian(Bytes& out, T v) {
    std::array<std::uint8_t, sizeof(T)> b{};
    for (std::size_t i = 0; i < sizeof(T); ++i)
        b[i] = static_cast<std::uint8_t>(v >> (8 * (sizeof(T) - 1 - i)));
    out.insert(out.end(), b.begin(), b.end());
}
}  // namespace

Writer& Writer::u16(std::uint16_t v) {
    appendBigEndian(m_out, v);
    return *this;
}
Writer& Writer::u32(std::uint32_t v) {
    appendBigEndian(m_out, v);
    return *this;
}
Writer& Writer::u64(std::uint64_t v) {
    appendBigEndian(m_out, v);
    return *this;
}
Writer& Writer::fixed(ByteView bytes) {
    m_out.insert(m_out.end(), bytes.begin(), bytes.end());
    return *this;
}
Writer& Writer::var(ByteView bytes) {
    u32(static_cast<std::uint32_t>(bytes.size()));
    return fixed(bytes);
}

Status Reader::need(std::size_t n) const {
    if (m_in.size() - m_pos < n) {
        return Status::invalidArgument("truncated encoding: need " + std::to_string(n) + " bytes at offset " +
                                       std::to_string(m_pos) + ", have " +
                                       std::to_string(m_in.size() - m_pos));
    }
    return Status::ok();
}

Status Reader::u8(std::uint8_t& v) {
    FIDES_RETURN_IF_ERROR(need(1));
    v = m_in[m_pos++];
    return Status::ok();
}
Status Reader::u16(std::uint16_t& v) {
    FIDES_RETURN_IF_ERROR(need(2));
    v = static_cast<std::uint16_t>((m_in[m_pos] << 8) | m_in[m_pos + 1]);
    m_pos += 2;
    return Status::ok();
}
Status Reader::u32(std::uint32_t& v) {
    FIDES_RETURN_IF_ERROR(need(4));
    v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | m_in[m_pos + i];
    m_pos += 4;
    return Status::ok();
}
Status Reader::u64(std::uint64_t& v) {
    FIDES_RETURN_IF_ERROR(need(8));
    v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | m_in[m_pos + i];
    m_pos += 8;
    return Status::ok();
}
Status Reader::boolean(bool& v) {
    std::uint8_t b = 0;
    FIDES_RETURN_IF_ERROR(u8(b));
    if (b > 1) return Status::invalidArgument("boolean byte must be 0 or 1");
    v = b == 1;
    return Status::ok();
}
Status Reader::version(std::uint8_t expected, const char* what) {
    std::uint8_t v = 0;
    FIDES_RETURN_IF_ERROR(u8(v));
    if (v != expected) {
        return Status::invalidArgument(std::string("unsupported ") + what + " version " + std::to_string(v));
    }
    return Status::ok();
}

Status Reader::var(Bytes& out) {
    std::uint32_t len = 0;
    FIDES_RETURN_IF_ERROR(u32(len));
    if (len > m_maxVar) {
        return Status::invalidArgument("field length " + std::to_string(len) + " exceeds limit " +
                                       std::to_string(m_maxVar));
    }
    FIDES_RETURN_IF_ERROR(need(len));
    out.assign(m_in.begin() + static_cast<std::ptrdiff_t>(m_pos),
               m_in.begin() + static_cast<std::ptrdiff_t>(m_pos + len));
    m_pos += len;
    return Status::ok();
}
Status Reader::str(std::string& out, std::size_t maxLength) {
    Bytes b;
    FIDES_RETURN_IF_ERROR(var(b));
    if (b.size() > maxLength) {
        return Status::invalidArgument("string longer than " + std::to_string(maxLength) + " bytes");
    }
    out.assign(b.begin(), b.end());
    return Status::ok();
}
Status Reader::finish() const {
    if (m_pos != m_in.size()) {
        return Status::invalidArgument(std::to_string(m_in.size() - m_pos) +
                                       " trailing bytes after encoding");
    }
    return Status::ok();
}

}  // namespace fides
