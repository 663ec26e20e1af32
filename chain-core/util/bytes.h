// Byte containers and hex conversion used across chain-core.
// Thread-safety: free functions on values; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fides {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

std::string toHex(ByteView bytes);
// Lower- or upper-case hex, even length; nullopt on anything else.
std::optional<Bytes> fromHex(std::string_view hex);

inline ByteView asBytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline Bytes toBytes(std::string_view s) { return {s.begin(), s.end()}; }
// A copy as std::string (protobuf's `bytes` fields, for one).
inline std::string toStdString(ByteView b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

}  // namespace fides
