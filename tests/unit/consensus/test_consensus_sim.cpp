// The deterministic simulation: networks of 4 and 7 engines over a seeded
// lossy, reordering, partitioned network with crashed and byzantine nodes;
// safety is checked after every event, liveness after GST.
//   FIDES_SIM_SEEDS=N   seeds per network size (default 2000)
//   FIDES_SIM_SEED=S    run only seed S, for both sizes, with a trace
#include "simulation.h"

#include <QtTest>

#include <cstdlib>

using namespace fides::consensus::sim;

class TestConsensusSim : public QObject {
    Q_OBJECT

private:
    void runSeeds(int n) {
        const char* one = std::getenv("FIDES_SIM_SEED");
        const char* count = std::getenv("FIDES_SIM_SEEDS");
        std::uint64_t first = 0;
        std::uint64_t seeds = count ? std::strtoull(count, nullptr, 10) : 2000;
        bool trace = false;
        if (one != nullptr) {
            first = std::strtoull(one, nullptr, 10);
            seeds = 1;
            trace = true;
        }
        std::map<Scenario, int> perScenario;
        std::uint64_t events = 0;
        std::size_t evidence = 0;
        std::uint64_t maxRound = 0;
        for (std::uint64_t s = first; s < first + seeds; ++s) {
            SimConfig cfg = configForSeed(s, n);
            cfg.trace = trace;
            const SimResult r = run(cfg);
            const std::string where = "seed " + std::to_string(s) + " (n=" + std::to_string(n) + ", " +
                                      scenarioName(cfg.scenario) + ", " +
                                      std::to_string(cfg.byzantine.size()) +
                                      " byzantine); replay with FIDES_SIM_SEED=" + std::to_string(s) + ": ";
            QVERIFY2(r.safe, (where + r.violation).c_str());
            QVERIFY2(r.live, (where + r.violation + r.finalState).c_str());
            ++perScenario[cfg.scenario];
            events += r.events;
            evidence += r.evidenceSeen;
            maxRound = std::max(maxRound, r.maxRound);
        }
        qInfo(
            "n=%d: %llu seeds safe and live, %llu events, %zu equivocations detected, highest deciding round "
            "%llu",
            n, static_cast<unsigned long long>(seeds), static_cast<unsigned long long>(events), evidence,
            static_cast<unsigned long long>(maxRound));
        if (one == nullptr && seeds >= 100) {
            // The faults really happened: byzantine runs produced evidence.
            QVERIFY(evidence > 0);
            QCOMPARE(static_cast<int>(perScenario.size()), 6);
        }
    }

private slots:
    void fourValidators() { runSeeds(4); }
    void sevenValidators() { runSeeds(7); }

    void sameSeedSameRun() {
        const SimConfig cfg = configForSeed(42, 7);
        const SimResult a = run(cfg);
        const SimResult b = run(cfg);
        QCOMPARE(a.events, b.events);
        QCOMPARE(a.endTimeMs, b.endTimeMs);
        QCOMPARE(a.evidenceSeen, b.evidenceSeen);
    }

    // The checker itself: with more than 1/3 byzantine power safety can be
    // broken, and the simulation must be able to see it.
    void checkerDetectsViolationsBeyondTheFaultBound() {
        int violations = 0;
        for (std::uint64_t s = 0; s < 200 && violations == 0; ++s) {
            SimConfig cfg = configForSeed(s, 4);
            cfg.scenario = Scenario::Lossy;
            cfg.powers = {1, 1, 1, 1};
            cfg.byzantine = {0, 1};  // half the power
            cfg.splitBrain = true;
            cfg.targetHeight = 6;
            cfg.maxTimeMs = 60'000;
            if (!run(cfg).safe) ++violations;
        }
        QVERIFY2(violations > 0,
                 "two byzantine validators out of four never broke agreement: the checker sees nothing");
    }
};

QTEST_APPLESS_MAIN(TestConsensusSim)
#include "test_consensus_sim.moc"
