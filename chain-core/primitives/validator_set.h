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

    // OK iff `commit` is for (chainId, height, blockHash) and carries valid
    // precommit signatures from distinct members holding more than 2/3 of
    // the total power. Reports the signed power through `signedPower`.
    Status verifyCommit(const std::string& chainId, std::uint64_t height,
                        const crypto::Hash256& blockHash, const Commit& commit,
                        std::uint64_t* signedPower = nullptr) const;

private:
    std::vector<Validator> m_validators;
    std::uint64_t m_total = 0;
    crypto::Hash256 m_hash;
};

}  // namespace fides
