// Signed consensus messages and their canonical encodings
// (doc/spec/consensus.md). The engine (consensus/engine.h) works with
// validator indexes; on the wire and in the write-ahead log a message names
// its signer by public key and carries a BIP-340 signature over a tagged
// digest:
//   vote      taggedHash("fides/vote/v1", u8 type || str chainId || u64 height
//                        || u32 round || 32-byte value id, zeros for nil)
//   proposal  taggedHash("fides/proposal/v1", str chainId || u64 height ||
//                        u32 round || u8 hasValidRound || u32 validRound ||
//                        32-byte value id)
// A precommit for a block therefore signs exactly precommitDigest()
// (primitives/block.h): commits assembled from precommits verify with
// ValidatorSet::verifyCommit. The all-zero id stands for nil; no block can
// hash to it without a SHA-256 preimage of zero.
//
// Thread-safety: value types and pure functions.
#pragma once

#include "consensus/engine.h"
#include "crypto/schnorr.h"
#include "primitives/validator_set.h"
#include "util/status.h"

#include <string>

namespace fides::consensus {

struct SignedVote {
    VoteType type = VoteType::Prevote;
    std::uint64_t height = 0;
    std::uint32_t round = 0;
    std::optional<ValueId> value;
    crypto::PublicKey validator;
    crypto::Signature signature;

    Bytes encode() const;
    static Result<SignedVote> decode(ByteView bytes);
};

struct SignedProposal {
    std::uint64_t height = 0;
    std::uint32_t round = 0;
    std::int64_t validRound = -1;
    Value value;  // id = block hash, data = encoded block
    crypto::PublicKey proposer;
    crypto::Signature signature;

    Bytes encode() const;
    static Result<SignedProposal> decode(ByteView bytes, std::size_t maxValueBytes);
};

crypto::Hash256 voteDigest(const std::string& chainId, VoteType type, std::uint64_t height,
                           std::uint32_t round, const std::optional<ValueId>& value);
crypto::Hash256 proposalDigest(const std::string& chainId, std::uint64_t height, std::uint32_t round,
                               std::int64_t validRound, const ValueId& value);

// Sign an engine message as `key` (no double-sign check here: see
// consensus/signer.h, which every signature of a running validator goes
// through).
SignedVote signVote(const std::string& chainId, const crypto::SecretKey& key, const Vote& vote);
SignedProposal signProposal(const std::string& chainId, const crypto::SecretKey& key,
                            const Proposal& proposal);

// Checks the signature and that the signer is a member, and converts to the
// engine's form. UNAUTHENTICATED for a bad signature or a non-member.
Result<Vote> verifyVote(const std::string& chainId, const ValidatorSet& validators, const SignedVote& vote);
Result<Proposal> verifyProposal(const std::string& chainId, const ValidatorSet& validators,
                                const SignedProposal& proposal);

// Index of a validator in the set's canonical (sorted) order, as the engine
// numbers them.
std::optional<ValidatorIndex> indexOf(const ValidatorSet& validators, const crypto::PublicKey& key);
std::vector<std::uint64_t> powersOf(const ValidatorSet& validators);

}  // namespace fides::consensus
