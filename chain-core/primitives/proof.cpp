#include "primitives/proof.h"

#include "primitives/merkle.h"

namespace fides {

Result<VerifiedHeader> verifySignedHeader(const ValidatorSet& validators, const std::string& chainId,
                                          ByteView headerBytes, ByteView commitBytes) {
    VerifiedHeader out;
    FIDES_ASSIGN_OR_RETURN(out.header, BlockHeader::decode(headerBytes));
    FIDES_ASSIGN_OR_RETURN(out.commit, Commit::decode(commitBytes));
    if (out.header.chainId != chainId) {
        return Status::invalidArgument("header is for chain '" + out.header.chainId + "', expected '" +
                                       chainId + "'");
    }
    if (out.header.validatorSetHash != validators.hash()) {
        return Status::unauthenticated("header names a validator set other than the trusted one");
    }
    FIDES_RETURN_IF_ERROR(
        validators.verifyCommit(chainId, out.header.height, out.header.hash(), out.commit, &out.signedPower));
    out.totalPower = validators.totalPower();
    out.signatures = out.commit.signatures.size();
    return out;
}

Status verifyTxInclusion(const BlockHeader& header, ByteView txBytes, std::uint64_t index,
                         const std::vector<crypto::Hash256>& proof) {
    if (!merkle::verifyInclusion(merkle::leafHash(txBytes), index, header.txCount, proof, header.txRoot)) {
        return Status::unauthenticated("transaction inclusion proof does not match the block's txRoot");
    }
    return Status::ok();
}

}  // namespace fides
