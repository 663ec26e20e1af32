#include "consensus/messages.h"

#include "primitives/block.h"
#include "util/encoding.h"

namespace fides::consensus {

namespace {
constexpr std::uint8_t kVersion = 1;

Writer& writeValueId(Writer& w, const std::optional<ValueId>& v) {
    static const crypto::Hash256 kNil;
    return w.fixed((v ? *v : kNil).bytes());
}

Status readKey(Reader& r, crypto::PublicKey& out) {
    std::array<std::uint8_t, 32> a{};
    FIDES_RETURN_IF_ERROR(r.fixed(a));
    auto pk = crypto::PublicKey::fromBytes(a);
    if (!pk) return Status::invalidArgument("signer is not a valid public key");
    out = *pk;
    return Status::ok();
}

Status readSignature(Reader& r, crypto::Signature& out) {
    std::array<std::uint8_t, 64> a{};
    FIDES_RETURN_IF_ERROR(r.fixed(a));
    out = *crypto::Signature::fromBytes(a);
    return Status::ok();
}
}  // namespace

crypto::Hash256 voteDigest(const std::string& chainId, VoteType type, std::uint64_t height,
                           std::uint32_t round, const std::optional<ValueId>& value) {
    Writer w;
    w.u8(static_cast<std::uint8_t>(type)).str(chainId).u64(height).u32(round);
    writeValueId(w, value);
    return crypto::taggedHash("fides/vote/v1", w.bytes());
}

crypto::Hash256 proposalDigest(const std::string& chainId, std::uint64_t height, std::uint32_t round,
                               std::int64_t validRound, const ValueId& value) {
    Writer w;
    w.str(chainId)
        .u64(height)
        .u32(round)
        .boolean(validRound >= 0)
        .u32(validRound >= 0 ? static_cast<std::uint32_t>(validRound) : 0);
    w.fixed(value.bytes());
    return crypto::taggedHash("fides/proposal/v1", w.bytes());
}

Bytes SignedVote::encode() const {
    Writer w;
    w.u8(kVersion).u8(static_cast<std::uint8_t>(type)).u64(height).u32(round).boolean(value.has_value());
    if (value) w.fixed(value->bytes());
    w.fixed(validator.bytes()).fixed(signature.bytes());
    return std::move(w).take();
}

Result<SignedVote> SignedVote::decode(ByteView bytes) {
    Reader r(bytes);
    SignedVote v;
    FIDES_RETURN_IF_ERROR(r.version(kVersion, "vote"));
    std::uint8_t type = 0;
    FIDES_RETURN_IF_ERROR(r.u8(type));
    if (type != 1 && type != 2) return Status::invalidArgument("unknown vote type " + std::to_string(type));
    v.type = static_cast<VoteType>(type);
    FIDES_RETURN_IF_ERROR(r.u64(v.height));
    FIDES_RETURN_IF_ERROR(r.u32(v.round));
    bool has = false;
    FIDES_RETURN_IF_ERROR(r.boolean(has));
    if (has) {
        std::array<std::uint8_t, 32> id{};
        FIDES_RETURN_IF_ERROR(r.fixed(id));
        v.value = crypto::Hash256(id);
        if (v.value->isZero()) return Status::invalidArgument("a vote's value id may not be zero");
    }
    FIDES_RETURN_IF_ERROR(readKey(r, v.validator));
    FIDES_RETURN_IF_ERROR(readSignature(r, v.signature));
    FIDES_RETURN_IF_ERROR(r.finish());
    return v;
}

Bytes SignedProposal::encode() const {
    Writer w;
    w.u8(kVersion)
        .u64(height)
        .u32(round)
        .boolean(validRound >= 0)
        .u32(validRound >= 0 ? static_cast<std::uint32_t>(validRound) : 0);
    w.fixed(value.id.bytes()).var(value.data).fixed(proposer.bytes()).fixed(signature.bytes());
    return std::move(w).take();
}

Result<SignedProposal> SignedProposal::decode(ByteView bytes, std::size_t maxValueBytes) {
    Reader r(bytes, maxValueBytes);
    SignedProposal p;
    FIDES_RETURN_IF_ERROR(r.version(kVersion, "proposal"));
    FIDES_RETURN_IF_ERROR(r.u64(p.height));
    FIDES_RETURN_IF_ERROR(r.u32(p.round));
    bool hasValidRound = false;
    std::uint32_t validRound = 0;
    FIDES_RETURN_IF_ERROR(r.boolean(hasValidRound));
    FIDES_RETURN_IF_ERROR(r.u32(validRound));
    if (!hasValidRound && validRound != 0) return Status::invalidArgument("valid round set without its flag");
    if (hasValidRound && validRound >= p.round)
        return Status::invalidArgument("valid round must be below the round");
    p.validRound = hasValidRound ? static_cast<std::int64_t>(validRound) : -1;
    std::array<std::uint8_t, 32> id{};
    FIDES_RETURN_IF_ERROR(r.fixed(id));
    p.value.id = crypto::Hash256(id);
    FIDES_RETURN_IF_ERROR(r.var(p.value.data));
    FIDES_RETURN_IF_ERROR(readKey(r, p.proposer));
    FIDES_RETURN_IF_ERROR(readSignature(r, p.signature));
    FIDES_RETURN_IF_ERROR(r.finish());
    return p;
}

SignedVote signVote(const std::string& chainId, const crypto::SecretKey& key, const Vote& v) {
    SignedVote s{v.type, v.height, v.round, v.value, key.publicKey(), {}};
    s.signature = crypto::sign(key, voteDigest(chainId, v.type, v.height, v.round, v.value));
    return s;
}

SignedProposal signProposal(const std::string& chainId, const crypto::SecretKey& key, const Proposal& p) {
    SignedProposal s{p.height, p.round, p.validRound, p.value, key.publicKey(), {}};
    s.signature = crypto::sign(key, proposalDigest(chainId, p.height, p.round, p.validRound, p.value.id));
    return s;
}

std::optional<ValidatorIndex> indexOf(const ValidatorSet& validators, const crypto::PublicKey& key) {
    const Validator* v = validators.find(key);
    if (v == nullptr) return std::nullopt;
    return static_cast<ValidatorIndex>(v - validators.validators().data());
}

std::vector<std::uint64_t> powersOf(const ValidatorSet& validators) {
    std::vector<std::uint64_t> out;
    for (const auto& v : validators.validators()) out.push_back(v.power);
    return out;
}

Result<Vote> verifyVote(const std::string& chainId, const ValidatorSet& validators, const SignedVote& s) {
    auto index = indexOf(validators, s.validator);
    if (!index) return Status::unauthenticated("vote by " + s.validator.hex() + ", who is not a validator");
    if (!crypto::verify(s.validator, voteDigest(chainId, s.type, s.height, s.round, s.value), s.signature)) {
        return Status::unauthenticated("invalid vote signature by " + s.validator.hex());
    }
    return Vote{s.type, s.height, s.round, s.value, *index};
}

Result<Proposal> verifyProposal(const std::string& chainId, const ValidatorSet& validators,
                                const SignedProposal& s) {
    auto index = indexOf(validators, s.proposer);
    if (!index)
        return Status::unauthenticated("proposal by " + s.proposer.hex() + ", who is not a validator");
    if (!crypto::verify(s.proposer, proposalDigest(chainId, s.height, s.round, s.validRound, s.value.id),
                        s.signature)) {
        return Status::unauthenticated("invalid proposal signature by " + s.proposer.hex());
    }
    return Proposal{s.height, s.round, s.value, s.validRound, *index};
}

}  // namespace fides::consensus
