#include "storage/hash_filter.h"

#include <array>
#include <cstring>
#include <vector>

namespace fides::storage {

// A level is an array of 512-bit blocks, each one cache line: a hash's probes
// all fall in one block, so a look-up or an insert touches one line.
struct HashFilter::Level {
    struct alignas(64) Block {
        std::array<std::atomic<std::uint64_t>, 8> words{};
    };
    explicit Level(unsigned log2Bits)
        : blockMask((std::uint64_t{1} << (log2Bits - 9)) - 1),
          capacity((std::uint64_t{1} << log2Bits) / kBitsPerEntry),
          blocks(std::size_t{1} << (log2Bits - 9)) {}
    const std::uint64_t blockMask;
    const std::uint64_t capacity;
    std::vector<Block> blocks;
};

namespace {
// The block: 32-bit words 0 and 7 of the hash (so that levels beyond 2^41
// bits still spread). The bits in it: seven 9-bit slices of words 1 and 2.
struct Probes {
    std::uint64_t block;
    std::uint64_t bits;
};
Probes probesOf(const crypto::Hash256& h) {
    std::uint32_t a = 0;
    std::uint32_t b = 0;
    std::uint64_t bits = 0;
    std::memcpy(&a, h.data(), 4);
    std::memcpy(&b, h.data() + 28, 4);
    std::memcpy(&bits, h.data() + 4, 8);
    return {static_cast<std::uint64_t>(b) << 32 | a, bits};
}
// Probe i's bit within the block.
unsigned bitOf(const Probes& p, unsigned i) { return static_cast<unsigned>((p.bits >> (9 * i)) & 511); }
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
    const Probes p = probesOf(h);
    auto& block = l.blocks[p.block & l.blockMask];
    std::array<std::uint64_t, 8> set{};
    for (unsigned i = 0; i < kProbes; ++i) {
        const unsigned bit = bitOf(p, i);
        set[bit >> 6] |= std::uint64_t{1} << (bit & 63);
    }
    for (std::size_t w = 0; w < set.size(); ++w) {
        if (set[w] != 0) block.words[w].fetch_or(set[w], std::memory_order_relaxed);
    }
    ++m_inLast;
    m_inserted.fetch_add(1, std::memory_order_relaxed);
}

bool HashFilter::mayContain(const crypto::Hash256& h) const {
    const Probes p = probesOf(h);
    const std::size_t n = m_levels.load(std::memory_order_acquire);
    for (std::size_t k = 0; k < n; ++k) {
        const Level& l = *m_level[k];
        const auto& block = l.blocks[p.block & l.blockMask];
        bool all = true;
        for (unsigned i = 0; i < kProbes && all; ++i) {
            const unsigned bit = bitOf(p, i);
            all = (block.words[bit >> 6].load(std::memory_order_relaxed) >> (bit & 63) & 1) != 0;
        }
        if (all) return true;
    }
    return false;
}

std::size_t HashFilter::memoryBytes() const {
    std::size_t total = 0;
    const std::size_t n = m_levels.load(std::memory_order_acquire);
    for (std::size_t k = 0; k < n; ++k) total += m_level[k]->blocks.size() * sizeof(Level::Block);
    return total;
}

}  // namespace fides::storage
