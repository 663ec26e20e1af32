// MemoryState and MemoryChain: an application's logic run without a node,
// a store or a state tree, as unit tests and offline tools need it (a
// verifier can replay an election's transactions through the application's
// own code, in memory).
//
// MemoryState is committed state in a map. MemoryChain runs blocks through
// an AppSet exactly as the node executes them (app::BlockExecution: hooks,
// deliverTx in the type's application's prefix, writes undone on failure)
// and applies their writes; it does not check signatures, expiry or replay,
// which are the node's checks before an application sees a transaction.
//
// Thread-safety: none; one thread at a time.
#pragma once

#include "app/app_set.h"

#include <map>
#include <memory>

namespace fides::app {

class MemoryState final : public StateReader {
public:
    Result<std::optional<Bytes>> get(ByteView key) const override;
    void put(ByteView key, Bytes value) {
        m_entries.insert_or_assign(Bytes(key.begin(), key.end()), std::move(value));
    }
    void erase(ByteView key) { m_entries.erase(Bytes(key.begin(), key.end())); }
    // Applies a block's staged writes (nullopt erases).
    void apply(StagedState::Writes writes);
    // Every entry, in key order.
    const std::map<Bytes, Bytes>& entries() const { return m_entries; }

private:
    std::map<Bytes, Bytes> m_entries;
};

class MemoryChain {
public:
    // The chain of `genesis` running `apps` (and nothing else: the node's
    // built-in applications are added only if the caller passes them).
    static Result<MemoryChain> make(Genesis genesis, std::vector<std::unique_ptr<Application>> apps);

    // What the node's admission asks of the transaction's application.
    Status checkTx(const Transaction& tx) const;

    struct BlockResult {
        std::uint64_t height = 0;
        std::vector<Status> txs;  // each transaction's deliverTx status, in order
    };
    // Runs and commits the next block at `timeMs` (after the previous
    // block's time). Failing transactions are left out, as a proposer
    // leaves them out; a failing hook fails the block and changes nothing.
    Result<BlockResult> runBlock(std::uint64_t timeMs, const std::vector<Transaction>& txs);

    std::uint64_t height() const { return m_height; }
    std::uint64_t timeMs() const { return m_timeMs; }
    const MemoryState& state() const { return *m_state; }
    const ValidatorSchedule& validators() const { return *m_schedule; }
    const AppSet& apps() const { return m_apps; }

private:
    MemoryChain() = default;
    Genesis m_genesis;
    AppSet m_apps;
    std::unique_ptr<MemoryState> m_state;           // stable address for the apps' readers
    std::unique_ptr<ValidatorSchedule> m_schedule;  // likewise
    std::uint64_t m_height = 0;
    std::uint64_t m_timeMs = 0;
};

}  // namespace fides::app
