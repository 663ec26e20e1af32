// SHA-256 and BIP-340 tagged hashes, with a strong type for 32-byte digests.
//
// Hash256 is a digest and only a digest: keys and signatures have their own
// types (crypto/schnorr.h), so one cannot be passed where another is meant.
// Thread-safety: free functions are thread-safe; a Sha256 instance is not.
#pragma once

#include "util/bytes.h"

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>
#include <absl/hash/hash.h>

#include <array>
#include <compare>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace fides::crypto {

class Hash256 {
public:
    static constexpr std::size_t kSize = 32;
    Hash256() = default;  // all zero
    explicit Hash256(const std::array<std::uint8_t, kSize>& b) : m_b(b) {}
    static std::optional<Hash256> fromBytes(ByteView b);
    static std::optional<Hash256> fromHex(std::string_view hex);

    const std::array<std::uint8_t, kSize>& array() const { return m_b; }
    ByteView bytes() const { return {m_b.data(), m_b.size()}; }
    const std::uint8_t* data() const { return m_b.data(); }
    std::string hex() const;
    bool isZero() const;
    // Bit i, most significant bit of byte 0 first (used by the state tree).
    bool bit(std::size_t i) const { return (m_b[i / 8] >> (7 - (i % 8))) & 1; }

    auto operator<=>(const Hash256&) const = default;

private:
    std::array<std::uint8_t, kSize> m_b{};
};

// Eight bytes of the digest, mixed by absl::Hash with a seed that differs
// between processes: digests of attacker-chosen data are uniform, but one
// who grinds them for a few equal bits must not know which bits a table
// probes by.
struct Hash256Hasher {
    std::size_t operator()(const Hash256& h) const noexcept {
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i) v = (v << 8) | h.array()[i];
        return absl::Hash<std::uint64_t>{}(v);
    }
};

// Hash tables keyed by digests: open addressing (Abseil's Swiss tables), so a
// lookup touches one or two cache lines instead of a chain of nodes. Values
// move when the table grows: hold no pointers into one across an insert.
template <class V>
using Hash256Map = absl::flat_hash_map<Hash256, V, Hash256Hasher>;
using Hash256Set = absl::flat_hash_set<Hash256, Hash256Hasher>;

Hash256 sha256(ByteView data);
// BIP-340 tagged hash: SHA256(SHA256(tag) || SHA256(tag) || data).
Hash256 taggedHash(std::string_view tag, ByteView data);

// Incremental SHA-256 (wraps Botan). Reusing one instance avoids allocation
// on hot paths (Merkle trees, the state tree).
class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    Sha256& update(ByteView data);
    Sha256& update(std::uint8_t byte);
    Sha256& update(const Hash256& h) { return update(h.bytes()); }
    Hash256 finish();  // resets the instance for reuse

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace fides::crypto
