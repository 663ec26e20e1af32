#include "primitives/append_log.h"

#include "util/encoding.h"

namespace fides::applog {

Bytes headKey(ByteView base) {
    Bytes k(base.begin(), base.end());
    const ByteView suffix = asBytes("/head");
    k.insert(k.end(), suffix.begin(), suffix.end());
    return k;
}

Bytes itemKey(ByteView base, std::uint64_t index) {
    Writer w;
    w.fixed(base).fixed(asBytes("/i/")).u64(index);
    return std::move(w).take();
}

Status ListingCheck::add(ByteView item) {
    if (m_seen.size() >= m_head.size()) {
        return Status::invalidArgument("the listing has more items than the log's " +
                                       std::to_string(m_head.size()));
    }
    m_seen.append(merkle::leafHash(item));
    return Status::ok();
}

Status ListingCheck::finish() const {
    if (m_seen.size() != m_head.size()) {
        return Status::failedPrecondition("the listing has " + std::to_string(m_seen.size()) +
                                          " of the log's " + std::to_string(m_head.size()) + " items");
    }
    if (!(m_seen.root() == m_head.root())) {
        return Status::unauthenticated(
            "the listed items are not the log's: their root differs from the proven head");
    }
    return Status::ok();
}

}  // namespace fides::applog
