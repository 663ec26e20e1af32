// GuardedSigner: every consensus signature of a running validator goes
// through it. It refuses to sign a message that conflicts with one it signed
// before: a different vote for a (height, round, type) it already voted in,
// a different proposal for a (height, round) it already proposed in, or a
// message for a (height, round, step) below the last one it signed (an
// honest engine only moves forward). Signing the identical message again
// returns the same signature. After a restart its memory is restored from
// the write-ahead log (restore()), before the engine replays, so a
// restarted validator never signs a conflicting message.
//
// Thread-safety: not thread-safe; owned by the consensus thread.
#pragma once

#include "consensus/messages.h"

#include <map>
#include <tuple>

namespace fides::consensus {

class GuardedSigner {
public:
    GuardedSigner(std::string chainId, crypto::SecretKey key);

    const crypto::PublicKey& publicKey() const { return m_public; }
    // Records messages this validator signed earlier (from the WAL).
    Status restore(const SignedVote& vote);
    Status restore(const SignedProposal& proposal);

    // `fresh` (if given) tells whether this is a new signature, or the one
    // already held for the identical message.
    Result<SignedVote> sign(const Vote& vote, bool* fresh = nullptr);
    Result<SignedProposal> sign(const Proposal& proposal, bool* fresh = nullptr);

private:
    using Hrs =
        std::tuple<std::uint64_t, std::uint32_t, std::uint8_t>;  // step: 0 proposal, 1 prevote, 2 precommit
    Status checkOrder(const Hrs& hrs) const;
    void forgetBelow(std::uint64_t height);

    std::string m_chainId;
    crypto::SecretKey m_key;
    crypto::PublicKey m_public;
    std::optional<Hrs> m_last;
    std::map<Hrs, SignedVote> m_votes;          // current height
    std::map<Hrs, SignedProposal> m_proposals;  // current height
};

}  // namespace fides::consensus
