#include "primitives/light_client.h"

#include <algorithm>
#include <iterator>

namespace fides {

LightClient::LightClient(const Genesis& genesis) : m_chainId(genesis.chainId) {
    m_sets.emplace(1, genesis.validators);
}

const ValidatorSet& LightClient::setAt(std::uint64_t height) const {
    auto it = m_sets.upper_bound(std::max<std::uint64_t>(height, 1));
    return std::prev(it)->second;
}

std::size_t LightClient::changesUpTo(std::uint64_t height) const {
    // Heights start at 1 (the genesis set); height 0 counts as 1.
    const auto end = m_sets.upper_bound(std::max<std::uint64_t>(height, 1));
    return static_cast<std::size_t>(std::distance(m_sets.begin(), end)) - 1;
}

Status LightClient::learnSet(std::uint64_t fromHeight, const ValidatorSet& set, ByteView announcingHeader,
                             ByteView announcingCommit) {
    if (auto known = m_sets.find(fromHeight); known != m_sets.end()) {
        if (known->second.hash() == set.hash()) return Status::ok();
        return Status::unauthenticated("a different validator set is already verified from height " +
                                       std::to_string(fromHeight));
    }
    if (fromHeight < 2) return Status::invalidArgument("a validator-set change starts at height 2 or later");
    if (fromHeight <= latestChange()) {
        return Status::failedPrecondition(
            "validator-set changes must be learned in height order (latest known from " +
            std::to_string(latestChange()) + ")");
    }
    FIDES_ASSIGN_OR_RETURN(VerifiedHeader h, verify(announcingHeader, announcingCommit));
    if (h.header.height != fromHeight - 1) {
        return Status::invalidArgument("the announcing header is for height " +
                                       std::to_string(h.header.height) + ", expected " +
                                       std::to_string(fromHeight - 1));
    }
    if (h.header.nextValidatorSetHash != set.hash()) {
        return Status::unauthenticated("header " + std::to_string(h.header.height) +
                                       " does not announce this validator set");
    }
    if (h.header.nextValidatorSetHash == h.header.validatorSetHash) {
        return Status::invalidArgument("header " + std::to_string(h.header.height) + " announces no change");
    }
    m_sets.emplace(fromHeight, set);
    return Status::ok();
}

Result<VerifiedHeader> LightClient::verify(ByteView headerBytes, ByteView commitBytes) const {
    FIDES_ASSIGN_OR_RETURN(BlockHeader header, BlockHeader::decode(headerBytes));
    if (header.chainId != m_chainId) {
        return Status::invalidArgument("header is for chain '" + header.chainId + "', expected '" +
                                       m_chainId + "'");
    }
    const ValidatorSet& set = setAt(header.height);
    if (header.validatorSetHash != set.hash()) {
        return Status::failedPrecondition("header " + std::to_string(header.height) +
                                          " is signed by a validator set this client has not verified; "
                                          "learn the validator-set changes up to that height first");
    }
    return verifySignedHeader(set, m_chainId, headerBytes, commitBytes);
}

}  // namespace fides
