// Application authorities (primitives/authority.h, consensus/governance.h):
// admitted, changed and revoked by more than 2/3 of the validators' power,
// read by applications with app::readAuthority, their threshold checked by
// verifyQuorum. Run in memory on an app::MemoryChain with the governance
// application, as every validator runs it.
#include "app/authorities.h"
#include "app/memory_chain.h"
#include "consensus/governance.h"

#include <QtTest>

using namespace fides;
using consensus::AuthorityOp;
using consensus::AuthorityPayload;

namespace {

const std::string kChain = "authority-chain";

std::uint64_t expiry() { return static_cast<std::uint64_t>(std::time(nullptr)) + 600; }

struct Net {
    std::vector<crypto::SecretKey> keys;
    Genesis genesis;
    explicit Net(std::size_t n) {
        std::vector<Validator> vs;
        for (std::size_t i = 0; i < n; ++i) {
            keys.push_back(crypto::SecretKey::generate());
            vs.push_back({keys.back().publicKey(), 10, "v" + std::to_string(i)});
        }
        genesis.chainId = kChain;
        genesis.genesisTimeMs = 1'000;
        genesis.validators = ValidatorSet::create(vs).value();
    }
    app::MemoryChain chain() const {
        std::vector<std::unique_ptr<app::Application>> apps;
        apps.push_back(std::make_unique<consensus::GovernanceApp>(
            kChain, std::make_shared<const ValidatorSchedule>(genesis.validators)));
        return std::move(app::MemoryChain::make(genesis, std::move(apps)).value());
    }
};

struct Officials {
    std::vector<crypto::SecretKey> keys;
    explicit Officials(std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) keys.push_back(crypto::SecretKey::generate());
        std::sort(keys.begin(), keys.end(),
                  [](const auto& a, const auto& b) { return a.publicKey() < b.publicKey(); });
    }
    Authority authority(const std::string& id, std::uint32_t threshold, std::size_t members = 0) const {
        Authority a;
        a.id = id;
        a.role = "election-authority";
        for (std::size_t i = 0; i < (members == 0 ? keys.size() : members); ++i) {
            a.members.push_back({keys[i].publicKey(), "official " + std::to_string(i)});
        }
        a.threshold = threshold;
        return a;
    }
    // Signatures of `digest` by members `which`, in key order.
    std::vector<AuthoritySignature> sign(const crypto::Hash256& digest,
                                         std::vector<std::size_t> which) const {
        std::vector<AuthoritySignature> out;
        for (std::size_t i : which) out.push_back({keys[i].publicKey(), crypto::sign(keys[i], digest)});
        return out;
    }
};

Transaction proposal(const Net& net, AuthorityOp op, Authority a, std::size_t approvers,
                     std::uint64_t nonce = 1) {
    AuthorityPayload p;
    p.proposal.baseSetHash = net.genesis.validators.hash();
    p.proposal.nonce = nonce;
    p.proposal.description = "test";
    p.proposal.op = op;
    p.proposal.authority = std::move(a);
    for (std::size_t i = 0; i < approvers; ++i) p.approve(kChain, net.keys[i]);
    return consensus::makeAuthorityTx(kChain, crypto::SecretKey::generate(), p, expiry());
}

Status runOne(app::MemoryChain& chain, const Transaction& tx) {
    auto r = chain.runBlock(chain.timeMs() + 1'000, {tx});
    if (!r) return r.status();
    return r->txs.front();
}

}  // namespace

class TestAuthorities : public QObject {
    Q_OBJECT

private slots:
    void admitChangeRevokeWithTwoThirdsOfThePower() {
        Net net(4);
        Officials officials(3);
        app::MemoryChain chain = net.chain();

        // 2 of 4 equal validators are not more than 2/3: refused at check and in a block.
        const Transaction tooFew = proposal(net, AuthorityOp::Admit, officials.authority("lu-2027", 2), 2);
        QCOMPARE(chain.checkTx(tooFew).code(), Code::PermissionDenied);
        QCOMPARE(runOne(chain, tooFew).code(), Code::PermissionDenied);
        QVERIFY(!app::readAuthority(chain.state(), "lu-2027").value());

        const Transaction admit = proposal(net, AuthorityOp::Admit, officials.authority("lu-2027", 2), 3);
        QVERIFY2(chain.checkTx(admit).isOk(), chain.checkTx(admit).toString().c_str());
        QVERIFY(runOne(chain, admit).isOk());
        auto a = app::requireAuthority(chain.state(), "lu-2027", "election-authority");
        QVERIFY2(a, a.status().toString().c_str());
        QCOMPARE(a->members.size(), 3u);
        QCOMPARE(a->threshold, 2u);
        QCOMPARE(a->sinceHeight, chain.height());
        QCOMPARE(app::requireAuthority(chain.state(), "lu-2027", "agency").status().code(),
                 Code::PermissionDenied);
        QCOMPARE(app::requireAuthority(chain.state(), "other", "agency").status().code(), Code::NotFound);

        // The same proposal again is refused (applied once), and so is a
        // second admission of the id.
        QCOMPARE(runOne(chain, admit).code(), Code::AlreadyExists);
        QCOMPARE(
            runOne(chain, proposal(net, AuthorityOp::Admit, officials.authority("lu-2027", 1), 3, 2)).code(),
            Code::AlreadyExists);

        // Its threshold, as an application checks it.
        const crypto::Hash256 digest = crypto::sha256(asBytes("define the 2027 election"));
        QVERIFY(a->verifyQuorum(digest, officials.sign(digest, {0, 2})).isOk());
        QCOMPARE(a->verifyQuorum(digest, officials.sign(digest, {1})).code(), Code::PermissionDenied);
        QCOMPARE(a->verifyQuorum(digest, officials.sign(digest, {2, 0})).code(),
                 Code::InvalidArgument);  // order
        auto forged = officials.sign(digest, {0, 1});
        forged[1].signature = forged[0].signature;
        QCOMPARE(a->verifyQuorum(digest, forged).code(), Code::Unauthenticated);
        const auto outsider = crypto::SecretKey::generate();
        QCOMPARE(a->verifyQuorum(digest, {{outsider.publicKey(), crypto::sign(outsider, digest)}}).code(),
                 Code::Unauthenticated);

        // Change: three of three from now on; the role cannot change.
        QVERIFY(runOne(chain, proposal(net, AuthorityOp::Change, officials.authority("lu-2027", 3), 3, 3))
                    .isOk());
        a = app::requireAuthority(chain.state(), "lu-2027", "election-authority");
        QCOMPARE(a->threshold, 3u);
        QCOMPARE(a->verifyQuorum(digest, officials.sign(digest, {0, 2})).code(), Code::PermissionDenied);
        Authority agency = officials.authority("lu-2027", 1);
        agency.role = "agency";
        QCOMPARE(runOne(chain, proposal(net, AuthorityOp::Change, agency, 3, 4)).code(),
                 Code::FailedPrecondition);
        QCOMPARE(
            runOne(chain, proposal(net, AuthorityOp::Change, officials.authority("nobody", 1), 3, 5)).code(),
            Code::NotFound);

        // Revoke: gone (an absence the state proves), and its id never reused.
        Authority byId;
        byId.id = "lu-2027";
        QVERIFY(runOne(chain, proposal(net, AuthorityOp::Revoke, byId, 4, 6)).isOk());
        QVERIFY(!app::readAuthority(chain.state(), "lu-2027").value());
        QVERIFY(chain.state().get(revokedAuthorityKey("lu-2027")).value().has_value());
        QCOMPARE(runOne(chain, proposal(net, AuthorityOp::Revoke, byId, 4, 7)).code(), Code::NotFound);
        QCOMPARE(
            runOne(chain, proposal(net, AuthorityOp::Admit, officials.authority("lu-2027", 1), 3, 8)).code(),
            Code::FailedPrecondition);
        // Every key governance wrote is under its prefix.
        for (const auto& [k, v] : chain.state().entries()) {
            QVERIFY(std::string(k.begin(), k.end()).starts_with(consensus::kGovernanceStatePrefix));
        }
    }

    void invalidProposalsAreRefused() {
        Net net(4);
        Officials officials(3);
        app::MemoryChain chain = net.chain();
        // Approved for another validator set.
        AuthorityPayload p;
        p.proposal.baseSetHash = crypto::sha256(asBytes("another set"));
        p.proposal.authority = officials.authority("x", 1);
        for (std::size_t i = 0; i < 4; ++i) p.approve(kChain, net.keys[i]);
        QCOMPARE(runOne(chain, consensus::makeAuthorityTx(kChain, net.keys[0], p, expiry())).code(),
                 Code::FailedPrecondition);
        // Malformed authorities never decode: threshold 0 or above the
        // members, members out of order, a bad id.
        const auto refused = [&](Authority a) {
            return runOne(chain, proposal(net, AuthorityOp::Admit, std::move(a), 4)).code();
        };
        QCOMPARE(refused(officials.authority("x", 0)), Code::InvalidArgument);
        QCOMPARE(refused(officials.authority("x", 4)), Code::InvalidArgument);
        Authority unsorted = officials.authority("x", 1);
        std::swap(unsorted.members[0], unsorted.members[1]);
        QCOMPARE(refused(unsorted), Code::InvalidArgument);
        QCOMPARE(refused(officials.authority("Not Valid", 1)), Code::InvalidArgument);
        QVERIFY(chain.state().entries().empty());
    }
};

QTEST_GUILESS_MAIN(TestAuthorities)
#include "test_authorities.moc"
