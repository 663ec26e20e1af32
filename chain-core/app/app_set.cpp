#include "app/app_set.h"

#include <set>

namespace fides::app {

Result<AppSet> AppSet::make(std::vector<std::unique_ptr<Application>> apps) {
    AppSet set;
    std::set<std::string> names;
    for (auto& a : apps) {
        if (!a) return Status::invalidArgument("an application is missing");
        Entry e{nullptr, a->name(), a->statePrefix()};
        if (e.name.empty()) return Status::invalidArgument("an application has no name");
        if (!names.insert(e.name).second) {
            return Status::invalidArgument("two applications are named '" + e.name + "'");
        }
        if (e.prefix.empty())
            return Status::invalidArgument("application '" + e.name + "' declares no state prefix");
        for (const Entry& other : set.m_apps) {
            const std::string& shorter = other.prefix.size() <= e.prefix.size() ? other.prefix : e.prefix;
            const std::string& longer = other.prefix.size() <= e.prefix.size() ? e.prefix : other.prefix;
            if (longer.compare(0, shorter.size(), shorter) == 0) {
                return Status::invalidArgument("the state prefixes of applications '" + other.name + "' ('" +
                                               other.prefix + "') and '" + e.name + "' ('" + e.prefix +
                                               "') overlap");
            }
        }
        const std::size_t index = set.m_apps.size();
        for (std::uint16_t type : a->txTypes()) {
            auto [it, fresh] = set.m_byType.emplace(type, index);
            if (!fresh) {
                const std::string owner = it->second == index ? e.name : set.m_apps[it->second].name;
                return Status::invalidArgument("transaction type " + std::to_string(type) +
                                               " is declared by both '" + owner + "' and '" + e.name + "'");
            }
        }
        e.app = std::move(a);
        set.m_apps.push_back(std::move(e));
    }
    return set;
}

std::size_t AppSet::ownerOf(ByteView key) const {
    const std::string_view k(reinterpret_cast<const char*>(key.data()), key.size());
    for (std::size_t i = 0; i < m_apps.size(); ++i) {
        if (k.starts_with(m_apps[i].prefix)) return i;
    }
    return m_apps.size();
}

void AppSet::committed(const BlockContext& ctx) const {
    for (const auto& e : m_apps) e.app->committed(ctx);
}

std::optional<std::uint64_t> AppSet::nextDeadlineMs() const {
    std::optional<std::uint64_t> first;
    for (const auto& e : m_apps) {
        if (auto d = e.app->nextDeadlineMs(); d && (!first || *d < *first)) first = d;
    }
    return first;
}

BlockExecution::BlockExecution(const AppSet& apps, const StateReader& committed, BlockContext ctx,
                               const Genesis* genesis)
    : m_apps(apps), m_state(committed), m_ctx(ctx), m_genesis(genesis) {}

template <typename Hook>
Status BlockExecution::eachApp(const char* what, Hook hook) {
    for (std::size_t i = 0; i < m_apps.size(); ++i) {
        BlockState view(m_state, m_apps.prefixAt(i), m_apps.nameAt(i));
        Status st = hook(m_apps.at(i), view);
        if (!st) {
            m_state.rollbackTx();
            return st.withContext(std::string("application '") + m_apps.nameAt(i) + "' " + what +
                                  " of block " + std::to_string(m_ctx.height));
        }
        m_state.commitTx();
    }
    return Status::ok();
}

Status BlockExecution::begin() {
    if (m_ctx.height == 1) {
        if (m_genesis == nullptr) return Status::internal("block 1 executed without its genesis");
        FIDES_RETURN_IF_ERROR(eachApp(
            "initChain", [&](Application& a, BlockState& s) { return a.initChain(*m_genesis, m_ctx, s); }));
    }
    return eachApp("beginBlock", [&](Application& a, BlockState& s) { return a.beginBlock(m_ctx, s); });
}

Status BlockExecution::deliver(const Transaction& tx, std::uint32_t index, const crypto::Hash256& hash) {
    const std::size_t i = m_apps.indexFor(tx.type);
    if (i == m_apps.size()) return Status::invalidArgument("no application handles this transaction type");
    BlockState view(m_state, m_apps.prefixAt(i), m_apps.nameAt(i));
    const TxContext ctx{m_ctx.height, m_ctx.timeMs, index, hash, m_ctx.validators};
    Status st = m_apps.at(i).deliverTx(tx, ctx, view);
    if (st) {
        m_state.commitTx();
    } else {
        m_state.rollbackTx();
    }
    return st;
}

Status BlockExecution::end() {
    return eachApp("endBlock", [&](Application& a, BlockState& s) { return a.endBlock(m_ctx, s); });
}

}  // namespace fides::app
