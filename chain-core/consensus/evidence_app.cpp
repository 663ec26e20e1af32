#include "consensus/evidence_app.h"

#include "util/encoding.h"

namespace fides::consensus {

namespace {
constexpr std::string_view kPrefix = "evidence/";
}  // namespace

Bytes EvidencePayload::encode() const {
    Writer w;
    w.u8(kVersion).var(first.encode()).var(second.encode());
    return std::move(w).take();
}

Result<EvidencePayload> EvidencePayload::decode(ByteView bytes) {
    Reader r(bytes, 4096);
    FIDES_RETURN_IF_ERROR(r.version(kVersion, "evidence"));
    Bytes a;
    Bytes b;
    FIDES_RETURN_IF_ERROR(r.var(a));
    FIDES_RETURN_IF_ERROR(r.var(b));
    FIDES_RETURN_IF_ERROR(r.finish());
    if (!(a < b)) return Status::invalidArgument("evidence votes must be distinct and in canonical order");
    EvidencePayload p;
    FIDES_ASSIGN_OR_RETURN(p.first, SignedVote::decode(a));
    FIDES_ASSIGN_OR_RETURN(p.second, SignedVote::decode(b));
    return p;
}

Bytes evidenceKey(const crypto::PublicKey& validator, std::uint64_t height, std::uint32_t round,
                  VoteType type) {
    Writer w;
    w.fixed(asBytes(kPrefix))
        .fixed(validator.bytes())
        .u64(height)
        .u32(round)
        .u8(static_cast<std::uint8_t>(type));
    return std::move(w).take();
}

Transaction makeEvidenceTx(const std::string& chainId, const crypto::SecretKey& submitter,
                           const SignedVote& a, const SignedVote& b, std::uint64_t expiryUnixSeconds) {
    EvidencePayload p;
    const bool ordered = a.encode() < b.encode();
    p.first = ordered ? a : b;
    p.second = ordered ? b : a;
    return makeSignedTransaction(chainId, kEvidenceTxType, p.encode(), submitter, expiryUnixSeconds);
}

Result<EvidencePayload> EvidenceApp::verified(const Transaction& tx) const {
    FIDES_ASSIGN_OR_RETURN(EvidencePayload p, EvidencePayload::decode(tx.payload));
    const SignedVote& a = p.first;
    const SignedVote& b = p.second;
    if (a.validator != b.validator)
        return Status::invalidArgument("evidence votes are by different validators");
    if (a.height != b.height || a.round != b.round || a.type != b.type) {
        return Status::invalidArgument("evidence votes are for different heights, rounds or steps");
    }
    if (a.value == b.value) return Status::invalidArgument("evidence votes do not conflict");
    const auto set = m_schedule->at(a.height);
    FIDES_RETURN_IF_ERROR(verifyVote(m_chainId, *set, a).status());
    FIDES_RETURN_IF_ERROR(verifyVote(m_chainId, *set, b).status());
    return p;
}

Status EvidenceApp::checkTx(const Transaction& tx, const app::StateReader& committed) const {
    FIDES_ASSIGN_OR_RETURN(EvidencePayload p, verified(tx));
    FIDES_ASSIGN_OR_RETURN(bool known, committed.exists(evidenceKey(p.first.validator, p.first.height,
                                                                    p.first.round, p.first.type)));
    if (known) return Status::alreadyExists("this equivocation is already on the ledger");
    return Status::ok();
}

Status EvidenceApp::deliverTx(const Transaction& tx, const app::TxContext& ctx, app::BlockState& state) {
    FIDES_ASSIGN_OR_RETURN(EvidencePayload p, verified(tx));
    const Bytes key = evidenceKey(p.first.validator, p.first.height, p.first.round, p.first.type);
    FIDES_ASSIGN_OR_RETURN(bool known, state.exists(key));
    if (known) return Status::alreadyExists("this equivocation is already on the ledger");
    Writer w;
    w.var(tx.payload).u64(ctx.height);
    return state.put(key, std::move(w).take());
}

}  // namespace fides::consensus
