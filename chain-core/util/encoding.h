// Canonical byte encoding (doc/spec/encoding.md): big-endian fixed-width
// integers, fixed-size byte strings written raw, variable byte strings as a
// u32 big-endian length followed by the bytes. Everything that is signed or
// hashed in Fides is written with Writer and read back with Reader; a Reader
// refuses trailing bytes, short input and over-long lengths, so one value has
// exactly one encoding.
//
// Thread-safety: not thread-safe; one instance per thread.
#pragma once

#include "util/bytes.h"
#include "util/status.h"

#include <array>
#include <cstdint>
#include <string>

namespace fides {

class Writer {
public:
    Writer& u8(std::uint8_t v);
    Writer& u16(std::uint16_t v);
    Writer& u32(std::uint32_t v);
    Writer& u64(std::uint64_t v);
    Writer& boolean(bool v) { return u8(v ? 1 : 0); }
    // Fixed-size field: written raw, the reader knows the size.
    Writer& fixed(ByteView bytes);
    // Variable-size field: u32 length prefix then the bytes.
    Writer& var(ByteView bytes);
    // Room for exactly `n` more bytes: once, before writing an encoding of
    // known size (called again and again on a growing writer it would
    // defeat the vector's doubling).
    Writer& reserve(std::size_t n) {
        m_out.reserve(m_out.size() + n);
        return *this;
    }
    Writer& str(const std::string& s) { return var(asBytes(s)); }

    const Bytes& bytes() const& { return m_out; }
    Bytes take() && { return std::move(m_out); }

private:
    Bytes m_out;
};

class Reader {
public:
    explicit Reader(ByteView in, std::size_t maxVarLength = 16u << 20) : m_in(in), m_maxVar(maxVarLength) {}

    Status u8(std::uint8_t& v);
    Status u16(std::uint16_t& v);
    Status u32(std::uint32_t& v);
    Status u64(std::uint64_t& v);
    Status boolean(bool& v);
    template <std::size_t N>
    Status fixed(std::array<std::uint8_t, N>& out) {
        FIDES_RETURN_IF_ERROR(need(N));
        for (std::size_t i = 0; i < N; ++i) out[i] = m_in[m_pos + i];
        m_pos += N;
        return Status::ok();
    }
    Status var(Bytes& out);
    // Reads the leading version byte of an encoding of `what` and refuses
    // any version but `expected`.
    Status version(std::uint8_t expected, const char* what);
    Status str(std::string& out, std::size_t maxLength);
    // OK only if every byte was consumed.
    Status finish() const;
    std::size_t remaining() const { return m_in.size() - m_pos; }

private:
    Status need(std::size_t n) const;
    ByteView m_in;
    std::size_t m_pos = 0;
    std::size_t m_maxVar;
};

}  // namespace fides
