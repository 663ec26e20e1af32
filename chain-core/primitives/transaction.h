// Transaction envelope: the signed unit every application submits.
//
// Canonical encoding and signing rules: doc/spec/encoding.md. The signature
// covers taggedHash("fides/tx/v1", signingBytes()), where signingBytes is the
// encoding without the signature; the transaction hash is SHA-256 of the full
// encoding. `nonce` is chosen by the client (random) so that two otherwise
// identical transactions differ; `expiry` (unix seconds) bounds how long a
// transaction can be submitted, and so how long a node must remember it to
// refuse replays.
//
// Thread-safety: a value type.
#pragma once

#include "crypto/hash.h"
#include "crypto/schnorr.h"
#include "util/bytes.h"
#include "util/status.h"

#include <cstdint>
#include <string>

namespace fides {

namespace limits {
inline constexpr std::size_t kMaxChainIdLength = 64;
inline constexpr std::size_t kMaxPayloadSize = 60 * 1024;
inline constexpr std::size_t kMaxTransactionSize = 64 * 1024;
}  // namespace limits

struct Transaction {
    static constexpr std::uint8_t kVersion = 1;

    std::string chainId;
    std::uint16_t type = 0;
    Bytes payload;
    crypto::PublicKey signer;
    std::uint64_t nonce = 0;
    std::uint64_t expiry = 0;  // unix seconds
    crypto::Signature signature;

    Bytes signingBytes() const;
    crypto::Hash256 signingDigest() const;
    Bytes encode() const;
    // Strict: refuses unknown versions, over-long fields, trailing bytes,
    // invalid public keys.
    static Result<Transaction> decode(ByteView bytes);

    void sign(const crypto::SecretKey& key);
    [[nodiscard]] bool verifySignature() const;
};

// A transaction of `type` carrying `payload`, with a random nonce, signed
// by `signer`.
// `type` is one an application declares (doc/spec/tx-types.md).
Transaction makeSignedTransaction(const std::string& chainId, std::uint16_t type, Bytes payload,
                                  const crypto::SecretKey& signer, std::uint64_t expiryUnixSeconds);
// The same with a chosen nonce.
Transaction makeSignedTransaction(const std::string& chainId, std::uint16_t type, Bytes payload,
                                  const crypto::SecretKey& signer, std::uint64_t nonce,
                                  std::uint64_t expiryUnixSeconds);

// Hash of an encoded transaction (the identity used everywhere).
inline crypto::Hash256 txHash(ByteView encoded) { return crypto::sha256(encoded); }

}  // namespace fides
