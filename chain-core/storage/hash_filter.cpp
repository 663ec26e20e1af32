#include "storage/hash_filter.h"

#include <cstring>
#include <vector>

namespace fides::storage {

struct HashFilter::Level {
    explicit Level(unsigned log2Bits)
        : mask((std::uint64_t{1} << log2Bits) - 1), capacity((std::uint64_t{1} << log2Bits) / kBitsPerEntry),
          words(std::size_t{1} << (log2Bits - 6)) {}
    const std::uint64_t mask;
    const std::uint64_t capacity;
    std::vector<std::atomic<std::uint64_t>> words;
};

namespace {
// Probe i: 32-bit word i of the hash, extended with word 7 so that levels
// beyond 2^32 bits still spread.
std::uint64_t probe(const crypto::Hash256& h, unsigned i) {
    std::uint32_t a = 0;
    std::uint32_t b = 0;
    std::memcpy(&a, h.data() + 4 * i, 4);
    std::memcpy(&b, h.data() + 28, 4);
    return (static_cast<std::uint64_t>(b) << 32 | a);
}
}  // namespace

HashFilter::HashFilter() {
    m_level[0] = std::make_unique<Level>(kFirstLevelBits);
    m_levels.store(1, std::memory_order_release);
}

HashFilter::~HashFilter() = default;

void HashFilter::insert(const crypto::Hash256& h) {
    std::size_t n = m_levels.load(std::memory_order_relaxed);
    if (m_inLast >= m_level[n - 1]->capacity && n < kMaxLevels) {
        m_level[n] = std::make_unique<Level>(kFirstLevelBits + static_cast<unsigned>(n));
        m_levels.store(++n, std::memory_order_release);
        m_inLast = 0;
    }
    Level& l = *m_level[n - 1];
    for (unsigned i = 0; i < kProbes; ++i) {
        const std::uint64_t bit = probe(h, i) & l.mask;
        l.words[bit >> 6].fetch_or(std::uint64_t{1} << (bit & 63), std::memory_order_relaxed);
    }
    ++m_inLast;
    m_inserted.fetch_add(1, std::memory_order_relaxed);
}

bool HashFilter::mayContain(const crypto::Hash256& h) const {
    const std::size_t n = m_levels.load(std::memory_order_acquire);
    for (std::size_t k = 0; k < n; ++k) {
        const Level& l = *m_level[k];
        bool all = true;
        for (unsigned i = 0; i < kProbes && all; ++i) {
            const std::uint64_t bit = probe(h, i) & l.mask;
            all = (l.words[bit >> 6].load(std::memory_order_relaxed) >> (bit & 63) & 1) != 0;
        }
        if (all) return true;
    }
    return false;
}

std::size_t HashFilter::memoryBytes() const {
    std::size_t total = 0;
    const std::size_t n = m_levels.load(std::memory_order_acquire);
    for (std::size_t k = 0; k < n; ++k) total += m_level[k]->words.size() * sizeof(std::uint64_t);
    return total;
}

}  // namespace fides::storage
