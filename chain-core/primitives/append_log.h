// Append logs: how an application keeps a list it must later hand out
// whole, with proof that nothing was left out (all ballots of an election,
// every access record about a citizen in a month). The list lives in the
// application's state under a base key of its choosing:
//   base || "/head"             -> merkle::Frontier of the items' leaf hashes
//   base || "/i/" || u64 index  -> the item (index 0, 1, …; never changed)
// The head commits to every item through its RFC 6962 root (leaf =
// merkle::leafHash(item)), so a client that holds a head proven against a
// signed header (a state proof) checks any listing of the items by
// recomputing that root: one proof for the whole list, however long, and
// the node looks items up by key, never by a scan. Writing: app/append_log.h;
// serving: Node::listLog and the ListLog RPC; spec: doc/spec/append-log.md.
//
// Thread-safety: pure functions; a ListingCheck belongs to one thread.
#pragma once

#include "primitives/merkle.h"

#include <cstdint>

namespace fides::applog {

inline constexpr std::size_t kMaxBaseLength = 512;

Bytes headKey(ByteView base);
Bytes itemKey(ByteView base, std::uint64_t index);

// Checks a listing against a head the caller has verified: feed the items
// in order from index 0 (page by page as they come), then finish().
class ListingCheck {
public:
    explicit ListingCheck(merkle::Frontier head) : m_head(std::move(head)) {}
    // INVALID_ARGUMENT for an item beyond the head's size.
    Status add(ByteView item);
    std::uint64_t fed() const { return m_seen.size(); }
    std::uint64_t size() const { return m_head.size(); }
    // OK iff exactly the head's items were fed, unchanged and in order;
    // FAILED_PRECONDITION when some are missing, UNAUTHENTICATED when their
    // root is not the head's (an item altered, left out or replaced).
    Status finish() const;

private:
    merkle::Frontier m_head;
    merkle::Frontier m_seen;
};

}  // namespace fides::applog
