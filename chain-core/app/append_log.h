// Writing and reading an application's append logs
// (primitives/append_log.h) through its block state.
//
// Thread-safety: as the StateReader / BlockState given.
#pragma once

#include "app/application.h"
#include "primitives/append_log.h"

namespace fides::app {

// Appends `item` to the log at `base` (which must lie under the
// application's prefix): writes the item and the new head; returns the
// item's index.
Result<std::uint64_t> appendToLog(BlockState& state, ByteView base, Bytes item);
// The log's head (empty when nothing was appended yet).
Result<merkle::Frontier> logHead(const StateReader& state, ByteView base);
// Item `index`, or nullopt beyond the log's end.
Result<std::optional<Bytes>> logItem(const StateReader& state, ByteView base, std::uint64_t index);

}  // namespace fides::app
