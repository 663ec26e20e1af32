#include "app/memory_chain.h"

namespace fides::app {

Result<std::optional<Bytes>> MemoryState::get(ByteView key) const {
    auto it = m_entries.find(Bytes(key.begin(), key.end()));
    if (it == m_entries.end()) return std::optional<Bytes>();
    return std::optional<Bytes>(it->second);
}

void MemoryState::apply(StagedState::Writes writes) {
    for (auto it = writes.begin(); it != writes.end();) {
        auto node = writes.extract(it++);
        if (node.mapped()) {
            m_entries.insert_or_assign(std::move(node.key()), std::move(*node.mapped()));
        } else {
            m_entries.erase(node.key());
        }
    }
}

Result<MemoryChain> MemoryChain::make(Genesis genesis, std::vector<std::unique_ptr<Application>> apps) {
    MemoryChain c;
    FIDES_ASSIGN_OR_RETURN(c.m_apps, AppSet::make(std::move(apps)));
    c.m_state = std::make_unique<MemoryState>();
    c.m_schedule = std::make_unique<ValidatorSchedule>(genesis.validators);
    c.m_timeMs = genesis.genesisTimeMs;
    c.m_genesis = std::move(genesis);
    c.m_apps.committed(BlockContext{0, c.m_timeMs, c.m_schedule.get()});
    return c;
}

Status MemoryChain::checkTx(const Transaction& tx) const {
    Application* app = m_apps.handlerFor(tx.type);
    if (app == nullptr) {
        return Status::invalidArgument("no application handles transaction type " + std::to_string(tx.type));
    }
    return app->checkTx(tx, *m_state);
}

Result<MemoryChain::BlockResult> MemoryChain::runBlock(std::uint64_t timeMs,
                                                       const std::vector<Transaction>& txs) {
    if (timeMs <= m_timeMs) return Status::invalidArgument("block time does not advance");
    const BlockContext ctx{m_height + 1, timeMs, m_schedule.get()};
    BlockExecution exec(m_apps, *m_state, ctx, &m_genesis);
    FIDES_RETURN_IF_ERROR(exec.begin());
    BlockResult out;
    out.height = ctx.height;
    std::uint32_t index = 0;
    for (const Transaction& tx : txs) {
        Status st = exec.deliver(tx, index, txHash(tx.encode()));
        if (st) ++index;
        out.txs.push_back(std::move(st));
    }
    FIDES_RETURN_IF_ERROR(exec.end());
    m_state->apply(exec.takeWrites());
    m_height = ctx.height;
    m_timeMs = timeMs;
    m_apps.committed(ctx);
    return out;
}

}  // namespace fides::app
