#include "primitives/validator_set.h"

#include "primitives/block.h"
#include "util/encoding.h"

#include <algorithm>
#include <array>

namespace fides {

Result<ValidatorSet> ValidatorSet::create(std::vector<Validator> validators) {
    if (validators.empty()) return Status::invalidArgument("validator set is empty");
    if (validators.size() > kMaxValidators) {
        return Status::invalidArgument("validator set has more than " + std::to_string(kMaxValidators) +
                                       " members");
    }
    std::sort(validators.begin(), validators.end(),
              [](const Validator& a, const Validator& b) { return a.publicKey < b.publicKey; });
    ValidatorSet set;
    for (std::size_t i = 0; i < validators.size(); ++i) {
        const auto& v = validators[i];
        if (v.power == 0) return Status::invalidArgument("validator " + v.name + " has zero power");
        if (v.name.size() > kMaxNameLength) {
            return Status::invalidArgument("validator name '" + v.name + "' is longer than " +
                                           std::to_string(kMaxNameLength) + " characters");
        }
        if (i > 0 && validators[i - 1].publicKey == v.publicKey) {
            return Status::invalidArgument("duplicate validator key " + v.publicKey.hex());
        }
        constexpr std::uint64_t kMaxTotal = std::uint64_t{1} << 62;
        if (v.power > kMaxTotal || set.m_total > kMaxTotal - v.power) {
            return Status::invalidArgument("total voting power overflows");
        }
        set.m_total += v.power;
    }
    set.m_validators = std::move(validators);
    set.m_hash = crypto::sha256(set.encode());
    return set;
}

const Validator* ValidatorSet::find(const crypto::PublicKey& key) const {
    auto it =
        std::lower_bound(m_validators.begin(), m_validators.end(), key,
                         [](const Validator& v, const crypto::PublicKey& k) { return v.publicKey < k; });
    if (it == m_validators.end() || it->publicKey != key) return nullptr;
    return &*it;
}

Bytes ValidatorSet::encode() const {
    // Names are operator labels, not consensus data: they are not hashed.
    Writer w;
    w.u32(static_cast<std::uint32_t>(m_validators.size()));
    for (const auto& v : m_validators) w.fixed(v.publicKey.bytes()).u64(v.power);
    return std::move(w).take();
}

Bytes ValidatorSet::encodeFull() const {
    Writer w;
    w.u8(1).u32(static_cast<std::uint32_t>(m_validators.size()));
    for (const auto& v : m_validators) w.fixed(v.publicKey.bytes()).u64(v.power).str(v.name);
    return std::move(w).take();
}

Result<ValidatorSet> ValidatorSet::decodeFull(ByteView bytes) {
    Reader r(bytes);
    FIDES_RETURN_IF_ERROR(r.version(1, "validator set"));
    std::uint32_t n = 0;
    FIDES_RETURN_IF_ERROR(r.u32(n));
    if (n == 0 || n > kMaxValidators) return Status::invalidArgument("validator set size out of range");
    std::vector<Validator> vs(n);
    for (auto& v : vs) {
        std::array<std::uint8_t, 32> key{};
        FIDES_RETURN_IF_ERROR(r.fixed(key));
        auto pk = crypto::PublicKey::fromBytes(key);
        if (!pk) return Status::invalidArgument("validator set holds an invalid public key");
        v.publicKey = *pk;
        FIDES_RETURN_IF_ERROR(r.u64(v.power));
        FIDES_RETURN_IF_ERROR(r.str(v.name, kMaxNameLength));
    }
    FIDES_RETURN_IF_ERROR(r.finish());
    FIDES_ASSIGN_OR_RETURN(ValidatorSet set, create(std::move(vs)));
    // Members must already be in key order: one encoding per set.
    if (set.encodeFull() != Bytes(bytes.begin(), bytes.end())) {
        return Status::invalidArgument("validator set members are not in key order");
    }
    return set;
}

Result<std::uint64_t> ValidatorSet::signedPower(const crypto::Hash256& digest,
                                                const std::vector<CommitSig>& signatures,
                                                const char* what) const {
    std::uint64_t power = 0;
    const crypto::PublicKey* previous = nullptr;
    for (const auto& s : signatures) {
        // Strictly ascending keys: no duplicates, and one encoding per list.
        if (previous != nullptr && !(*previous < s.validator)) {
            return Status::invalidArgument(
                std::string(what) +
                " signatures must be in ascending validator key order, without duplicates");
        }
        previous = &s.validator;
        const Validator* v = find(s.validator);
        if (v == nullptr) {
            return Status::unauthenticated(std::string(what) + " signed by " + s.validator.hex() +
                                           ", which is not in the validator set");
        }
        if (!crypto::verify(s.validator, digest, s.signature)) {
            return Status::unauthenticated("invalid " + std::string(what) + " signature by " +
                                           s.validator.hex());
        }
        power += v->power;
    }
    return power;
}

Status ValidatorSet::verifyCommit(const std::string& chainId, std::uint64_t height,
                                  const crypto::Hash256& blockHash, const Commit& commit,
                                  std::uint64_t* signedPowerOut) const {
    if (commit.height != height) {
        return Status::invalidArgument("commit is for height " + std::to_string(commit.height) +
                                       ", expected " + std::to_string(height));
    }
    if (commit.blockHash != blockHash) {
        return Status::invalidArgument("commit is for another block");
    }
    FIDES_ASSIGN_OR_RETURN(
        const std::uint64_t power,
        signedPower(precommitDigest(chainId, height, commit.round, blockHash), commit.signatures, "commit"));
    if (signedPowerOut != nullptr) *signedPowerOut = power;
    if (!isQuorum(power)) {
        return Status::unauthenticated("commit carries " + std::to_string(power) + " of " +
                                       std::to_string(m_total) + " voting power, more than 2/3 is required");
    }
    return Status::ok();
}

}  // namespace fides
