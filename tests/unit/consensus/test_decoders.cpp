// Every decoder of bytes that arrive from outside (clients, peers, the
// ledger, the store) against mutated inputs: valid encodings of each type
// with random bits flipped, bytes overwritten, inserted and deleted, ranges
// repeated, and truncations, from a fixed seed. A decoder must either refuse
// the input or accept it only if it is that value's one encoding (encode of
// the result gives the input back, doc/spec/encoding.md): a second encoding
// of one value would give one transaction two hashes. Under the CI's ASan +
// UBSan build this also shows that no input makes a decoder read out of
// bounds or overflow. A failure names the type, the round and the input.
#include "consensus/evidence_app.h"
#include "consensus/governance.h"
#include "consensus/messages.h"
#include "crypto/random.h"
#include "notary/notary_app.h"
#include "primitives/authority.h"
#include "primitives/block.h"
#include "primitives/transaction.h"
#include "primitives/validator_set.h"

#include <QtTest>

#include <functional>
#include <random>

using namespace fides;

namespace {

constexpr int kRounds = 4000;
constexpr std::uint32_t kSeed = 20261121;

// One random change of `b`.
void mutateOnce(Bytes& b, std::mt19937& rng) {
    const auto pick = [&](std::size_t n) {
        return n == 0 ? 0 : std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
    };
    switch (pick(7)) {
    case 0:  // flip a bit
        if (!b.empty()) b[pick(b.size())] ^= static_cast<std::uint8_t>(1u << pick(8));
        break;
    case 1:  // overwrite a byte, often with an extreme value (lengths, tags)
        if (!b.empty()) {
            static constexpr std::uint8_t kValues[] = {0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff};
            b[pick(b.size())] =
                pick(2) == 0 ? kValues[pick(std::size(kValues))] : static_cast<std::uint8_t>(pick(256));
        }
        break;
    case 2:  // truncate
        b.resize(pick(b.size() + 1));
        break;
    case 3:  // insert a byte
        b.insert(b.begin() + static_cast<std::ptrdiff_t>(pick(b.size() + 1)),
                 static_cast<std::uint8_t>(pick(256)));
        break;
    case 4:  // delete a range
        if (!b.empty()) {
            const std::size_t at = pick(b.size());
            const std::size_t n = 1 + pick(std::min<std::size_t>(16, b.size() - at));
            b.erase(b.begin() + static_cast<std::ptrdiff_t>(at),
                    b.begin() + static_cast<std::ptrdiff_t>(at + n));
        }
        break;
    case 5:  // repeat a range
        if (!b.empty()) {
            const std::size_t at = pick(b.size());
            const std::size_t n = 1 + pick(std::min<std::size_t>(40, b.size() - at));
            const Bytes range(b.begin() + static_cast<std::ptrdiff_t>(at),
                              b.begin() + static_cast<std::ptrdiff_t>(at + n));
            b.insert(b.begin() + static_cast<std::ptrdiff_t>(pick(b.size() + 1)), range.begin(), range.end());
        }
        break;
    default:  // append bytes
        for (std::size_t i = 0, n = 1 + pick(8); i < n; ++i)
            b.push_back(static_cast<std::uint8_t>(pick(256)));
        break;
    }
}

// Decodes mutations of each seed; returns how many decoded. `reencode`
// returns the encoding of the decoded value, or nullopt if it refused.
int mutateAndCheck(const char* type, const std::vector<Bytes>& seeds,
                   const std::function<std::optional<Bytes>(ByteView)>& reencode) {
    std::mt19937 rng(kSeed);
    int accepted = 0;
    for (const Bytes& seed : seeds) {
        // The seeds themselves decode and re-encode exactly.
        const auto again = reencode(seed);
        if (!again || *again != seed) {
            QTest::qFail(qPrintable(QString("%1: a valid encoding does not round-trip").arg(type)), __FILE__,
                         __LINE__);
            return -1;
        }
        for (int round = 0; round < kRounds; ++round) {
            Bytes input = seed;
            const int changes = 1 + static_cast<int>(rng() % 3);
            for (int c = 0; c < changes; ++c) mutateOnce(input, rng);
            const auto out = reencode(input);
            if (!out) continue;
            ++accepted;
            if (*out != input) {
                QTest::qFail(qPrintable(QString("%1, round %2: accepted a non-canonical encoding %3")
                                            .arg(type)
                                            .arg(round)
                                            .arg(QString::fromStdString(toHex(input)))),
                             __FILE__, __LINE__);
                return -1;
            }
        }
    }
    return accepted;
}

template <typename T>
std::function<std::optional<Bytes>(ByteView)> via() {
    return [](ByteView b) -> std::optional<Bytes> {
        auto r = T::decode(b);
        if (!r) return std::nullopt;
        return r->encode();
    };
}

const std::string kChain = "decoder-chain";

crypto::Hash256 someHash(int i) { return crypto::sha256(asBytes("decoder seed " + std::to_string(i))); }

consensus::SignedVote someVote(const crypto::SecretKey& key, consensus::VoteType type,
                               std::optional<crypto::Hash256> value) {
    consensus::Vote v;
    v.type = type;
    v.height = 77;
    v.round = 2;
    v.value = value;
    return consensus::signVote(kChain, key, v);
}

}  // namespace

class TestDecoders : public QObject {
    Q_OBJECT

private:
    crypto::SecretKey m_a = crypto::SecretKey::generate();
    crypto::SecretKey m_b = crypto::SecretKey::generate();

    Transaction someTransaction(const std::string& label) const {
        return notary::makeNotarizeTx(kChain, m_a, someHash(1), label, 42, 1'900'000'000);
    }

private slots:
    void transactions() {
        const std::vector<Bytes> seeds{someTransaction("").encode(),
                                       someTransaction("a label of some length").encode()};
        const int n = mutateAndCheck("Transaction", seeds, via<Transaction>());
        QVERIFY(n >= 0);
        qInfo("Transaction: %d of %d mutations decoded, all canonical", n, 2 * kRounds);
    }

    void blockParts() {
        BlockHeader h;
        h.chainId = kChain;
        h.height = 12;
        h.timeMs = 1'700'000'000'000;
        h.prevHash = someHash(2);
        h.txRoot = someHash(3);
        h.txCount = 2;
        h.stateRoot = someHash(4);
        h.proposer = m_a.publicKey();
        h.validatorSetHash = someHash(5);
        h.nextValidatorSetHash = someHash(6);
        QVERIFY(mutateAndCheck("BlockHeader", {h.encode()}, via<BlockHeader>()) >= 0);

        Commit c;
        c.height = 12;
        c.round = 1;
        c.blockHash = h.hash();
        c.signatures.push_back({m_a.publicKey(), crypto::sign(m_a, someHash(7))});
        c.signatures.push_back({m_b.publicKey(), crypto::sign(m_b, someHash(7))});
        QVERIFY(mutateAndCheck("Commit", {c.encode()}, via<Commit>()) >= 0);

        // A count the input cannot hold is refused before anything is
        // allocated for it (a million empty vectors, from 4 bytes).
        const auto huge = Block::decodeBody(Bytes{0x00, 0x0f, 0x42, 0x40});
        QVERIFY(!huge);
        QVERIFY2(huge.status().message().find("more transactions than bytes") != std::string::npos,
                 huge.status().message().c_str());
        const std::vector<Bytes> txs{someTransaction("x").encode(), someTransaction("").encode()};
        QVERIFY(mutateAndCheck("Block body", {Block::encodeBody(txs), Block::encodeBody({})},
                               [](ByteView b) -> std::optional<Bytes> {
                                   auto r = Block::decodeBody(b);
                                   if (!r) return std::nullopt;
                                   return Block::encodeBody(*r);
                               }) >= 0);
    }

    void consensusMessages() {
        const std::vector<Bytes> votes{someVote(m_a, consensus::VoteType::Prevote, someHash(8)).encode(),
                                       someVote(m_b, consensus::VoteType::Precommit, std::nullopt).encode()};
        QVERIFY(mutateAndCheck("SignedVote", votes, via<consensus::SignedVote>()) >= 0);

        consensus::Proposal p;
        p.height = 77;
        p.round = 3;
        p.validRound = 1;
        p.value = {someHash(9), toBytes("a compact block, as far as the codec knows")};
        consensus::Proposal q = p;
        q.validRound = -1;
        q.value.data.clear();
        const std::vector<Bytes> proposals{consensus::signProposal(kChain, m_a, p).encode(),
                                           consensus::signProposal(kChain, m_b, q).encode()};
        QVERIFY(mutateAndCheck("SignedProposal", proposals, [](ByteView b) -> std::optional<Bytes> {
                    auto r = consensus::SignedProposal::decode(b, 1 << 20);
                    if (!r) return std::nullopt;
                    return r->encode();
                }) >= 0);

        consensus::EvidencePayload e;
        e.first = someVote(m_a, consensus::VoteType::Prevote, someHash(10));
        e.second = someVote(m_a, consensus::VoteType::Prevote, someHash(11));
        if (e.second.encode() < e.first.encode()) std::swap(e.first, e.second);
        QVERIFY(mutateAndCheck("EvidencePayload", {e.encode()}, via<consensus::EvidencePayload>()) >= 0);
    }

    void governanceAndValidatorSets() {
        auto set =
            ValidatorSet::create({{m_a.publicKey(), 10, "state IT centre"}, {m_b.publicKey(), 7, "DPA"}});
        QVERIFY(set);
        QVERIFY(mutateAndCheck("ValidatorSet", {set->encodeFull()}, [](ByteView b) -> std::optional<Bytes> {
                    auto r = ValidatorSet::decodeFull(b);
                    if (!r) return std::nullopt;
                    return r->encodeFull();
                }) >= 0);

        consensus::GovernancePayload g;
        g.proposal.baseSetHash = set->hash();
        g.proposal.nonce = 5;
        g.proposal.description = "add the municipal syndicate";
        consensus::ValidatorChange add;
        add.op = consensus::ChangeOp::Add;
        add.key = crypto::SecretKey::generate().publicKey();
        add.power = 5;
        add.name = "syndicate";
        consensus::ValidatorChange rotate;
        rotate.op = consensus::ChangeOp::RotateKey;
        rotate.key = m_b.publicKey();
        rotate.newKey = crypto::SecretKey::generate().publicKey();
        g.proposal.changes = {add, rotate};
        g.approve(kChain, m_a);
        g.approve(kChain, m_b);
        QVERIFY(mutateAndCheck("GovernanceProposal", {g.proposal.encode()},
                               via<consensus::GovernanceProposal>()) >= 0);
        QVERIFY(mutateAndCheck("GovernancePayload", {g.encode()}, via<consensus::GovernancePayload>()) >= 0);
    }

    void authorities() {
        Authority a;
        a.id = "election-authority.lu-2027";
        a.role = "election-authority";
        a.members = {{m_a.publicKey(), "returning officer"}, {m_b.publicKey(), "deputy"}};
        std::sort(a.members.begin(), a.members.end(),
                  [](const auto& x, const auto& y) { return x.key < y.key; });
        a.threshold = 2;
        a.sinceHeight = 42;
        QVERIFY(mutateAndCheck("Authority", {a.encode()}, via<Authority>()) >= 0);

        consensus::AuthorityPayload admit;
        admit.proposal.baseSetHash = someHash(15);
        admit.proposal.nonce = 3;
        admit.proposal.description = "the 2027 elections";
        admit.proposal.authority = a;
        admit.proposal.authority.sinceHeight = 0;
        admit.approve(kChain, m_a);
        consensus::AuthorityPayload revoke;
        revoke.proposal.baseSetHash = someHash(16);
        revoke.proposal.op = consensus::AuthorityOp::Revoke;
        revoke.proposal.authority.id = a.id;
        revoke.approve(kChain, m_b);
        QVERIFY(mutateAndCheck("AuthorityProposal", {admit.proposal.encode(), revoke.proposal.encode()},
                               via<consensus::AuthorityProposal>()) >= 0);
        QVERIFY(mutateAndCheck("AuthorityPayload", {admit.encode(), revoke.encode()},
                               via<consensus::AuthorityPayload>()) >= 0);
    }

    void notaryPayloads() {
        notary::NotarizePayload p{someHash(12), "contract 2026-17"};
        QVERIFY(mutateAndCheck("NotarizePayload",
                               {p.encode(), notary::NotarizePayload{someHash(13), ""}.encode()},
                               via<notary::NotarizePayload>()) >= 0);
        notary::Registration r{12, 3, someHash(14), m_a.publicKey(), 1'700'000'000'000, "label"};
        QVERIFY(mutateAndCheck("Registration", {r.encode()}, via<notary::Registration>()) >= 0);
    }
};

QTEST_GUILESS_MAIN(TestDecoders)
#include "test_decoders.moc"
