// Randomness from the operating system (Botan::System_RNG).
// Thread-safety: thread-safe.
#pragma once

#include "util/bytes.h"

#include <array>
#include <cstdint>

namespace fides::crypto {

void randomBytes(std::uint8_t* out, std::size_t len);
template <std::size_t N>
std::array<std::uint8_t, N> randomArray() {
    std::array<std::uint8_t, N> a{};
    randomBytes(a.data(), N);
    return a;
}
std::uint64_t randomU64();

}  // namespace fides::crypto
