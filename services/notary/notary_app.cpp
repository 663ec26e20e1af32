#include "notary/notary_app.h"

#include "util/encoding.h"

#include <cstring>

namespace fides::notary {

namespace {
constexpr std::string_view kKeyPrefix = "notary/doc/";
}  // namespace

Bytes NotarizePayload::encode() const {
    Writer w;
    w.reserve(1 + crypto::Hash256::kSize + 4 + label.size());
    w.u8(kVersion).fixed(documentHash.bytes()).str(label);
    return std::move(w).take();
}

Result<NotarizePayload> NotarizePayload::decode(ByteView bytes) {
    Reader r(bytes);
    NotarizePayload p;
    FIDES_RETURN_IF_ERROR(r.version(kVersion, "notarisation payload"));
    std::array<std::uint8_t, 32> h{};
    FIDES_RETURN_IF_ERROR(r.fixed(h));
    p.documentHash = crypto::Hash256(h);
    FIDES_RETURN_IF_ERROR(r.str(p.label, kMaxLabelLength));
    FIDES_RETURN_IF_ERROR(r.finish());
    return p;
}

Bytes Registration::encode() const {
    Writer w;
    w.reserve(1 + 8 + 4 + 2 * crypto::Hash256::kSize + 8 + 4 + label.size());
    w.u8(kVersion)
        .u64(height)
        .u32(index)
        .fixed(txHash.bytes())
        .fixed(registrant.bytes())
        .u64(timeMs)
        .str(label);
    return std::move(w).take();
}

Result<Registration> Registration::decode(ByteView bytes) {
    Reader r(bytes);
    Registration reg;
    FIDES_RETURN_IF_ERROR(r.version(kVersion, "registration"));
    FIDES_RETURN_IF_ERROR(r.u64(reg.height));
    FIDES_RETURN_IF_ERROR(r.u32(reg.index));
    std::array<std::uint8_t, 32> h{};
    FIDES_RETURN_IF_ERROR(r.fixed(h));
    reg.txHash = crypto::Hash256(h);
    FIDES_RETURN_IF_ERROR(r.fixed(h));
    auto pk = crypto::PublicKey::fromBytes(h);
    if (!pk) return Status::invalidArgument("registrant key is invalid");
    reg.registrant = *pk;
    FIDES_RETURN_IF_ERROR(r.u64(reg.timeMs));
    FIDES_RETURN_IF_ERROR(r.str(reg.label, kMaxLabelLength));
    FIDES_RETURN_IF_ERROR(r.finish());
    return reg;
}

Bytes documentKey(const crypto::Hash256& documentHash) {
    Bytes k(kKeyPrefix.size() + crypto::Hash256::kSize);
    std::memcpy(k.data(), kKeyPrefix.data(), kKeyPrefix.size());
    std::memcpy(k.data() + kKeyPrefix.size(), documentHash.data(), crypto::Hash256::kSize);
    return k;
}

Transaction makeNotarizeTx(const std::string& chainId, const crypto::SecretKey& key,
                           const crypto::Hash256& documentHash, const std::string& label, std::uint64_t nonce,
                           std::uint64_t expiryUnixSeconds) {
    return makeSignedTransaction(chainId, kNotarizeTxType, NotarizePayload{documentHash, label}.encode(), key,
                                 nonce, expiryUnixSeconds);
}

Status NotaryApp::checkTx(const Transaction& tx, const app::StateReader& committed) const {
    FIDES_ASSIGN_OR_RETURN(NotarizePayload p, NotarizePayload::decode(tx.payload));
    FIDES_ASSIGN_OR_RETURN(bool exists, committed.exists(documentKey(p.documentHash)));
    if (exists) return Status::alreadyExists("document " + p.documentHash.hex() + " is already registered");
    return Status::ok();
}

Status NotaryApp::deliverTx(const Transaction& tx, const app::TxContext& ctx, app::BlockState& state) {
    FIDES_ASSIGN_OR_RETURN(NotarizePayload p, NotarizePayload::decode(tx.payload));
    const Bytes key = documentKey(p.documentHash);
    FIDES_ASSIGN_OR_RETURN(bool exists, state.exists(key));
    if (exists) return Status::alreadyExists("document " + p.documentHash.hex() + " is already registered");
    Registration reg{ctx.height, ctx.index, ctx.txHash, tx.signer, ctx.blockTimeMs, p.label};
    return state.put(key, reg.encode());
}

}  // namespace fides::notary
