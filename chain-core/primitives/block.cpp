#include "primitives/block.h"

#include "primitives/merkle.h"
#include "primitives/transaction.h"
#include "util/encoding.h"

namespace fides {

namespace {
constexpr std::string_view kVoteTag = "fides/vote/v1";
constexpr std::uint8_t kPrecommitType = 2;
constexpr std::uint32_t kMaxBlockTransactions = 1u << 20;
constexpr std::uint32_t kMaxCommitSignatures = 1024;

template <std::size_t N>
Status readHash(Reader& r, crypto::Hash256& out) {
    std::array<std::uint8_t, N> a{};
    FIDES_RETURN_IF_ERROR(r.fixed(a));
    out = crypto::Hash256(a);
    return Status::ok();
}

Status readPublicKey(Reader& r, crypto::PublicKey& out, const char* what) {
    std::array<std::uint8_t, 32> a{};
    FIDES_RETURN_IF_ERROR(r.fixed(a));
    auto pk = crypto::PublicKey::fromBytes(a);
    if (!pk) return Status::invalidArgument(std::string(what) + " is not a valid public key");
    out = *pk;
    return Status::ok();
}
}  // namespace

Bytes BlockHeader::encode() const {
    Writer w;
    w.u8(kVersion)
        .str(chainId)
        .u64(height)
        .u64(timeMs)
        .fixed(prevHash.bytes())
        .fixed(txRoot.bytes())
        .u32(txCount)
        .fixed(stateRoot.bytes())
        .fixed(proposer.bytes())
        .fixed(validatorSetHash.bytes())
        .fixed(nextValidatorSetHash.bytes());
    return std::move(w).take();
}

Result<BlockHeader> BlockHeader::decode(ByteView bytes) {
    Reader r(bytes);
    BlockHeader h;
    FIDES_RETURN_IF_ERROR(r.version(kVersion, "block header"));
    FIDES_RETURN_IF_ERROR(r.str(h.chainId, limits::kMaxChainIdLength));
    FIDES_RETURN_IF_ERROR(r.u64(h.height));
    FIDES_RETURN_IF_ERROR(r.u64(h.timeMs));
    FIDES_RETURN_IF_ERROR(readHash<32>(r, h.prevHash));
    FIDES_RETURN_IF_ERROR(readHash<32>(r, h.txRoot));
    FIDES_RETURN_IF_ERROR(r.u32(h.txCount));
    FIDES_RETURN_IF_ERROR(readHash<32>(r, h.stateRoot));
    FIDES_RETURN_IF_ERROR(readPublicKey(r, h.proposer, "proposer"));
    FIDES_RETURN_IF_ERROR(readHash<32>(r, h.validatorSetHash));
    FIDES_RETURN_IF_ERROR(readHash<32>(r, h.nextValidatorSetHash));
    FIDES_RETURN_IF_ERROR(r.finish());
    return h;
}

crypto::Hash256 BlockHeader::hash() const { return crypto::sha256(encode()); }

Bytes Commit::encode() const {
    Writer w;
    w.u8(kVersion).u64(height).u32(round).fixed(blockHash.bytes());
    w.u32(static_cast<std::uint32_t>(signatures.size()));
    for (const auto& s : signatures) w.fixed(s.validator.bytes()).fixed(s.signature.bytes());
    return std::move(w).take();
}

Result<Commit> Commit::decode(ByteView bytes) {
    Reader r(bytes);
    Commit c;
    FIDES_RETURN_IF_ERROR(r.version(kVersion, "commit"));
    FIDES_RETURN_IF_ERROR(r.u64(c.height));
    FIDES_RETURN_IF_ERROR(r.u32(c.round));
    FIDES_RETURN_IF_ERROR(readHash<32>(r, c.blockHash));
    std::uint32_t n = 0;
    FIDES_RETURN_IF_ERROR(r.u32(n));
    if (n > kMaxCommitSignatures) return Status::invalidArgument("too many commit signatures");
    c.signatures.resize(n);
    for (auto& s : c.signatures) {
        FIDES_RETURN_IF_ERROR(readPublicKey(r, s.validator, "commit validator"));
        std::array<std::uint8_t, 64> sig{};
        FIDES_RETURN_IF_ERROR(r.fixed(sig));
        s.signature = *crypto::Signature::fromBytes(sig);
    }
    FIDES_RETURN_IF_ERROR(r.finish());
    return c;
}

crypto::Hash256 precommitDigest(const std::string& chainId, std::uint64_t height, std::uint32_t round,
                                const crypto::Hash256& blockHash) {
    Writer w;
    w.u8(kPrecommitType).str(chainId).u64(height).u32(round).fixed(blockHash.bytes());
    return crypto::taggedHash(kVoteTag, w.bytes());
}

crypto::Hash256 Block::computeTxRoot(const std::vector<Bytes>& transactions) {
    std::vector<crypto::Hash256> leaves;
    leaves.reserve(transactions.size());
    for (const auto& tx : transactions) leaves.push_back(merkle::leafHash(tx));
    return merkle::rootFromLeafHashes(leaves);
}

Bytes Block::encodeBody(const std::vector<Bytes>& transactions) {
    std::size_t size = 4;
    for (const auto& tx : transactions) size += 4 + tx.size();
    Writer w;
    w.reserve(size).u32(static_cast<std::uint32_t>(transactions.size()));
    for (const auto& tx : transactions) w.var(tx);
    return std::move(w).take();
}

Result<std::vector<Bytes>> Block::decodeBody(ByteView bytes) {
    Reader r(bytes, limits::kMaxTransactionSize);
    std::uint32_t n = 0;
    FIDES_RETURN_IF_ERROR(r.u32(n));
    if (n > kMaxBlockTransactions) return Status::invalidArgument("too many transactions in block");
    // Each transaction takes at least its 4-byte length: a count the input
    // cannot hold is refused before anything is allocated for it.
    if (n > r.remaining() / 4) return Status::invalidArgument("block body: more transactions than bytes");
    std::vector<Bytes> txs(n);
    for (auto& tx : txs) FIDES_RETURN_IF_ERROR(r.var(tx));
    FIDES_RETURN_IF_ERROR(r.finish());
    return txs;
}

}  // namespace fides
