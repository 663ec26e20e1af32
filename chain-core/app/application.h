// The application interface: how chain-core runs an application (notarisation
// today; elections and the access log later) without knowing anything about
// it, much like ABCI. chain-core owns consensus, storage and the state tree;
// an application only decides which transactions are valid and which state
// entries they write.
//
//   checkTx    before mempool admission; the signature is already verified.
//              May read committed state; must not write.
//   deliverTx  deterministic state transition for one transaction of a block,
//              reading and writing through BlockState. A non-OK status
//              excludes the transaction from the block and undoes its writes.
//   (commit)   chain-core writes the block's state entries into the state
//              tree, whose root goes into the header, and stores them.
//   (query)    chain-core answers any state key with a proof against the root;
//              applications publish how their keys are formed.
//
// Thread-safety: checkTx may be called from many threads at once (it must be
// const and re-entrant); deliverTx is called from the block producer only.
#pragma once

#include "crypto/hash.h"
#include "primitives/transaction.h"
#include "util/bytes.h"
#include "util/status.h"

#include <absl/container/flat_hash_map.h>
#include <absl/hash/hash.h>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

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

// Committed state plus the writes of the block being executed. Writes of a
// transaction are staged until commitTx() or dropped by rollbackTx().
class BlockState final : public StateReader {
public:
    explicit BlockState(const StateReader& committed) : m_committed(committed) {}
    Result<std::optional<Bytes>> get(ByteView key) const override;
    Result<bool> exists(ByteView key) const override;
    void put(ByteView key, Bytes value);

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
    using Writes = absl::flat_hash_map<Bytes, Bytes, KeyHash, KeyEq>;

    void commitTx();
    void rollbackTx() { m_txWrites.clear(); }
    // The block's writes, in no particular order.
    const Writes& writes() const { return m_blockWrites; }
    // Moves the block's writes out (the state is empty afterwards).
    Writes takeWrites() { return std::exchange(m_blockWrites, {}); }

private:
    const StateReader& m_committed;
    Writes m_blockWrites;
    Writes m_txWrites;
};

struct TxContext {
    std::uint64_t height = 0;
    std::uint64_t blockTimeMs = 0;
    std::uint32_t index = 0;  // position in the block
    crypto::Hash256 txHash;
};

class Application {
public:
    virtual ~Application() = default;
    virtual std::string name() const = 0;
    virtual bool handles(std::uint16_t txType) const = 0;
    virtual Status checkTx(const Transaction& tx, const StateReader& committed) const = 0;
    virtual Status deliverTx(const Transaction& tx, const TxContext& ctx, BlockState& state) = 0;
};

}  // namespace fides::app
