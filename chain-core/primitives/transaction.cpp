#include "primitives/transaction.h"

#include "crypto/random.h"
#include "util/encoding.h"

namespace fides {

namespace {
constexpr std::string_view kTxTag = "fides/tx/v1";

// Bytes of the encoding without the signature.
std::size_t unsignedSize(const Transaction& tx) {
    return 1 + 4 + tx.chainId.size() + 2 + 4 + tx.payload.size() + crypto::PublicKey::kSize + 8 + 8;
}

void writeUnsigned(Writer& w, const Transaction& tx) {
    w.u8(Transaction::kVersion)
        .str(tx.chainId)
        .u16(tx.type)
        .var(tx.payload)
        .fixed(tx.signer.bytes())
        .u64(tx.nonce)
        .u64(tx.expiry);
}
}  // namespace

Bytes Transaction::signingBytes() const {
    Writer w;
    w.reserve(unsignedSize(*this));
    writeUnsigned(w, *this);
    return std::move(w).take();
}

crypto::Hash256 Transaction::signingDigest() const { return crypto::taggedHash(kTxTag, signingBytes()); }

Bytes Transaction::encode() const {
    Writer w;
    w.reserve(unsignedSize(*this) + crypto::Signature::kSize);
    writeUnsigned(w, *this);
    w.fixed(signature.bytes());
    return std::move(w).take();
}

Result<Transaction> Transaction::decode(ByteView bytes) {
    if (bytes.size() > limits::kMaxTransactionSize) {
        return Status::invalidArgument("transaction of " + std::to_string(bytes.size()) +
                                       " bytes exceeds the limit of " +
                                       std::to_string(limits::kMaxTransactionSize));
    }
    Reader r(bytes, limits::kMaxPayloadSize);
    Transaction tx;
    FIDES_RETURN_IF_ERROR(r.version(kVersion, "transaction"));
    FIDES_RETURN_IF_ERROR(r.str(tx.chainId, limits::kMaxChainIdLength));
    FIDES_RETURN_IF_ERROR(r.u16(tx.type));
    FIDES_RETURN_IF_ERROR(r.var(tx.payload));
    std::array<std::uint8_t, 32> signer{};
    FIDES_RETURN_IF_ERROR(r.fixed(signer));
    auto pk = crypto::PublicKey::fromBytes(signer);
    if (!pk) return Status::invalidArgument("signer is not a valid BIP-340 public key");
    tx.signer = *pk;
    FIDES_RETURN_IF_ERROR(r.u64(tx.nonce));
    FIDES_RETURN_IF_ERROR(r.u64(tx.expiry));
    std::array<std::uint8_t, 64> sig{};
    FIDES_RETURN_IF_ERROR(r.fixed(sig));
    tx.signature = *crypto::Signature::fromBytes(sig);
    FIDES_RETURN_IF_ERROR(r.finish());
    return tx;
}

void Transaction::sign(const crypto::SecretKey& key) {
    signer = key.publicKey();
    signature = crypto::sign(key, signingDigest());
}

bool Transaction::verifySignature() const { return crypto::verify(signer, signingDigest(), signature); }

Transaction makeSignedTransaction(const std::string& chainId, std::uint16_t type, Bytes payload,
                                  const crypto::SecretKey& signer, std::uint64_t nonce,
                                  std::uint64_t expiryUnixSeconds) {
    Transaction tx;
    tx.chainId = chainId;
    tx.type = type;
    tx.payload = std::move(payload);
    tx.nonce = nonce;
    tx.expiry = expiryUnixSeconds;
    tx.sign(signer);
    return tx;
}

Transaction makeSignedTransaction(const std::string& chainId, std::uint16_t type, Bytes payload,
                                  const crypto::SecretKey& signer, std::uint64_t expiryUnixSeconds) {
    return makeSignedTransaction(chainId, type, std::move(payload), signer, crypto::randomU64(),
                                 expiryUnixSeconds);
}

}  // namespace fides
