// Client-side checks of what a node returns, so that no client has to trust
// the node it talks to: a header is accepted only with a commit from the
// trusted validator set; a transaction only with an inclusion proof against
// that header's txRoot; a state answer only with a proof against its
// stateRoot (state/state_tree.h).
//
// Thread-safety: pure functions.
#pragma once

#include "primitives/block.h"
#include "primitives/validator_set.h"

namespace fides {

struct VerifiedHeader {
    BlockHeader header;
    Commit commit;
    std::uint64_t signedPower = 0;
    std::uint64_t totalPower = 0;
    std::size_t signatures = 0;
};

// Decodes and checks a header and its commit against `validators`.
Result<VerifiedHeader> verifySignedHeader(const ValidatorSet& validators, const std::string& chainId,
                                          ByteView headerBytes, ByteView commitBytes);

// Checks that `txBytes` is leaf `index` of the block whose header is given.
Status verifyTxInclusion(const BlockHeader& header, ByteView txBytes, std::uint64_t index,
                         const std::vector<crypto::Hash256>& proof);

}  // namespace fides
