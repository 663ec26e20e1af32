// BlockStore: blocks, the transaction index and application state in one
// encrypted SQLCipher file (schema: doc/spec/storage.md). Each block is
// appended in one SQL transaction (its row, its writes blob and one bucket's
// merge, below), so a crash at any moment leaves the store at the last fully
// committed block, with every row of it in the tables or recoverable.
//
// The index and state tables are ordered by hash and split into kBuckets
// ranges of equal width (ADR 0017). A block's index rows and state writes
// are kept in memory (and its writes, encoded, in a `recent_writes` row)
// until their bucket's turn: block h merges bucket h mod kBuckets, with
// every pending row of that range, into the tables. Each page of a table is
// then written about once per kBuckets blocks instead of once per block,
// and every block merges the same share. Reads consult the pending rows
// first; open() rebuilds them from the last blocks.
//
// Committed transaction hashes are also kept in a Bloom filter
// (storage/hash_filter.h), filled from the index and the pending rows at
// open: findTx answers "not committed" for a new transaction without an SQL
// read.
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
#include <shared_mutex>
#include <string>
#include <vector>

namespace fides::storage {

// One key's new value, or its erasure. The key's hash, SHA-256(key), is
// computed once here and used by every consumer: the state tree's path, the
// written-key filter and the store's bucket and row key. Change `key` only
// by making a new StateWrite.
struct StateWrite {
    StateWrite(Bytes k, Bytes v) : key(std::move(k)), value(std::move(v)), keyHash(crypto::sha256(key)) {}
    static StateWrite erasure(Bytes k) {
        StateWrite w(std::move(k), {});
        w.erased = true;
        return w;
    }
    Bytes key;
    Bytes value;  // empty when erased
    crypto::Hash256 keyHash;
    bool erased = false;  // the key is removed from the state
    // A hint: true when the writer knows the key has never been stored (the
    // node's filter of written keys has never seen it), so that the store
    // inserts its row without first trying to update one. false: unknown.
    // A wrong `true` costs a failed insert, then the update.
    bool created = false;
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
    // and state writes. `txHashes[i]` must be txHash(block.transactions[i]):
    // the store trusts it (a reopen recomputes it from the body).
    Status append(const Block& block, const std::vector<crypto::Hash256>& txHashes,
                  std::vector<StateWrite> writes);

    Result<Block> block(std::uint64_t height) const;
    Result<std::optional<TxLocation>> findTx(const crypto::Hash256& txHash) const;
    Result<std::optional<Bytes>> getState(ByteView key) const;
    // Visits every state entry with its key hash as stored, SHA-256(key)
    // (used to rebuild the state tree and the written-key filter at start).
    Status forEachState(
        const std::function<void(const crypto::Hash256& keyHash, ByteView key, ByteView value)>& visit) const;
    // The filter in front of findTx (for figures and tests).
    const HashFilter& committedTxFilter() const { return m_committedTxs; }

    static constexpr std::size_t kReaders = 4;
    // Ranges of key and transaction hashes merged in turn (ADR 0017).
    static constexpr std::size_t kBuckets = 16;
    static std::size_t bucketOf(const crypto::Hash256& h) { return h.data()[0] >> 4; }
    // Rows not merged into the tables yet (for figures and tests).
    std::size_t pendingRows() const;

private:
    struct PendingWrite {
        Bytes key;
        Bytes value;
        std::uint64_t height = 0;
        bool created = false;  // StateWrite::created of the key's first pending write
        bool erased = false;   // the latest pending write removes the key
    };
    struct Bucket {
        crypto::Hash256Map<PendingWrite> state;  // by key hash
        crypto::Hash256Map<TxLocation> txs;
    };
    // The block whose append merges the bucket into the tables: the first
    // height at or after `height` whose turn it is.
    static std::uint64_t mergeHeight(std::uint64_t height, std::size_t bucket);
    Status migrateFromVersion1(Database& w, std::uint64_t height);
    Status loadPending();
    Status mergeBucket(std::size_t bucket, std::uint64_t height, const std::vector<crypto::Hash256>& txHashes,
                       const std::vector<StateWrite>& writes);

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
    Statement m_insertBlock, m_insertTx, m_updateState, m_insertState, m_deleteState, m_insertWrites,
        m_deleteWrites;  // guarded by m_writeMutex
    // Heights up to m_bucketsFrom were stored before the buckets (a store
    // migrated from schema 1): their rows are all in the tables.
    std::uint64_t m_bucketsFrom = 0;
    // Changed by the writer (under m_writeMutex) after its COMMIT.
    mutable std::shared_mutex m_pendingMutex;
    std::array<Bucket, kBuckets> m_pending;
    HashFilter m_committedTxs;  // inserted under m_writeMutex, before the block's COMMIT
    mutable std::array<Reader, kReaders> m_readers;
    mutable std::atomic<std::size_t> m_nextReader{0};
};

}  // namespace fides::storage
