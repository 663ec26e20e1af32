// ValidatorSchedule: which validator set signs each height.
//
// The genesis set holds from height 1. A governance transaction committed in
// block H (consensus/governance.h) schedules a new set from height
// H + kActivationDelay; every node computes the same height from the block
// alone. Two heights of delay mean that while a validator works on height h
// it already knows the sets of h and h + 1, so it can check the messages of
// the next height that arrive early, and header h can name the next height's
// set (BlockHeader::nextValidatorSetHash) before h's transactions run.
//
// The schedule lives in the application state, so it is covered by the
// state root and provable: key stateKey(from) -> ValidatorSet::encodeFull().
// A node rebuilds its schedule from those entries when it opens.
//
// Thread-safety: thread-safe (readers copy out under a mutex).
#pragma once

#include "primitives/validator_set.h"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace fides {

class ValidatorSchedule {
public:
    static constexpr std::uint64_t kActivationDelay = 2;
    static constexpr std::string_view kStatePrefix = "fides/validator-set/";

    explicit ValidatorSchedule(ValidatorSet genesis);

    using SetPtr = std::shared_ptr<const ValidatorSet>;
    // The set that signs `height` (>= 1). Sets are immutable and shared, so
    // holding one costs no copy.
    SetPtr at(std::uint64_t height) const;
    // The first height of the latest scheduled set (1 for genesis).
    std::uint64_t lastChangeHeight() const;
    // Schedules `set` from `fromHeight`, which must lie after every height
    // already scheduled. Re-adding an identical entry is a no-op.
    Status add(std::uint64_t fromHeight, ValidatorSet set);
    // Whether `key` is a member of any set ever scheduled (peers may connect).
    bool everMember(const crypto::PublicKey& key) const;
    // Every entry, in height order (genesis first, from height 1).
    std::vector<std::pair<std::uint64_t, SetPtr>> entries() const;

    // "fides/validator-set/" || u64 fromHeight (encoding.md §1: big-endian).
    static Bytes stateKey(std::uint64_t fromHeight);
    static std::optional<std::uint64_t> parseStateKey(ByteView key);

private:
    mutable std::mutex m_mutex;
    std::map<std::uint64_t, SetPtr> m_sets;  // fromHeight -> set
};

}  // namespace fides
