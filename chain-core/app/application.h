// The application interface: how chain-core runs an application
// (notarisation today; elections and the access log next) without knowing
// anything about it, much like ABCI's BaseApplication (ADR 0023). chain-core
// owns consensus, storage and the state tree; an application declares the
// transaction types it handles and the state-key prefix it alone writes, and
// decides which transactions are valid and what they write.
//
//   txTypes      the transaction types it handles; a node refuses to start
//                with two applications declaring one type (doc/spec/tx-types.md).
//   statePrefix  every key it writes starts with it; no application's prefix
//                is a prefix of another's. Writes outside it are refused.
//   checkTx      before mempool admission; the signature is already
//                verified. May read committed state; must not write.
//   initChain    once, at the start of block 1 (default: nothing).
//   beginBlock   at the start of every block, before its transactions,
//                also of blocks without any (default: nothing). An election
//                opens and closes here, by block time.
//   deliverTx    deterministic state transition for one transaction of a
//                block. A non-OK status excludes the transaction from the
//                block and undoes its writes.
//   endBlock     after the block's transactions (default: nothing). A tally
//                runs here as a state transition.
//   committed    after a block is durable, and once when the node opens
//                (default: nothing); for caches that checkTx reads.
//   nextDeadline the earliest block time at which it needs a block even if
//                no transaction comes (an election's close), so that an idle
//                chain still makes that block on time (default: none).
//   (commit)     chain-core writes the block's state entries into the state
//                tree, whose root goes into the header, and stores them.
//   (query)      chain-core answers any state key with a proof against the
//                root; applications publish how their keys are formed.
//
// Hooks and deliverTx must be deterministic: every validator runs them on
// the same state and block and must reach the same writes. A hook that fails
// makes the block impossible to build or validate, so hooks fail only when
// state cannot be read.
//
// Reads are not restricted: an application may read every key (elections
// read the authorities governance admitted).
//
// Thread-safety: checkTx may be called from many threads at once (it must be
// const and re-entrant); the hooks, deliverTx, committed and nextDeadlineMs
// are called from the block producer or consensus thread only, never
// concurrently with each other, but concurrently with checkTx: whatever
// committed() updates for checkTx to read must be synchronised (an atomic,
// a mutex), as GovernanceApp's committed height is.
#pragma once

#include "crypto/hash.h"
#include "primitives/genesis.h"
#include "primitives/transaction.h"
#include "primitives/validator_schedule.h"
#include "util/bytes.h"
#include "util/status.h"

#include <absl/container/flat_hash_map.h>
#include <absl/hash/hash.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fides::app {

// Read access to committed (durable) state.
class StateReader {
public:
    virtual ~StateReader() = default;
    virtual Result<std::optional<Bytes>> get(ByteView key) const = 0;
    // Whether a key is present. Implementations answer from the in-memory
    // state tree where they can, which is much cheaper than get().
    virtual Result<bool> exists(ByteView key) const {
        FIDES_ASSIGN_OR_RETURN(auto v, get(key));
        return v.has_value();
    }
};

// Committed state plus the writes of the block being executed: what the node
// (or a MemoryChain) stages a block's execution in; applications see it only
// through a BlockState. Writes of a transaction are staged until commitTx()
// or dropped by rollbackTx(). A staged value of nullopt is an erased key.
class StagedState final : public StateReader {
public:
    explicit StagedState(const StateReader& committed) : m_committed(committed) {}
    Result<std::optional<Bytes>> get(ByteView key) const override;
    Result<bool> exists(ByteView key) const override;
    void put(ByteView key, Bytes value) { stage(key, std::move(value)); }
    void erase(ByteView key) { stage(key, std::nullopt); }

    // Hashes and compares a stored key and a ByteView alike, so that a
    // look-up by ByteView copies nothing.
    struct KeyHash {
        using is_transparent = void;
        std::size_t operator()(ByteView k) const {
            return absl::Hash<std::string_view>{}(
                std::string_view(reinterpret_cast<const char*>(k.data()), k.size()));
        }
    };
    struct KeyEq {
        using is_transparent = void;
        bool operator()(ByteView a, ByteView b) const { return std::ranges::equal(a, b); }
    };
    // Key -> new value, or nullopt when the key is erased.
    using Writes = absl::flat_hash_map<Bytes, std::optional<Bytes>, KeyHash, KeyEq>;

    void commitTx();
    void rollbackTx() { m_txWrites.clear(); }
    // The block's writes, in no particular order.
    const Writes& writes() const { return m_blockWrites; }
    // Moves the block's writes out (the state is empty afterwards).
    Writes takeWrites() { return std::exchange(m_blockWrites, {}); }

private:
    void stage(ByteView key, std::optional<Bytes> value);
    const StateReader& m_committed;
    Writes m_blockWrites;
    Writes m_txWrites;
};

// One application's view of the block being executed: reads see every key
// (committed state and what the block has written so far); writes and
// erasures are accepted only under the application's prefix, and refused
// with INTERNAL otherwise (a bug in the application, never in its input).
class BlockState final : public StateReader {
public:
    BlockState(StagedState& staged, std::string prefix, std::string owner)
        : m_staged(staged), m_prefix(std::move(prefix)), m_owner(std::move(owner)) {}
    Result<std::optional<Bytes>> get(ByteView key) const override { return m_staged.get(key); }
    Result<bool> exists(ByteView key) const override { return m_staged.exists(key); }
    [[nodiscard]] Status put(ByteView key, Bytes value);
    // Removes the key from the state (its proof then shows it absent).
    // Erasing an absent key is allowed and changes nothing.
    [[nodiscard]] Status erase(ByteView key);
    std::string_view prefix() const { return m_prefix; }

private:
    Status allowed(ByteView key, const char* what) const;
    StagedState& m_staged;
    std::string m_prefix;  // copies: short names, kept in the string itself
    std::string m_owner;
};

// The block a hook runs in.
struct BlockContext {
    std::uint64_t height = 0;
    std::uint64_t timeMs = 0;  // the block's time (unix ms); the only clock an application may read
    // The validator sets by height, read-only (never null when the node or a
    // MemoryChain calls).
    const ValidatorSchedule* validators = nullptr;
};

struct TxContext {
    std::uint64_t height = 0;
    std::uint64_t blockTimeMs = 0;
    std::uint32_t index = 0;  // position in the block
    crypto::Hash256 txHash;
    const ValidatorSchedule* validators = nullptr;  // as in BlockContext
};

class Application {
public:
    virtual ~Application() = default;
    // Lower case letters, digits and '-', for logs and errors; unique on a node.
    virtual std::string name() const = 0;
    // The transaction types this application handles (doc/spec/tx-types.md).
    virtual std::vector<std::uint16_t> txTypes() const = 0;
    // Every state key it writes starts with this (not empty).
    virtual std::string statePrefix() const = 0;

    virtual Status checkTx(const Transaction& tx, const StateReader& committed) const = 0;
    virtual Status deliverTx(const Transaction& tx, const TxContext& ctx, BlockState& state) = 0;

    virtual Status initChain(const Genesis& /*genesis*/, const BlockContext& /*block1*/,
                             BlockState& /*state*/) {
        return Status::ok();
    }
    virtual Status beginBlock(const BlockContext& /*ctx*/, BlockState& /*state*/) { return Status::ok(); }
    virtual Status endBlock(const BlockContext& /*ctx*/, BlockState& /*state*/) { return Status::ok(); }
    // `ctx` is the block now durable (height 0 with the genesis time when
    // the node opens an empty store).
    virtual void committed(const BlockContext& /*ctx*/) {}
    // Unix ms, or nullopt. Read after committed(), on the same thread; it
    // only schedules when a validator starts the next height, never what is
    // valid.
    virtual std::optional<std::uint64_t> nextDeadlineMs() const { return std::nullopt; }
};

}  // namespace fides::app
