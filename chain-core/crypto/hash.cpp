// SHA-256 and BIP-340 tagged hashes over Botan's "SHA-256".
//
// sha256() and taggedHash() reuse one Botan hash object per thread, so the
// hot paths do not allocate. Botan only throws here if SHA-256 is missing
// from the build, which leaves nothing sensible to return: that aborts.
#include "crypto/hash.h"

#include <botan/hash.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

namespace fides::crypto {

namespace {

[[noreturn]] void hashFatal(const char* what) noexcept {
    std::fprintf(stderr, "fides: fatal SHA-256 error: %s\n", what);
    std::abort();
}

std::unique_ptr<Botan::HashFunction> makeSha256() noexcept {
    try {
        return Botan::HashFunction::create_or_throw("SHA-256");
    } catch (const std::exception& e) {
        hashFatal(e.what());
    }
}

// One hash object per thread; final() resets it for the next use.
Botan::HashFunction& threadHash() noexcept {
    thread_local std::unique_ptr<Botan::HashFunction> h = makeSha256();
    return *h;
}

Hash256 finalInto(Botan::HashFunction& h) {
    std::array<std::uint8_t, Hash256::kSize> out{};
    h.final(out.data());
    return Hash256(out);
}

// SHA256(tag), cached for the last tag used on this thread (callers tend to
// hash many items under the same tag in a row).
Hash256 tagDigest(std::string_view tag) {
    thread_local std::string lastTag;
    thread_local Hash256 lastDigest;
    thread_local bool valid = false;
    if (valid && tag == lastTag) return lastDigest;
    Botan::HashFunction& h = threadHash();
    h.update(reinterpret_cast<const std::uint8_t*>(tag.data()), tag.size());
    lastDigest = finalInto(h);
    lastTag.assign(tag);
    valid = true;
    return lastDigest;
}

}  // namespace

std::optional<Hash256> Hash256::fromBytes(ByteView b) {
    if (b.size() != kSize) return std::nullopt;
    std::array<std::uint8_t, kSize> a{};
    std::copy(b.begin(), b.end(), a.begin());
    return Hash256(a);
}

std::optional<Hash256> Hash256::fromHex(std::string_view hex) {
    auto bytes = fides::fromHex(hex);
    if (!bytes) return std::nullopt;
    return fromBytes(*bytes);
}

std::string Hash256::hex() const { return toHex(bytes()); }

bool Hash256::isZero() const {
    for (std::uint8_t b : m_b) {
        if (b != 0) return false;
    }
    return true;
}

Hash256 sha256(ByteView data) {
    try {
        Botan::HashFunction& h = threadHash();
        h.update(data.data(), data.size());
        return finalInto(h);
    } catch (const std::exception& e) {
        hashFatal(e.what());
    }
}

Hash256 taggedHash(std::string_view tag, ByteView data) {
    try {
        const Hash256 t = tagDigest(tag);
        Botan::HashFunction& h = threadHash();
        h.update(t.data(), Hash256::kSize);
        h.update(t.data(), Hash256::kSize);
        h.update(data.data(), data.size());
        return finalInto(h);
    } catch (const std::exception& e) {
        hashFatal(e.what());
    }
}

struct Sha256::Impl {
    std::unique_ptr<Botan::HashFunction> hash = makeSha256();
};

Sha256::Sha256() : m_impl(std::make_unique<Impl>()) {}
Sha256::~Sha256() = default;

Sha256& Sha256::update(ByteView data) {
    m_impl->hash->update(data.data(), data.size());
    return *this;
}

Sha256& Sha256::update(std::uint8_t byte) {
    m_impl->hash->update(byte);
    return *this;
}

Hash256 Sha256::finish() { return finalInto(*m_impl->hash); }

}  // namespace fides::crypto
