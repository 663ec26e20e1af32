// The notary as a daemon module (appmodule/app_module.h): its application
// (notary::NotaryApp, no settings of its own) and its gRPC service
// fides.notary.v1.NotaryService, whose GetEvidence gathers in one call what a
// client needs to check a notarisation (notary::verifyNotarization).
//
// Thread-safety: the service is called from gRPC's threads; it only reads
// the node, which is thread-safe.
#pragma once

#include "appmodule/app_module.h"
#include "notary/notary_proof.h"

namespace fides::notary {

std::unique_ptr<appmodule::AppModule> makeModule();

// The evidence for `documentHash` as the node holds it (what GetEvidence
// answers): its state proof and, when registered, the registering
// transaction's inclusion proof. Unverified.
Result<NotarizationEvidence> gatherEvidence(const node::Node& node, const crypto::Hash256& documentHash);

}  // namespace fides::notary
