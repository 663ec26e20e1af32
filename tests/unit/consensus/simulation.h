// A deterministic simulation of a network of consensus engines in one
// process: a seeded discrete-event loop with message delays, reordering,
// drops before a global stabilisation time (GST), partitions, crashed and
// recovering nodes, and byzantine validators that equivocate. The safety
// invariants are checked after every event; liveness after GST at the end.
// The same seed always replays the same run.
//
// Thread-safety: not thread-safe.
#pragma once

#include "consensus/engine.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fides::consensus::sim {

enum class Scenario { Lossy, Byzantine, CrashRecover, Partition, Mixed, ByzantineSplit };
const char* scenarioName(Scenario s);

struct SimConfig {
    std::uint64_t seed = 1;
    std::vector<std::uint64_t> powers;  // one entry per validator
    Scenario scenario = Scenario::Lossy;
    std::vector<ValidatorIndex> byzantine;  // equivocate on every message
    // Byzantine validators coordinate instead of equivocating at random: to
    // recipients of even index they propose and vote value A(h, r), to odd
    // ones B(h, r). Used to show the checker catches a violation when the
    // byzantine power exceeds the bound.
    bool splitBrain = false;
    std::uint64_t targetHeight = 4;  // heights every honest node must decide
    std::int64_t gstMs = 4000;       // drops and long delays only before this
    double dropBeforeGst = 0.2;
    std::int64_t maxDelayBeforeGstMs = 300;
    std::int64_t maxDelayAfterGstMs = 40;
    std::int64_t maxTimeMs = 600'000;
    bool trace = false;  // print every event (for replaying one seed)
};

struct SimResult {
    bool safe = true;
    bool live = false;
    std::string violation;  // first safety violation, or why liveness failed
    std::uint64_t events = 0;
    std::int64_t endTimeMs = 0;
    std::uint64_t minHonestHeight = 0;
    std::uint64_t maxRound = 0;
    std::size_t evidenceSeen = 0;  // equivocations honest nodes detected
    std::string finalState;        // one line per node, for diagnosing a seed
};

// Builds the configuration for a seed: validator count from `n`, scenario,
// powers and faulty nodes all derived from the seed.
SimConfig configForSeed(std::uint64_t seed, int n);
SimResult run(const SimConfig& config);

}  // namespace fides::consensus::sim
