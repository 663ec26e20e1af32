// Client-side verification of a notarisation claim, used by the `fides`
// CLI and the desktop app alike. It trusts only the genesis validator set:
//  1. the state answer's header is signed by > 2/3 of the validators, and
//     the state proof shows the document key present (or absent) under that
//     header's stateRoot;
//  2. if present, the registering transaction is in the block the
//     registration names (inclusion proof against that block's signed
//     header), it registers this document, and it was signed by the
//     registrant the state names.
//
// Thread-safety: pure function.
#pragma once

#include "notary/notary_app.h"
#include "primitives/genesis.h"

#include <optional>
#include <vector>

namespace fides::notary {

struct NotarizationEvidence {
    // From QueryState(documentKey(hash)).
    Bytes stateHeader, stateCommit, stateProof;
    std::optional<Bytes> value;
    // From GetTransaction(registration.txHash); only when value is set.
    Bytes transaction;
    std::uint64_t txHeight = 0;
    std::uint32_t txIndex = 0;
    std::vector<crypto::Hash256> inclusionProof;
    Bytes txHeader, txCommit;
};

struct NotarizationVerdict {
    bool registered = false;
    std::uint64_t provenAtHeight = 0;  // height of the header the state proof was checked against
    std::optional<Registration> registration;
    std::uint64_t blockTimeMs = 0;  // time of the registering block
    std::size_t signatures = 0;
    std::uint64_t signedPower = 0;
    std::uint64_t totalPower = 0;
};

Result<NotarizationVerdict> verifyNotarization(const Genesis& genesis, const crypto::Hash256& documentHash,
                                               const NotarizationEvidence& evidence);

}  // namespace fides::notary
