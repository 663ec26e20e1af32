// A key-value application for tests of the application seam: a transaction
// of type kKvTxType puts, erases, or (to test the prefix guard) writes a raw
// key outside the application's prefix; its hooks record when they run and
// can be told to fail or to write.
//
// Payload: u8 op || var key || var value (encoding.md).
//
// Thread-safety: checkTx is const; the rest runs on one thread.
#pragma once

#include "app/append_log.h"
#include "app/application.h"
#include "util/encoding.h"

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace fides::testing {

inline constexpr std::uint16_t kKvTxType = 0x7f00;

// Log: appends the value to the append log at "kv/log" (app/append_log.h).
enum class KvOp : std::uint8_t { Put = 0, Erase = 1, RawPut = 2, RawErase = 3, Log = 4 };

inline Bytes kvPayload(KvOp op, const std::string& key, const std::string& value = {}) {
    Writer w;
    w.u8(static_cast<std::uint8_t>(op)).var(asBytes(key)).var(asBytes(value));
    return std::move(w).take();
}

class KvApp final : public app::Application {
public:
    struct Log {
        std::vector<std::string> calls;  // "init 1", "begin 3", "end 3", "committed 3"
        bool failBegin = false;
        bool writeInEnd = false;  // endBlock writes "kv/last" = height
        std::uint64_t lastBlockTimeMs = 0;
        std::size_t lastValidators = 0;
        std::atomic<std::uint64_t> deadlineMs{0};  // nextDeadlineMs(); 0: none
    };
    explicit KvApp(std::shared_ptr<Log> log = std::make_shared<Log>(), std::string name = "kv",
                   std::string prefix = "kv/", std::vector<std::uint16_t> types = {kKvTxType})
        : m_log(std::move(log)),
          m_name(std::move(name)),
          m_prefix(std::move(prefix)),
          m_types(std::move(types)) {}

    std::string name() const override { return m_name; }
    std::vector<std::uint16_t> txTypes() const override { return m_types; }
    std::string statePrefix() const override { return m_prefix; }

    Status checkTx(const Transaction& tx, const app::StateReader&) const override {
        return decode(tx).status();
    }

    Status deliverTx(const Transaction& tx, const app::TxContext&, app::BlockState& state) override {
        FIDES_ASSIGN_OR_RETURN(Op op, decode(tx));
        switch (op.op) {
        case KvOp::Put: return state.put(asBytes(m_prefix + op.key), Bytes(op.value.begin(), op.value.end()));
        case KvOp::Erase: return state.erase(asBytes(m_prefix + op.key));
        case KvOp::RawPut: return state.put(asBytes(op.key), Bytes(op.value.begin(), op.value.end()));
        case KvOp::RawErase: return state.erase(asBytes(op.key));
        case KvOp::Log:
            return app::appendToLog(state, asBytes(m_prefix + "log"), asBytesCopy(op.value)).status();
        }
        return Status::invalidArgument("unknown op");
    }
    Status initChain(const Genesis&, const app::BlockContext& ctx, app::BlockState&) override {
        m_log->calls.push_back("init " + std::to_string(ctx.height));
        return Status::ok();
    }
    Status beginBlock(const app::BlockContext& ctx, app::BlockState&) override {
        m_log->calls.push_back("begin " + std::to_string(ctx.height));
        m_log->lastBlockTimeMs = ctx.timeMs;
        m_log->lastValidators = ctx.validators ? ctx.validators->at(ctx.height)->validators().size() : 0;
        if (m_log->failBegin) return Status::unavailable("cannot read");
        return Status::ok();
    }
    Status endBlock(const app::BlockContext& ctx, app::BlockState& state) override {
        m_log->calls.push_back("end " + std::to_string(ctx.height));
        if (m_log->writeInEnd)
            return state.put(asBytes(m_prefix + "last"), asBytesCopy(std::to_string(ctx.height)));
        return Status::ok();
    }
    void committed(const app::BlockContext& ctx) override {
        m_log->calls.push_back("committed " + std::to_string(ctx.height));
    }
    std::optional<std::uint64_t> nextDeadlineMs() const override {
        const std::uint64_t d = m_log->deadlineMs.load();
        return d == 0 ? std::nullopt : std::optional<std::uint64_t>(d);
    }

private:
    struct Op {
        KvOp op;
        std::string key;
        std::string value;
    };
    static Bytes asBytesCopy(const std::string& s) { return Bytes(s.begin(), s.end()); }
    static Result<Op> decode(const Transaction& tx) {
        Reader r(tx.payload);
        std::uint8_t op = 0;
        Bytes key;
        Bytes value;
        FIDES_RETURN_IF_ERROR(r.u8(op));
        FIDES_RETURN_IF_ERROR(r.var(key));
        FIDES_RETURN_IF_ERROR(r.var(value));
        FIDES_RETURN_IF_ERROR(r.finish());
        if (op > 4) return Status::invalidArgument("unknown op");
        return Op{static_cast<KvOp>(op), std::string(key.begin(), key.end()),
                  std::string(value.begin(), value.end())};
    }
    std::shared_ptr<Log> m_log;
    std::string m_name;
    std::string m_prefix;
    std::vector<std::uint16_t> m_types;
};

}  // namespace fides::testing
