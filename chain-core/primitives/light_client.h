// LightClient: the validator sets a client has verified, starting from a
// trusted point (the genesis file), and the check of any header against
// them. The client never trusts the node it talks to: it learns a new set
// only from the header just before the set takes effect, which must be
// signed by more than 2/3 of the set the client already trusts for that
// height and name the new set's hash as nextValidatorSetHash
// (BlockHeader). Changes are learned in height order, so a node that hides
// one is caught: the next header it shows names a set the client does not
// know, and is refused.
//
// The trust model is the usual one for BFT light clients: it holds while
// more than 2/3 of each set's power does not sign a conflicting history.
//
// Fetching is the caller's: client-common/NodeConnection (Qt, async) and
// services/client (CLI, blocking) fetch GetValidatorSets and the announcing
// headers and feed them here.
//
// Thread-safety: a value type; not synchronised.
#pragma once

#include "primitives/genesis.h"
#include "primitives/proof.h"

#include <map>

namespace fides {

class LightClient {
public:
    // Trusts the genesis set from height 1.
    explicit LightClient(const Genesis& genesis);

    const std::string& chainId() const { return m_chainId; }
    // The set this client trusts for `height` (the latest learned change at
    // or before it).
    const ValidatorSet& setAt(std::uint64_t height) const;
    // First height of the latest learned set.
    std::uint64_t latestChange() const { return m_sets.rbegin()->first; }
    std::size_t changesLearned() const { return m_sets.size() - 1; }
    // Learned changes in force at or before `height` (those a header of that
    // height was verified through).
    std::size_t changesUpTo(std::uint64_t height) const;

    // Learns `set` from `fromHeight`, given the signed header of height
    // fromHeight - 1 (canonical encodings). Refuses (and changes nothing)
    // unless that header verifies against the set trusted for its height
    // and announces `set` as the next one. Learning a set already known is OK.
    Status learnSet(std::uint64_t fromHeight, const ValidatorSet& set, ByteView announcingHeader,
                    ByteView announcingCommit);

    // Checks a header and its commit against the set trusted for its height.
    // FAILED_PRECONDITION when the header names a set this client has not
    // learned (learn the changes first); UNAUTHENTICATED for a bad commit.
    Result<VerifiedHeader> verify(ByteView headerBytes, ByteView commitBytes) const;

private:
    std::string m_chainId;
    std::map<std::uint64_t, ValidatorSet> m_sets;  // fromHeight -> set
};

}  // namespace fides
