#include "primitives/validator_schedule.h"

#include "util/encoding.h"

#include <algorithm>

namespace fides {

ValidatorSchedule::ValidatorSchedule(ValidatorSet genesis) {
    m_sets.emplace(1, std::make_shared<const ValidatorSet>(std::move(genesis)));
}

ValidatorSchedule::SetPtr ValidatorSchedule::at(std::uint64_t height) const {
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
        if (it->second->hash() == set.hash()) return Status::ok();
        return Status::failedPrecondition("a different validator set is already scheduled from height " +
                                          std::to_string(fromHeight));
    }
    if (fromHeight <= m_sets.rbegin()->first) {
        return Status::failedPrecondition("validator set changes must be scheduled in height order");
    }
    m_sets.emplace(fromHeight, std::make_shared<const ValidatorSet>(std::move(set)));
    return Status::ok();
}

bool ValidatorSchedule::everMember(const crypto::PublicKey& key) const {
    std::lock_guard lock(m_mutex);
    return std::any_of(m_sets.begin(), m_sets.end(),
                       [&](const auto& e) { return e.second->find(key) != nullptr; });
}

std::vector<std::pair<std::uint64_t, ValidatorSchedule::SetPtr>> ValidatorSchedule::entries() const {
    std::lock_guard lock(m_mutex);
    return {m_sets.begin(), m_sets.end()};
}

Bytes ValidatorSchedule::stateKey(std::uint64_t fromHeight) {
    Writer w;
    w.fixed(asBytes(kStatePrefix)).u64(fromHeight);
    return std::move(w).take();
}

std::optional<std::uint64_t> ValidatorSchedule::parseStateKey(ByteView key) {
    if (key.size() != kStatePrefix.size() + 8) return std::nullopt;
    if (!std::equal(kStatePrefix.begin(), kStatePrefix.end(), key.begin())) return std::nullopt;
    Reader r(key.subspan(kStatePrefix.size()));
    std::uint64_t h = 0;
    if (!r.u64(h)) return std::nullopt;
    return h;
}

}  // namespace fides
