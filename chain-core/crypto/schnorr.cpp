// BIP-340 Schnorr signatures via libsecp256k1 0.2.
//
// One library context is created on first use (function-local static, so the
// initialisation is thread-safe), randomised with 32 bytes from the system
// RNG, and only passed as const afterwards, which libsecp256k1 documents as
// safe to share between threads.
//
// Secret material: the key lives in Botan::secure_vector; every stack copy
// (the secp256k1_keypair, which embeds the secret scalar, decoded hex, the
// randomisation seed) is wiped with Botan::secure_scrub_memory on every path.
#include "crypto/schnorr.h"

#include "crypto/random.h"

#include <botan/mem_ops.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace fides::crypto {

namespace {

[[noreturn]] void schnorrFatal(const char* what) noexcept {
    std::fprintf(stderr, "fides: fatal signing error: %s\n", what);
    std::abort();
}

const secp256k1_context* context() {
    static const secp256k1_context* const ctx = [] {
        secp256k1_context* c = secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
        if (c == nullptr) schnorrFatal("secp256k1_context_create failed");
        std::array<std::uint8_t, 32> seed = randomArray<32>();
        const int ok = secp256k1_context_randomize(c, seed.data());
        Botan::secure_scrub_memory(seed.data(), seed.size());
        if (!ok) schnorrFatal("secp256k1_context_randomize failed");
        return c;
    }();
    return ctx;
}

// A keypair (which holds the secret scalar) that wipes itself.
struct ScrubbedKeypair {
    secp256k1_keypair kp{};
    ScrubbedKeypair() = default;
    ~ScrubbedKeypair() { Botan::secure_scrub_memory(&kp, sizeof kp); }
    ScrubbedKeypair(const ScrubbedKeypair&) = delete;
    ScrubbedKeypair& operator=(const ScrubbedKeypair&) = delete;
};

void loadKeypair(const SecretKey& key, ScrubbedKeypair& out) {
    const auto& sk = key.secretBytes();
    if (sk.size() != SecretKey::kSize) schnorrFatal("secret key is empty (moved-from?)");
    if (!secp256k1_keypair_create(context(), &out.kp, sk.data())) {
        schnorrFatal("secp256k1_keypair_create rejected a validated key");
    }
}

// Parsing an x-only key costs a field square root (a few microseconds, an
// eighth of a verification). The same keys sign again and again (an
// agency's gateway, a validator), so successfully parsed keys are kept in a
// direct-mapped cache: 4,096 slots chosen by the key's first bytes, guarded
// by 64 striped mutexes. The parsed form is a pure function of the 32 bytes,
// and only keys that parsed are stored, so a hit is exactly what parsing
// would return; colliding keys only evict each other (speed, not results).
class ParsedKeyCache {
public:
    bool find(const std::uint8_t* key, secp256k1_xonly_pubkey& out) {
        const std::size_t i = slot(key);
        std::lock_guard lock(m_stripes[i % kStripes]);
        const Entry& e = m_slots[i];
        if (!e.used || std::memcmp(e.key.data(), key, 32) != 0) return false;
        std::memcpy(out.data, e.parsed.data(), sizeof(out.data));
        return true;
    }
    void store(const std::uint8_t* key, const secp256k1_xonly_pubkey& parsed) {
        const std::size_t i = slot(key);
        std::lock_guard lock(m_stripes[i % kStripes]);
        Entry& e = m_slots[i];
        std::memcpy(e.key.data(), key, 32);
        std::memcpy(e.parsed.data(), parsed.data, sizeof(parsed.data));
        e.used = true;
    }

private:
    static constexpr std::size_t kSlots = 4096;
    static constexpr std::size_t kStripes = 64;
    struct Entry {
        std::array<std::uint8_t, 32> key{};
        std::array<std::uint8_t, 64> parsed{};
        bool used = false;
    };
    static std::size_t slot(const std::uint8_t* key) {
        return (static_cast<std::size_t>(key[0]) << 8 | key[1]) % kSlots;
    }
    std::array<std::mutex, kStripes> m_stripes;
    std::array<Entry, kSlots> m_slots{};
};

ParsedKeyCache& parsedKeys() {
    static ParsedKeyCache cache;
    return cache;
}

bool parseXonly(const std::uint8_t* bytes32, secp256k1_xonly_pubkey& out) {
    static_assert(sizeof(out.data) == 64);
    if (parsedKeys().find(bytes32, out)) return true;
    if (secp256k1_xonly_pubkey_parse(context(), &out, bytes32) != 1) return false;
    parsedKeys().store(bytes32, out);
    return true;
}

int hexNibble(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Signs with the keypair, then checks the signature before releasing it
// (BIP-340 recommends this as a defence against faults in signing).
Signature signWith(const SecretKey& key, const std::uint8_t* msg, std::size_t msgLen,
                   const std::array<std::uint8_t, 32>& auxRand, bool use32) {
    ScrubbedKeypair kp;
    loadKeypair(key, kp);
    std::array<std::uint8_t, Signature::kSize> sig{};
    std::array<std::uint8_t, 32> aux = auxRand;
    int ok = 0;
    if (use32) {
        ok = secp256k1_schnorrsig_sign32(context(), sig.data(), msg, &kp.kp, aux.data());
    } else {
        secp256k1_schnorrsig_extraparams params = SECP256K1_SCHNORRSIG_EXTRAPARAMS_INIT;
        params.ndata = aux.data();
        ok = secp256k1_schnorrsig_sign_custom(context(), sig.data(), msg, msgLen, &kp.kp, &params);
    }
    Botan::secure_scrub_memory(aux.data(), aux.size());
    if (!ok) schnorrFatal("secp256k1_schnorrsig_sign failed");

    secp256k1_xonly_pubkey pub;
    if (!secp256k1_keypair_xonly_pub(context(), &pub, nullptr, &kp.kp)) {
        schnorrFatal("secp256k1_keypair_xonly_pub failed");
    }
    if (!secp256k1_schnorrsig_verify(context(), sig.data(), msg, msgLen, &pub)) {
        schnorrFatal("freshly made signature does not verify");
    }
    auto out = Signature::fromBytes({sig.data(), sig.size()});
    return *out;
}

}  // namespace

// ---- PublicKey ----

std::optional<PublicKey> PublicKey::fromBytes(ByteView b) {
    if (b.size() != kSize) return std::nullopt;
    secp256k1_xonly_pubkey parsed;
    if (!parseXonly(b.data(), parsed)) return std::nullopt;
    PublicKey pk;
    std::copy(b.begin(), b.end(), pk.m_b.begin());
    static_assert(sizeof(parsed.data) == sizeof(pk.m_parsed));
    std::memcpy(pk.m_parsed.data(), parsed.data, sizeof(parsed.data));
    pk.m_hasParsed = true;
    return pk;
}

std::optional<PublicKey> PublicKey::fromHex(std::string_view hex) {
    auto bytes = fides::fromHex(hex);
    if (!bytes) return std::nullopt;
    return fromBytes(*bytes);
}

std::string PublicKey::hex() const { return toHex(bytes()); }

// ---- Signature ----

std::optional<Signature> Signature::fromBytes(ByteView b) {
    if (b.size() != kSize) return std::nullopt;
    Signature s;
    std::copy(b.begin(), b.end(), s.m_b.begin());
    return s;
}

std::optional<Signature> Signature::fromHex(std::string_view hex) {
    auto bytes = fides::fromHex(hex);
    if (!bytes) return std::nullopt;
    return fromBytes(*bytes);
}

std::string Signature::hex() const { return toHex(bytes()); }

// ---- SecretKey ----

SecretKey SecretKey::generate() {
    SecretKey k;
    k.m_b.resize(kSize);
    // A uniformly random 32-byte string is a valid scalar with overwhelming
    // probability; retry on the (~2^-128) chance it is not.
    do {
        randomBytes(k.m_b.data(), k.m_b.size());
    } while (!secp256k1_ec_seckey_verify(context(), k.m_b.data()));
    return k;
}

std::optional<SecretKey> SecretKey::fromBytes(ByteView b) {
    if (b.size() != kSize) return std::nullopt;
    if (!secp256k1_ec_seckey_verify(context(), b.data())) return std::nullopt;
    SecretKey k;
    k.m_b.assign(b.begin(), b.end());
    return k;
}

std::optional<SecretKey> SecretKey::fromHex(std::string_view hex) {
    if (hex.size() != 2 * kSize) return std::nullopt;
    // Decode straight into wiped memory rather than through fides::fromHex.
    Botan::secure_vector<std::uint8_t> raw(kSize);
    for (std::size_t i = 0; i < kSize; ++i) {
        const int hi = hexNibble(hex[2 * i]);
        const int lo = hexNibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        raw[i] = static_cast<std::uint8_t>((hi << 4) | lo);
    }
    return fromBytes({raw.data(), raw.size()});
}

PublicKey SecretKey::publicKey() const {
    ScrubbedKeypair kp;
    loadKeypair(*this, kp);
    secp256k1_xonly_pubkey pub;
    if (!secp256k1_keypair_xonly_pub(context(), &pub, nullptr, &kp.kp)) {
        schnorrFatal("secp256k1_keypair_xonly_pub failed");
    }
    std::array<std::uint8_t, PublicKey::kSize> out{};
    if (!secp256k1_xonly_pubkey_serialize(context(), out.data(), &pub)) {
        schnorrFatal("secp256k1_xonly_pubkey_serialize failed");
    }
    auto pk = PublicKey::fromBytes({out.data(), out.size()});
    if (!pk) schnorrFatal("derived public key does not parse");
    return *pk;
}

// ---- sign / verify ----

Signature sign(const SecretKey& key, const Hash256& message) { return sign(key, message, randomArray<32>()); }

Signature sign(const SecretKey& key, const Hash256& message, const std::array<std::uint8_t, 32>& auxRand) {
    return signWith(key, message.data(), Hash256::kSize, auxRand, /*use32=*/true);
}

Signature signRaw(const SecretKey& key, ByteView message, const std::array<std::uint8_t, 32>& auxRand) {
    return signWith(key, message.data(), message.size(), auxRand, /*use32=*/false);
}

bool verify(const PublicKey& key, const Hash256& message, const Signature& sig) {
    secp256k1_xonly_pubkey pub;
    if (key.m_hasParsed) {
        std::memcpy(pub.data, key.m_parsed.data(), sizeof(pub.data));
    } else if (!parseXonly(key.array().data(), pub)) {
        return false;
    }
    return secp256k1_schnorrsig_verify(context(), sig.array().data(), message.data(), Hash256::kSize, &pub) ==
           1;
}

bool verifyRaw(ByteView publicKey32, ByteView message, ByteView signature64) {
    if (publicKey32.size() != PublicKey::kSize || signature64.size() != Signature::kSize) {
        return false;
    }
    secp256k1_xonly_pubkey pub;
    if (!parseXonly(publicKey32.data(), pub)) return false;
    return secp256k1_schnorrsig_verify(context(), signature64.data(), message.data(), message.size(), &pub) ==
           1;
}

}  // namespace fides::crypto
