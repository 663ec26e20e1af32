// Blocks: header, body (encoded transactions), and the commit that makes the
// block final. Canonical encodings: doc/spec/encoding.md.
//
// The block hash is SHA-256 of the encoded header. The header commits to the
// body through txRoot, the RFC 6962 Merkle root over the encoded
// transactions (primitives/merkle.h), and to the application state after the
// block through stateRoot (state/state_tree.h).
//
// Thread-safety: value types.
#pragma once

#include "crypto/hash.h"
#include "crypto/schnorr.h"
#include "util/bytes.h"
#include "util/status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fides {

namespace limits {
// Validity rules of a block, the same on every validator (never a local
// setting): a block with more transactions, or whose transactions together
// take more bytes, is invalid. A node's max_block_transactions and block
// byte budget only bound what it proposes, and may not exceed these.
inline constexpr std::size_t kMaxBlockTransactions = 20'000;
inline constexpr std::size_t kMaxBlockTxBytes = 32u << 20;
}  // namespace limits

struct BlockHeader {
    static constexpr std::uint8_t kVersion = 1;

    std::string chainId;
    std::uint64_t height = 0;
    std::uint64_t timeMs = 0;  // unix milliseconds, proposer's clock
    crypto::Hash256 prevHash;  // zero for height 1
    crypto::Hash256 txRoot;
    std::uint32_t txCount = 0;
    crypto::Hash256 stateRoot;
    crypto::PublicKey proposer;
    crypto::Hash256 validatorSetHash;      // the set that signs this block
    crypto::Hash256 nextValidatorSetHash;  // the set that signs the next one

    Bytes encode() const;
    static Result<BlockHeader> decode(ByteView bytes);
    crypto::Hash256 hash() const;
};

struct CommitSig {
    crypto::PublicKey validator;
    crypto::Signature signature;
};

// More than 2/3 of the voting power's precommits for one block; signatures
// are ordered by ascending validator key (ValidatorSet::verifyCommit refuses
// any other order), so a commit has exactly one encoding.
struct Commit {
    static constexpr std::uint8_t kVersion = 1;
    std::uint64_t height = 0;
    std::uint32_t round = 0;
    crypto::Hash256 blockHash;
    std::vector<CommitSig> signatures;

    Bytes encode() const;
    static Result<Commit> decode(ByteView bytes);
};

// The digest a validator signs to precommit `blockHash` at (height, round):
// taggedHash("fides/vote/v1", u8 type=2 || chainId || height || round || blockHash).
crypto::Hash256 precommitDigest(const std::string& chainId, std::uint64_t height, std::uint32_t round,
                                const crypto::Hash256& blockHash);

struct Block {
    BlockHeader header;
    std::vector<Bytes> transactions;  // canonical transaction encodings
    Commit commit;

    // RFC 6962 root over the transaction encodings.
    static crypto::Hash256 computeTxRoot(const std::vector<Bytes>& transactions);
    // Encoding of the body alone (how storage keeps it: one blob per block).
    static Bytes encodeBody(const std::vector<Bytes>& transactions);
    static Result<std::vector<Bytes>> decodeBody(ByteView bytes);
};

}  // namespace fides
