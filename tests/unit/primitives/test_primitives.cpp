// Unit tests for the canonical encodings of transactions, headers and
// commits (round trips, strictness, golden layout), commit verification
// against a validator set, and genesis parsing.
#include "crypto/random.h"
#include "primitives/block.h"
#include "primitives/genesis.h"
#include "primitives/proof.h"
#include "primitives/transaction.h"
#include "primitives/validator_set.h"

#include <QtTest>

#include <algorithm>

using namespace fides;

namespace {

Transaction sampleTx(const crypto::SecretKey& key) {
    Transaction tx;
    tx.chainId = "chain-a";
    tx.type = 1;
    tx.payload = {0xde, 0xad, 0xbe, 0xef};
    tx.nonce = 0x0102030405060708ULL;
    tx.expiry = 1'900'000'000;
    tx.sign(key);
    return tx;
}

BlockHeader sampleHeader(const crypto::PublicKey& proposer) {
    BlockHeader h;
    h.chainId = "chain-a";
    h.height = 42;
    h.timeMs = 1'800'000'000'123ULL;
    h.prevHash = crypto::sha256(asBytes(std::string("prev")));
    h.txRoot = crypto::sha256(asBytes(std::string("txs")));
    h.txCount = 7;
    h.stateRoot = crypto::sha256(asBytes(std::string("state")));
    h.proposer = proposer;
    h.validatorSetHash = crypto::sha256(asBytes(std::string("vals")));
    h.nextValidatorSetHash = crypto::sha256(asBytes(std::string("next vals")));
    return h;
}

struct Net {
    std::vector<crypto::SecretKey> keys;
    ValidatorSet set;
    explicit Net(const std::vector<std::uint64_t>& powers) {
        std::vector<Validator> vs;
        for (std::size_t i = 0; i < powers.size(); ++i) {
            keys.push_back(crypto::SecretKey::generate());
            vs.push_back({keys.back().publicKey(), powers[i], "v" + std::to_string(i)});
        }
        set = ValidatorSet::create(vs).value();
    }
    Commit commit(const BlockHeader& h, const std::vector<std::size_t>& signers) const {
        Commit c;
        c.height = h.height;
        c.round = 3;
        c.blockHash = h.hash();
        // Commits list signatures in ascending key order.
        std::vector<std::size_t> ordered = signers;
        std::sort(ordered.begin(), ordered.end(),
                  [&](std::size_t a, std::size_t b) { return keys[a].publicKey() < keys[b].publicKey(); });
        for (std::size_t i : ordered) {
            c.signatures.push_back(
                {keys[i].publicKey(),
                 crypto::sign(keys[i], precommitDigest(h.chainId, h.height, 3, c.blockHash))});
        }
        return c;
    }
};

}  // namespace

class TestPrimitives : public QObject {
    Q_OBJECT

private slots:
    void transactionRoundTripAndSignature() {
        const auto key = crypto::SecretKey::generate();
        const Transaction tx = sampleTx(key);
        QVERIFY(tx.verifySignature());
        const Bytes enc = tx.encode();
        auto back = Transaction::decode(enc);
        QVERIFY2(back, back.status().toString().c_str());
        QCOMPARE(back->encode(), enc);
        QVERIFY(back->verifySignature());
        QCOMPARE(back->signer, key.publicKey());
        // Layout: version, chain id (u32 length + bytes), type, payload, signer, nonce, expiry, signature.
        QCOMPARE(enc.size(), std::size_t(1 + 4 + 7 + 2 + 4 + 4 + 32 + 8 + 8 + 64));
        QCOMPARE(enc[0], std::uint8_t(1));
        QCOMPARE(Bytes(enc.begin() + 1, enc.begin() + 5), (Bytes{0, 0, 0, 7}));
        QCOMPARE(Bytes(enc.begin() + 12, enc.begin() + 14), (Bytes{0, 1}));
        QCOMPARE(Bytes(enc.end() - 64 - 16, enc.end() - 64 - 8), (Bytes{1, 2, 3, 4, 5, 6, 7, 8}));
        // The hash covers the signature; the signing digest does not.
        Transaction other = tx;
        other.signature = crypto::sign(key, tx.signingDigest());
        QCOMPARE(other.signingDigest(), tx.signingDigest());
    }

    void transactionDecodingIsStrict() {
        const Bytes enc = sampleTx(crypto::SecretKey::generate()).encode();
        Bytes trailing = enc;
        trailing.push_back(0);
        QCOMPARE(Transaction::decode(trailing).status().code(), Code::InvalidArgument);
        QCOMPARE(Transaction::decode(Bytes(enc.begin(), enc.end() - 1)).status().code(),
                 Code::InvalidArgument);
        Bytes badVersion = enc;
        badVersion[0] = 2;
        QCOMPARE(Transaction::decode(badVersion).status().code(), Code::InvalidArgument);
        Bytes badKey = enc;
        // The signer starts after version, chain id, type and payload.
        const std::size_t signerAt = 1 + 4 + 7 + 2 + 4 + 4;
        for (std::size_t i = 0; i < 32; ++i) badKey[signerAt + i] = 0xff;  // not on the curve
        QCOMPARE(Transaction::decode(badKey).status().code(), Code::InvalidArgument);
        QCOMPARE(Transaction::decode(Bytes(100 * 1024, 1)).status().code(), Code::InvalidArgument);
        // Every single-bit flip either fails to decode or fails the signature.
        for (std::size_t i = 0; i < enc.size(); ++i) {
            Bytes flipped = enc;
            flipped[i] ^= 0x01;
            auto t = Transaction::decode(flipped);
            QVERIFY2(!t || !t->verifySignature(), qPrintable(QString("byte %1").arg(i)));
        }
    }

    void headerAndCommitRoundTrip() {
        const auto key = crypto::SecretKey::generate();
        const BlockHeader h = sampleHeader(key.publicKey());
        auto back = BlockHeader::decode(h.encode());
        QVERIFY(back);
        QCOMPARE(back->encode(), h.encode());
        QCOMPARE(back->hash(), h.hash());
        QCOMPARE(back->height, 42u);
        Bytes trailing = h.encode();
        trailing.push_back(1);
        QVERIFY(!BlockHeader::decode(trailing));
        BlockHeader changed = h;
        changed.stateRoot = crypto::Hash256();
        QVERIFY(changed.hash() != h.hash());

        Net net({1, 1, 1});
        const Commit c = net.commit(h, {0, 1, 2});
        auto cb = Commit::decode(c.encode());
        QVERIFY(cb);
        QCOMPARE(cb->encode(), c.encode());
        const Bytes commitBytes = c.encode();
        QVERIFY(!Commit::decode(Bytes(commitBytes.begin(), commitBytes.end() - 1)));
        // Signatures out of key order are refused: one commit, one encoding.
        Commit reordered = c;
        std::swap(reordered.signatures[0], reordered.signatures[1]);
        QVERIFY(!net.set.verifyCommit(h.chainId, h.height, h.hash(), reordered).isOk());

        std::vector<Bytes> body{{1}, {2, 3}, {}};
        auto bodyBack = Block::decodeBody(Block::encodeBody(body));
        QVERIFY(bodyBack);
        QCOMPARE(*bodyBack, body);
    }

    void commitVerification() {
        Net net({10, 10, 10, 10});
        BlockHeader h = sampleHeader(net.keys[0].publicKey());
        const auto hash = h.hash();
        std::uint64_t power = 0;
        QVERIFY(net.set.verifyCommit(h.chainId, h.height, hash, net.commit(h, {0, 1, 2}), &power).isOk());
        QCOMPARE(power, 30u);
        // Exactly 2/3 is not enough.
        Net six({10, 10, 10});
        BlockHeader h6 = sampleHeader(six.keys[0].publicKey());
        QCOMPARE(six.set.verifyCommit(h6.chainId, h6.height, h6.hash(), six.commit(h6, {0, 1})).code(),
                 Code::Unauthenticated);
        QVERIFY(six.set.verifyCommit(h6.chainId, h6.height, h6.hash(), six.commit(h6, {0, 1, 2})).isOk());
        // Too little power.
        QCOMPARE(net.set.verifyCommit(h.chainId, h.height, hash, net.commit(h, {0, 1})).code(),
                 Code::Unauthenticated);
        // The same signature twice does not count twice.
        Commit dup = net.commit(h, {0, 1});
        dup.signatures.push_back(dup.signatures.back());
        QVERIFY(!net.set.verifyCommit(h.chainId, h.height, hash, dup).isOk());
        // A signer outside the set.
        Commit outsider = net.commit(h, {0, 1});
        const auto stranger = crypto::SecretKey::generate();
        outsider.signatures.push_back(
            {stranger.publicKey(), crypto::sign(stranger, precommitDigest(h.chainId, h.height, 3, hash))});
        std::sort(outsider.signatures.begin(), outsider.signatures.end(),
                  [](const CommitSig& a, const CommitSig& b) { return a.validator < b.validator; });
        QCOMPARE(net.set.verifyCommit(h.chainId, h.height, hash, outsider).code(), Code::Unauthenticated);
        // A forged signature.
        Commit forged = net.commit(h, {0, 1, 2});
        auto sig = forged.signatures[2].signature.array();
        sig[5] ^= 1;
        forged.signatures[2].signature = *crypto::Signature::fromBytes(sig);
        QCOMPARE(net.set.verifyCommit(h.chainId, h.height, hash, forged).code(), Code::Unauthenticated);
        // Another block, height or chain.
        QVERIFY(
            !net.set.verifyCommit(h.chainId, h.height, crypto::Hash256(), net.commit(h, {0, 1, 2})).isOk());
        QVERIFY(!net.set.verifyCommit(h.chainId, h.height + 1, hash, net.commit(h, {0, 1, 2})).isOk());
        QVERIFY(!net.set.verifyCommit("chain-b", h.height, hash, net.commit(h, {0, 1, 2})).isOk());

        // verifySignedHeader also checks the validator set hash.
        h.validatorSetHash = net.set.hash();
        auto ok = verifySignedHeader(net.set, h.chainId, h.encode(), net.commit(h, {1, 2, 3}).encode());
        QVERIFY2(ok, ok.status().toString().c_str());
        QCOMPARE(ok->signatures, 3u);
        BlockHeader otherSet = h;
        otherSet.validatorSetHash = crypto::Hash256();
        QVERIFY(!verifySignedHeader(net.set, h.chainId, otherSet.encode(),
                                    net.commit(otherSet, {1, 2, 3}).encode()));
    }

    void validatorSetRules() {
        const auto a = crypto::SecretKey::generate().publicKey();
        const auto b = crypto::SecretKey::generate().publicKey();
        QVERIFY(!ValidatorSet::create({}));
        QVERIFY(!ValidatorSet::create({{a, 0, "zero"}}));
        QVERIFY(!ValidatorSet::create({{a, 1, "x"}, {a, 2, "y"}}));
        auto s1 = ValidatorSet::create({{a, 1, "x"}, {b, 2, "y"}});
        auto s2 = ValidatorSet::create({{b, 2, "renamed"}, {a, 1, "x"}});
        QVERIFY(s1 && s2);
        QCOMPARE(s1->hash(), s2->hash());  // order and names do not matter
        auto s3 = ValidatorSet::create({{a, 1, "x"}, {b, 3, "y"}});
        QVERIFY(s3->hash() != s1->hash());  // power does
    }

    void genesisParsing() {
        const auto k = crypto::SecretKey::generate().publicKey();
        auto json = [](const std::string& chain, const std::string& key, const std::string& power) {
            return "{\"chain_id\":\"" + chain + "\",\"genesis_time_ms\":5,\"validators\":[{\"name\":\"v\"," +
                   "\"public_key\":\"" + key + "\",\"power\":" + power + "}]}";
        };
        auto g = Genesis::parseJson(json("c1", k.hex(), "10"));
        QVERIFY2(g, g.status().toString().c_str());
        QCOMPARE(g->chainId, std::string("c1"));
        auto again = Genesis::parseJson(g->toJson());
        QVERIFY(again);
        QCOMPARE(again->validators.hash(), g->validators.hash());
        QVERIFY(!Genesis::parseJson("not json"));
        QVERIFY(!Genesis::parseJson("{\"chain_id\":\"c1\"}"));
        QVERIFY(!Genesis::parseJson(json("", k.hex(), "10")));                    // empty chain id
        QVERIFY(!Genesis::parseJson(json("c", "00", "10")));                      // invalid key
        QVERIFY(!Genesis::parseJson(json("c", k.hex(), "-1")));                   // negative power
        QVERIFY(!Genesis::parseJson(json("c", k.hex(), "0")));                    // zero power
        QVERIFY(!Genesis::parseJson(json("c", k.hex(), "9223372036854775807")));  // beyond the power bound
        QCOMPARE(Genesis::load("/nonexistent/genesis.json").status().code(), Code::NotFound);
    }
};

QTEST_APPLESS_MAIN(TestPrimitives)
#include "test_primitives.moc"
