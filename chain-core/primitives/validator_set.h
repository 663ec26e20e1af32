// The validator set: who may sign blocks, and with what voting power.
// Sorted by public key; its hash (SHA-256 of the canonical encoding) is in
// every block header. verifyCommit is the check a light client makes.
//
// Thread-safety: a value type.
#pragma once

#include "crypto/hash.h"
#include "crypto/schnorr.h"
#include "util/status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fides {

struct Commit;
struct CommitSig;

struct Validator {
    crypto::PublicKey publicKey;
    std::uint64_t power = 0;
    std::string name;
};

class ValidatorSet {
public:
    ValidatorSet() = default;
    // Refuses an empty set, zero power, duplicate keys, total power overflow,
    // more than kMaxValidators members.
    static Result<ValidatorSet> create(std::vector<Validator> validators);

    const std::vector<Validator>& validators() const { return m_validators; }
    std::uint64_t totalPower() const { return m_total; }
    const Validator* find(const crypto::PublicKey& key) const;
    crypto::Hash256 hash() const { return m_hash; }
    // Consensus encoding (hashed): u32 count, then per member key || u64 power.
    Bytes encode() const;
    // With the operators' names (state entries, RPC): u8 version, u32 count,
    // then per member key || u64 power || name. Strict decoding; the result
    // passes create()'s checks and at most kMaxValidators members.
    Bytes encodeFull() const;
    static Result<ValidatorSet> decodeFull(ByteView bytes);
    static constexpr std::size_t kMaxValidators = 128;
    static constexpr std::size_t kMaxNameLength = 64;

    // The quorum rule: more than 2/3 of the total power.
    bool isQuorum(std::uint64_t power) const { return power * 3 > m_total * 2; }
    // The least power that is a quorum.
    std::uint64_t quorumPower() const { return m_total * 2 / 3 + 1; }
    // Checks signatures of `digest` by members, in strictly ascending key
    // order (so no member twice), and returns the power that signed.
    // `what` names them in errors ("commit", "approval"): INVALID_ARGUMENT
    // for the order, UNAUTHENTICATED for a non-member or a bad signature.
    Result<std::uint64_t> signedPower(const crypto::Hash256& digest, const std::vector<CommitSig>& signatures,
                                      const char* what) const;

    // OK iff `commit` is for (chainId, height, blockHash) and carries valid
    // precommit signatures from distinct members holding more than 2/3 of
    // the total power. Reports the signed power through `signedPowerOut`.
    Status verifyCommit(const std::string& chainId, std::uint64_t height, const crypto::Hash256& blockHash,
                        const Commit& commit, std::uint64_t* signedPowerOut = nullptr) const;

private:
    std::vector<Validator> m_validators;
    std::uint64_t m_total = 0;
    crypto::Hash256 m_hash;
};

}  // namespace fides
