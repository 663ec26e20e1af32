#include "consensus/signer.h"

namespace fides::consensus {

namespace {
std::string describe(std::uint64_t h, std::uint32_t r, std::uint8_t step) {
    static const char* kSteps[] = {"proposal", "prevote", "precommit"};
    return "height " + std::to_string(h) + " round " + std::to_string(r) + " " + kSteps[step];
}
}  // namespace

GuardedSigner::GuardedSigner(std::string chainId, crypto::SecretKey key)
    : m_chainId(std::move(chainId)), m_key(std::move(key)), m_public(m_key.publicKey()) {}

Status GuardedSigner::checkOrder(const Hrs& hrs) const {
    if (m_last && hrs < *m_last) {
        return Status::failedPrecondition(
            "refusing to sign " + describe(std::get<0>(hrs), std::get<1>(hrs), std::get<2>(hrs)) +
            ": already signed " + describe(std::get<0>(*m_last), std::get<1>(*m_last), std::get<2>(*m_last)));
    }
    return Status::ok();
}

void GuardedSigner::forgetBelow(std::uint64_t height) {
    // Messages of finished heights can no longer conflict: the order rule
    // refuses anything below the last signed height.
    m_votes.erase(m_votes.begin(), m_votes.lower_bound(Hrs{height, 0, 0}));
    m_proposals.erase(m_proposals.begin(), m_proposals.lower_bound(Hrs{height, 0, 0}));
}

Status GuardedSigner::restore(const SignedVote& v) {
    if (v.validator != m_public) return Status::invalidArgument("WAL vote was signed by another key");
    const Hrs hrs{v.height, v.round, static_cast<std::uint8_t>(v.type)};
    auto [it, inserted] = m_votes.emplace(hrs, v);
    if (!inserted && it->second.value != v.value) {
        return Status::dataLoss("the WAL holds two different own votes for " +
                                describe(v.height, v.round, static_cast<std::uint8_t>(v.type)));
    }
    if (!m_last || hrs > *m_last) m_last = hrs;
    return Status::ok();
}

Status GuardedSigner::restore(const SignedProposal& p) {
    if (p.proposer != m_public) return Status::invalidArgument("WAL proposal was signed by another key");
    const Hrs hrs{p.height, p.round, 0};
    auto [it, inserted] = m_proposals.emplace(hrs, p);
    if (!inserted && it->second.value.id != p.value.id) {
        return Status::dataLoss("the WAL holds two different own proposals for " +
                                describe(p.height, p.round, 0));
    }
    if (!m_last || hrs > *m_last) m_last = hrs;
    return Status::ok();
}

Result<SignedVote> GuardedSigner::sign(const Vote& v, bool* fresh) {
    if (fresh != nullptr) *fresh = false;
    const Hrs hrs{v.height, v.round, static_cast<std::uint8_t>(v.type)};
    if (auto it = m_votes.find(hrs); it != m_votes.end()) {
        if (it->second.value == v.value) return it->second;  // the same vote again
        return Status::failedPrecondition("refusing to double-sign: already voted differently at " +
                                          describe(v.height, v.round, static_cast<std::uint8_t>(v.type)));
    }
    FIDES_RETURN_IF_ERROR(checkOrder(hrs));
    SignedVote s = signVote(m_chainId, m_key, v);
    forgetBelow(v.height);
    m_votes.emplace(hrs, s);
    m_last = hrs;
    if (fresh != nullptr) *fresh = true;
    return s;
}

Result<SignedProposal> GuardedSigner::sign(const Proposal& p, bool* fresh) {
    if (fresh != nullptr) *fresh = false;
    const Hrs hrs{p.height, p.round, 0};
    if (auto it = m_proposals.find(hrs); it != m_proposals.end()) {
        if (it->second.value.id == p.value.id && it->second.validRound == p.validRound) return it->second;
        return Status::failedPrecondition("refusing to double-sign: already proposed another value at " +
                                          describe(p.height, p.round, 0));
    }
    FIDES_RETURN_IF_ERROR(checkOrder(hrs));
    SignedProposal s = signProposal(m_chainId, m_key, p);
    forgetBelow(p.height);
    m_proposals.emplace(hrs, s);
    m_last = hrs;
    if (fresh != nullptr) *fresh = true;
    return s;
}

}  // namespace fides::consensus
