// The consensus write-ahead log: one file per height (wal-<height>.log),
// a sequence of records
//     u32 length (big-endian) | first 8 bytes of SHA-256(payload) | payload
// with payload = u8 kind || body (doc/spec/consensus.md). It holds the
// engine's inputs (proposals, votes, timeouts), the values this node
// proposed, and the messages it signed. Replaying the inputs into the
// deterministic engine restores its state after a restart, locks included;
// the signed messages let the signer refuse anything that conflicts.
//
// Durability: append() writes without syncing; sync() makes everything
// written so far durable. A validator syncs after appending its own
// signed message and before that message leaves the process, so a record
// that is not durable was never sent.
//
// Opening: a torn tail (an incomplete last record, or a last record whose
// checksum fails) is cut off, since by the rule above it was never sent. A
// bad record with valid data after it is not a torn write: opening fails
// with DATA_LOSS and names `fides-node wal-repair`, which cuts the log at
// the first bad record (repair()).
//
// Thread-safety: not thread-safe; owned by the consensus thread.
#pragma once

#include "util/bytes.h"
#include "util/status.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace fides::consensus {

enum class WalKind : std::uint8_t {
    HeightStart = 1,  // body: u64 height
    ProposalIn = 2,   // body: SignedProposal
    VoteIn = 3,       // body: SignedVote
    TimeoutIn = 4,    // body: u64 height, u32 round, u8 step
    OwnValue = 5,     // body: 32-byte id, var data (what getValue returned)
    OwnProposal = 6,  // body: SignedProposal
    OwnVote = 7,      // body: SignedVote
    Verdict = 8,      // body: 32-byte value id, u8 1 if valid (what the valid hook answered)
};

struct WalRecord {
    WalKind kind = WalKind::HeightStart;
    Bytes body;
};

struct WalOpenReport {
    std::vector<WalRecord> records;
    std::uint64_t droppedTailBytes = 0;  // > 0: a torn tail was cut off
};

class Wal {
public:
    static constexpr std::uint32_t kMaxRecordBytes = 64u << 20;

    // Opens (creating) the log of `height` in `dir` and reads it.
    static Result<std::unique_ptr<Wal>> open(const std::string& dir, std::uint64_t height,
                                             WalOpenReport* report);
    // Cuts the log of `height` at its first bad record; returns the bytes removed.
    static Result<std::uint64_t> repair(const std::string& dir, std::uint64_t height);
    // Deletes the logs of heights below `height`.
    static Status pruneBelow(const std::string& dir, std::uint64_t height);
    // The heights of the logs in `dir` (unordered; empty if none).
    static std::vector<std::uint64_t> heights(const std::string& dir);
    static std::string pathFor(const std::string& dir, std::uint64_t height);

    ~Wal();
    Wal(const Wal&) = delete;
    Wal& operator=(const Wal&) = delete;

    Status append(WalKind kind, ByteView body);
    Status sync();
    std::uint64_t height() const { return m_height; }

private:
    Wal(int fd, std::uint64_t height, std::string path)
        : m_fd(fd), m_height(height), m_path(std::move(path)) {}
    int m_fd;
    std::uint64_t m_height;
    std::string m_path;
};

}  // namespace fides::consensus
