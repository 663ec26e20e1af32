// Randomness from the operating system via Botan::System_RNG.
//
// If the OS cannot supply randomness there is no safe way to go on (keys and
// nonces would be predictable), so a failure aborts the process.
#include "crypto/random.h"

#include <botan/system_rng.h>

#include <cstdio>
#include <cstdlib>
#include <exception>

namespace fides::crypto {

void randomBytes(std::uint8_t* out, std::size_t len) {
    if (len == 0) return;
    try {
        Botan::system_rng().randomize(out, len);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fides: fatal: system RNG failed: %s\n", e.what());
        std::abort();
    }
}

std::uint64_t randomU64() {
    std::array<std::uint8_t, 8> b = randomArray<8>();
    std::uint64_t v = 0;
    for (std::uint8_t x : b) v = (v << 8) | x;
    return v;
}

}  // namespace fides::crypto
