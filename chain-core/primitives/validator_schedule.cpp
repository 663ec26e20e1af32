#include "primitives/validator_schedule.h"

#include <algorithm>

namespace fides {

ValidatorSchedule::ValidatorSchedule(ValidatorSet genesis) { m_sets.emplace(1, std::move(genesis)); }

ValidatorSet ValidatorSchedule::at(std::uint64_t height) const {
    std::lock_guard lock(m_mutex);
    auto it = m_sets.upper_bound(std::max<std::uint64_t>(height, 1));
    return std::prev(it)->second;
}

std::uint64_t ValidatorSchedule::lastChangeHeight() const {
    std::lock_guard lock(m_mutex);
    return m_sets.rbegin()->first;
}

Status ValidatorSchedule::add(std::uint64_t fromHeight, ValidatorSet set) {
    std::lock_guard lock(m_mutex);
    if (auto it = m_sets.find(fromHeight); it != m_sets.end()) {
        if (it->second.hash() == set.hash()) return Status::ok();
        return Status::failedPrecondition("a different validator set is already scheduled from height " +
                                          std::to_string(fromHeight));
    }
    if (fromHeight <= m_sets.rbegin()->first) {
        return Status::failedPrecondition("validator set changes must be scheduled in height order");
    }
    m_sets.emplace(fromHeight, std::move(set));
    return Status::ok();
}

bool ValidatorSchedule::everMember(const crypto::PublicKey& key) const {
    std::lock_guard lock(m_mutex);
    return std::any_of(m_sets.begin(), m_sets.end(), [&](const auto& e) { return e.second.find(key) != nullptr; });
}

std::vector<std::pair<std::uint64_t, ValidatorSet>> ValidatorSchedule::entries() const {
    std::lock_guard lock(m_mutex);
    return {m_sets.begin(), m_sets.end()};
}

Bytes ValidatorSchedule::stateKey(std::uint64_t fromHeight) {
    Bytes key(kStatePrefix.begin(), kStatePrefix.end());
    for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<std::uint8_t>(fromHeight >> shift));
    return key;
}

std::optional<std::uint64_t> ValidatorSchedule::parseStateKey(ByteView key) {
    if (key.size() != kStatePrefix.size() + 8) return std::nullopt;
    if (!std::equal(kStatePrefix.begin(), kStatePrefix.end(), key.begin())) return std::nullopt;
    std::uint64_t h = 0;
    for (std::size_t i = kStatePrefix.size(); i < key.size(); ++i) h = (h << 8) | key[i];
    return h;
}

}  // namespace fides
