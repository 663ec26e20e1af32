// Client-side verification of a notarisation claim, used by the `fides`
// CLI and the desktop app alike. It trusts only what a LightClient has
// verified (primitives/light_client.h): the genesis validator set and the
// validator-set changes learned from there, each from a header signed by the
// set before it. Checked:
//  1. the state answer's header is signed by > 2/3 of the set the light
//     client trusts for its height, and the state proof shows the document
//     key present (or absent) under that header's stateRoot;
//  2. if present, the registering transaction is in the block the
//     registration names (inclusion proof against that block's signed
//     header, checked the same way), it registers this document, and it was
//     signed by the registrant the state names.
// A header signed by a set the light client has not learned is refused
// (FAILED_PRECONDITION): sync the light client first
// (client::syncLightClient).
//
// Thread-safety: pure functions.
#pragma once

#include "notary/notary_app.h"
#include "primitives/genesis.h"
#include "primitives/light_client.h"

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

Result<NotarizationVerdict> verifyNotarization(const LightClient& lightClient,
                                               const crypto::Hash256& documentHash,
                                               const NotarizationEvidence& evidence);
// The same, trusting only the genesis set (LightClient(genesis)): refuses
// headers signed after a validator-set change.
Result<NotarizationVerdict> verifyNotarization(const Genesis& genesis, const crypto::Hash256& documentHash,
                                               const NotarizationEvidence& evidence);

}  // namespace fides::notary
