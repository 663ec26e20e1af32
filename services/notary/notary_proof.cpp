#include "notary/notary_proof.h"

#include "primitives/proof.h"
#include "state/state_tree.h"

namespace fides::notary {

Result<NotarizationVerdict> verifyNotarization(const Genesis& genesis, const crypto::Hash256& documentHash,
                                               const NotarizationEvidence& ev) {
    return verifyNotarization(LightClient(genesis), documentHash, ev);
}

Result<NotarizationVerdict> verifyNotarization(const LightClient& lightClient,
                                               const crypto::Hash256& documentHash,
                                               const NotarizationEvidence& ev) {
    NotarizationVerdict v;
    FIDES_ASSIGN_OR_RETURN(VerifiedHeader sh, lightClient.verify(ev.stateHeader, ev.stateCommit));
    v.provenAtHeight = sh.header.height;
    v.signatures = sh.signatures;
    v.signedPower = sh.signedPower;
    v.totalPower = sh.totalPower;
    FIDES_ASSIGN_OR_RETURN(state::StateProof proof, state::StateProof::decode(ev.stateProof));
    const Bytes key = documentKey(documentHash);
    if (!state::verifyStateProof(sh.header.stateRoot, key, ev.value, proof)) {
        return Status::unauthenticated(ev.value ? "state proof does not show this registration"
                                                : "state proof does not show the document as absent");
    }
    if (!ev.value) return v;  // absence proven

    FIDES_ASSIGN_OR_RETURN(Registration reg, Registration::decode(*ev.value));
    FIDES_ASSIGN_OR_RETURN(VerifiedHeader th, lightClient.verify(ev.txHeader, ev.txCommit));
    if (th.header.height != reg.height || ev.txHeight != reg.height || ev.txIndex != reg.index) {
        return Status::unauthenticated("registering transaction is not where the registration says");
    }
    if (txHash(ev.transaction) != reg.txHash) {
        return Status::unauthenticated("transaction does not match the registration's transaction hash");
    }
    FIDES_RETURN_IF_ERROR(verifyTxInclusion(th.header, ev.transaction, ev.txIndex, ev.inclusionProof));
    FIDES_ASSIGN_OR_RETURN(Transaction tx, Transaction::decode(ev.transaction));
    if (!tx.verifySignature())
        return Status::unauthenticated("registering transaction's signature is invalid");
    if (tx.type != kNotarizeTxType) {
        return Status::unauthenticated("registering transaction is not a notarisation");
    }
    FIDES_ASSIGN_OR_RETURN(NotarizePayload p, NotarizePayload::decode(tx.payload));
    if (p.documentHash != documentHash || tx.signer != reg.registrant || p.label != reg.label) {
        return Status::unauthenticated("registering transaction does not match the registration");
    }
    if (th.header.timeMs != reg.timeMs) {
        return Status::unauthenticated("registration time differs from its block's time");
    }
    v.registered = true;
    v.registration = std::move(reg);
    v.blockTimeMs = th.header.timeMs;
    return v;
}

}  // namespace fides::notary
