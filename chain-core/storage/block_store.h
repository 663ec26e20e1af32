// BlockStore: blocks, the transaction index and application state in one
// encrypted SQLCipher file (schema: doc/spec/storage.md). Each block is
// appended in one SQL transaction together with its state writes, so a crash
// at any moment leaves the store at the last fully committed block.
//
// Thread-safety: thread-safe. Appends are serialised on the writer
// connection; reads use a separate reader connection (WAL lets them run
// while a block is being written) and see only committed blocks.
#pragma once

#include "crypto/hash.h"
#include "primitives/block.h"
#include "storage/sqlcipher.h"
#include "util/status.h"

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
    Result<BlockHeader> header(std::uint64_t height) const;
    Result<std::optional<TxLocation>> findTx(const crypto::Hash256& txHash) const;
    Result<std::optional<Bytes>> getState(ByteView key) const;
    // Visits every state entry (used to rebuild the state tree at start).
    Status forEachState(const std::function<void(ByteView key, ByteView value)>& visit) const;

private:
    BlockStore() = default;
    std::unique_ptr<Database> m_writer;
    std::unique_ptr<Database> m_reader;
    mutable std::mutex m_writeMutex;
    mutable std::mutex m_readMutex;
    std::atomic<std::uint64_t> m_height{0};
    std::string m_chainId;
    // Prepared statements, guarded by the mutex of their connection.
    Statement m_insertBlock, m_insertTx, m_upsertState;
    mutable Statement m_selectBlock, m_selectTx, m_selectState;
};

}  // namespace fides::storage
