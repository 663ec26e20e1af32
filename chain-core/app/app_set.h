// AppSet: the applications a node runs, checked once when it is built: each
// has a unique name, a transaction type belongs to one application alone,
// and no state prefix is a prefix of another's (so a key has at most one
// writer). The node routes each transaction to its type's application.
//
// BlockExecution: one block run through an AppSet over committed state, as
// the node and a MemoryChain both do it: initChain (block 1), every
// application's beginBlock, each transaction's deliverTx by its type's
// application, every application's endBlock, in registration order; each
// application writes through a BlockState bound to its prefix.
//
// Thread-safety: an AppSet is immutable after make(); handlerFor may be
// called from any thread. A BlockExecution belongs to one thread.
#pragma once

#include "app/application.h"

#include <memory>
#include <vector>

namespace fides::app {

class AppSet {
public:
    AppSet() = default;
    // INVALID_ARGUMENT names the conflict: a duplicate name, a type declared
    // twice, an empty prefix, or one prefix starting another.
    static Result<AppSet> make(std::vector<std::unique_ptr<Application>> apps);

    // The application that handles `type`, or null.
    Application* handlerFor(std::uint16_t type) const {
        auto it = m_byType.find(type);
        return it == m_byType.end() ? nullptr : m_apps[it->second].app.get();
    }
    std::size_t size() const { return m_apps.size(); }
    Application& at(std::size_t i) const { return *m_apps[i].app; }
    const std::string& prefixAt(std::size_t i) const { return m_apps[i].prefix; }
    const std::string& nameAt(std::size_t i) const { return m_apps[i].name; }
    // Index of the application that handles `type` (size() when none).
    std::size_t indexFor(std::uint16_t type) const {
        auto it = m_byType.find(type);
        return it == m_byType.end() ? m_apps.size() : it->second;
    }
    // The application whose prefix the key starts with (size() when none).
    std::size_t ownerOf(ByteView key) const;
    // Calls committed() on every application.
    void committed(const BlockContext& ctx) const;
    // The earliest nextDeadlineMs() of all applications.
    std::optional<std::uint64_t> nextDeadlineMs() const;

private:
    struct Entry {
        std::unique_ptr<Application> app;
        std::string name;  // cached: name() and statePrefix() are virtual calls
        std::string prefix;
    };
    std::vector<Entry> m_apps;
    absl::flat_hash_map<std::uint16_t, std::size_t> m_byType;
};

class BlockExecution {
public:
    // `genesis` is needed for block 1 (initChain) only.
    BlockExecution(const AppSet& apps, const StateReader& committed, BlockContext ctx,
                   const Genesis* genesis);

    // initChain at height 1, then beginBlock; their writes are kept.
    Status begin();
    // The transaction through its type's application: on success its writes
    // are kept, otherwise undone (and the status says why, e.g.
    // INVALID_ARGUMENT when no application handles its type).
    Status deliver(const Transaction& tx, std::uint32_t index, const crypto::Hash256& hash);
    // endBlock; its writes are kept.
    Status end();

    const StagedState& state() const { return m_state; }
    StagedState::Writes takeWrites() { return m_state.takeWrites(); }

private:
    // Runs `hook` for every application in order, committing its writes.
    template <typename Hook>
    Status eachApp(const char* what, Hook hook);
    const AppSet& m_apps;
    StagedState m_state;
    BlockContext m_ctx;
    const Genesis* m_genesis;
};

}  // namespace fides::app
