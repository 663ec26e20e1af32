// BlockStore: blocks, the transaction index and application state in one
// encrypted SQLCipher file (schema: doc/spec/storage.md). Each block is
// appended in one SQL transaction together with its state writes, so a crash
// at any moment leaves the store at the last fully committed block.
//
// Committed transaction hashes are also kept in a Bloom filter
// (storage/hash_filter.h), filled from the index at open: findTx answers
// "not committed" for a new transaction without an SQL read.
//
// Thread-safety: thread-safe. Appends are serialised on the writer
// connection; reads use a small pool of reader connections (WAL lets them
// run in parallel with each other and with a block being written) and see
// only committed blocks.
#pragma once

#include "crypto/hash.h"
#include "primitives/block.h"
#include "storage/hash_filter.h"
#include "storage/sqlcipher.h"
#include "util/status.h"

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace fides::storage {

struct StateWrite {
    Bytes key;
    Bytes value;
};

struct TxLocation {
    std::uint64_t height = 0;
    std::uint32_t index = 0;
};

class BlockStore {
public:
    // Opens or creates the store at `path`. `chainId` is recorded on creation
    // and checked on every later open.
    static Result<std::unique_ptr<BlockStore>> open(const std::string& path, const StoreKey& key,
                                                    const std::string& chainId);

    std::uint64_t height() const { return m_height.load(); }

    // Appends block height()+1 atomically with its transaction index rows
    // and state writes. `txHashes[i]` is the hash of block.transactions[i].
    Status append(const Block& block, const std::vector<crypto::Hash256>& txHashes,
                  const std::vector<StateWrite>& writes);

    Result<Block> block(std::uint64_t height) const;
    Result<std::optional<TxLocation>> findTx(const crypto::Hash256& txHash) const;
    Result<std::optional<Bytes>> getState(ByteView key) const;
    // Visits every state entry (used to rebuild the state tree at start).
    Status forEachState(const std::function<void(ByteView key, ByteView value)>& visit) const;
    // The filter in front of findTx (for figures and tests).
    const HashFilter& committedTxFilter() const { return m_committedTxs; }

    static constexpr std::size_t kReaders = 4;

private:
    struct Reader {
        std::mutex mutex;
        std::unique_ptr<Database> db;
        Statement selectBlock, selectTx, selectState;  // guarded by mutex
    };
    // Locks a free reader (or waits for one) for the caller's scope.
    class ReaderLease;
    ReaderLease lease() const;

    BlockStore() = default;
    std::unique_ptr<Database> m_writer;
    mutable std::mutex m_writeMutex;
    std::atomic<std::uint64_t> m_height{0};
    std::string m_chainId;
    Statement m_insertBlock, m_insertTx, m_updateState, m_insertState;  // guarded by m_writeMutex
    HashFilter m_committedTxs;  // inserted under m_writeMutex, before the block's COMMIT
    mutable std::array<Reader, kReaders> m_readers;
    mutable std::atomic<std::size_t> m_nextReader{0};
};

}  // namespace fides::storage
