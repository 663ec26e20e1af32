// BIP-340 Schnorr signatures over secp256k1, via libsecp256k1.
//
// Strong types: PublicKey (32-byte x-only key), Signature (64 bytes),
// SecretKey (32 bytes in Botan::secure_vector, wiped on destruction, never
// printed). Messages are 32-byte digests (Hash256): callers hash with a
// domain-separating tagged hash first (crypto/hash.h).
//
// Thread-safety: all functions are thread-safe (the library context is
// created once, randomised, and only read afterwards).
#pragma once

#include "crypto/hash.h"
#include "util/bytes.h"
#include "util/status.h"

#include <botan/secmem.h>

#include <array>
#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace fides::crypto {

class Signature;

class PublicKey {
public:
    static constexpr std::size_t kSize = 32;
    PublicKey() = default;
    // Parses and validates (the x coordinate must be on the curve).
    static std::optional<PublicKey> fromBytes(ByteView b);
    static std::optional<PublicKey> fromHex(std::string_view hex);
    const std::array<std::uint8_t, kSize>& array() const { return m_b; }
    ByteView bytes() const { return {m_b.data(), m_b.size()}; }
    std::string hex() const;
    // Identity is the 32 key bytes; the cached parsed form follows from them.
    std::strong_ordering operator<=>(const PublicKey& o) const { return m_b <=> o.m_b; }
    bool operator==(const PublicKey& o) const { return m_b == o.m_b; }

private:
    friend bool verify(const PublicKey&, const Hash256&, const Signature&);
    std::array<std::uint8_t, kSize> m_b{};
    // libsecp256k1's parsed key (secp256k1_xonly_pubkey), kept from
    // fromBytes so that verify() does not parse the key a second time
    // (about 4 us of a 33 us verification). Absent for a default key.
    std::array<std::uint8_t, 64> m_parsed{};
    bool m_hasParsed = false;
};

class Signature {
public:
    static constexpr std::size_t kSize = 64;
    Signature() = default;
    static std::optional<Signature> fromBytes(ByteView b);  // size check only
    static std::optional<Signature> fromHex(std::string_view hex);
    const std::array<std::uint8_t, kSize>& array() const { return m_b; }
    ByteView bytes() const { return {m_b.data(), m_b.size()}; }
    std::string hex() const;
    auto operator<=>(const Signature&) const = default;

private:
    std::array<std::uint8_t, kSize> m_b{};
};

class SecretKey {
public:
    static constexpr std::size_t kSize = 32;
    // A fresh key from the system RNG (Botan::System_RNG).
    static SecretKey generate();
    // Validates the scalar (non-zero, below the group order).
    static std::optional<SecretKey> fromBytes(ByteView b);
    static std::optional<SecretKey> fromHex(std::string_view hex);

    PublicKey publicKey() const;
    // Secret bytes; the caller must keep them in wiped memory too.
    const Botan::secure_vector<std::uint8_t>& secretBytes() const { return m_b; }

private:
    SecretKey() = default;
    Botan::secure_vector<std::uint8_t> m_b;
};

// Signs a 32-byte message. auxRand per BIP-340: 32 bytes of fresh randomness
// when omitted; tests pass the vector's value. The signature is verified
// before it is returned; signing cannot fail for a valid SecretKey, so a
// failure (a moved-from key, a hardware fault) aborts the process rather than
// returning a bad signature.
[[nodiscard]] Signature sign(const SecretKey& key, const Hash256& message);
[[nodiscard]] Signature sign(const SecretKey& key, const Hash256& message,
                             const std::array<std::uint8_t, 32>& auxRand);
// True only for a valid signature of `message` under `key`.
[[nodiscard]] bool verify(const PublicKey& key, const Hash256& message, const Signature& sig);

// Variable-length message form used by the BIP-340 vectors (libsecp256k1
// signs arbitrary-length messages with schnorrsig_sign_custom).
[[nodiscard]] bool verifyRaw(ByteView publicKey32, ByteView message, ByteView signature64);
// Signs an arbitrary-length message exactly as BIP-340 specifies (no hashing
// by Fides). Only for the BIP-340 vectors; production code signs a Hash256.
[[nodiscard]] Signature signRaw(const SecretKey& key, ByteView message,
                                const std::array<std::uint8_t, 32>& auxRand);

}  // namespace fides::crypto
