#include "app/append_log.h"

namespace fides::app {

Result<merkle::Frontier> logHead(const StateReader& state, ByteView base) {
    FIDES_ASSIGN_OR_RETURN(auto stored, state.get(applog::headKey(base)));
    if (!stored) return merkle::Frontier();
    auto head = merkle::Frontier::decode(*stored);
    if (!head) return Status::dataLoss("a log head is damaged: " + head.status().message());
    return std::move(*head);
}

Result<std::uint64_t> appendToLog(BlockState& state, ByteView base, Bytes item) {
    if (base.size() > applog::kMaxBaseLength) return Status::invalidArgument("log base key too long");
    FIDES_ASSIGN_OR_RETURN(merkle::Frontier head, logHead(state, base));
    const std::uint64_t index = head.size();
    head.append(merkle::leafHash(item));
    FIDES_RETURN_IF_ERROR(state.put(applog::itemKey(base, index), std::move(item)));
    FIDES_RETURN_IF_ERROR(state.put(applog::headKey(base), head.encode()));
    return index;
}

Result<std::optional<Bytes>> logItem(const StateReader& state, ByteView base, std::uint64_t index) {
    return state.get(applog::itemKey(base, index));
}

}  // namespace fides::app
