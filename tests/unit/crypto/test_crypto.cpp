// Unit tests for crypto/hash.h, crypto/schnorr.h and crypto/random.h.
//
// Includes the full official BIP-340 vector file (tests/data/bip340_vectors.csv)
// and cross-checks SHA-256 / tagged hashes against Qt's independent
// implementation (QCryptographicHash).
#include "crypto/hash.h"
#include "crypto/random.h"
#include "crypto/schnorr.h"

#include <QCryptographicHash>
#include <QFile>
#include <QObject>
#include <QStringList>
#include <QTest>

#include <atomic>
#include <cctype>
#include <set>
#include <string>
#include <thread>
#include <vector>

// Readable QCOMPARE failure output.
namespace fides::crypto {
char* toString(const Hash256& h) { return qstrdup(h.hex().c_str()); }
char* toString(const PublicKey& k) { return qstrdup(k.hex().c_str()); }
char* toString(const Signature& s) { return qstrdup(s.hex().c_str()); }
}  // namespace fides::crypto
namespace QTest {
template <>
char* toString(const std::string& s) {
    return qstrdup(s.c_str());
}
}  // namespace QTest

using namespace fides;
using namespace fides::crypto;

namespace {

Bytes hexOrDie(std::string_view hex) {
    auto b = fromHex(hex);
    if (!b) qFatal("bad hex in test: %s", std::string(hex).c_str());
    return *b;
}

std::string lower(std::string s) {
    for (char& c : s) {
        if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    }
    return s;
}

// Reference SHA-256 from Qt (a different implementation from Botan's).
Bytes qtSha256(ByteView data) {
    QByteArray d = QCryptographicHash::hash(
        QByteArray(reinterpret_cast<const char*>(data.data()), static_cast<qsizetype>(data.size())),
        QCryptographicHash::Sha256);
    return Bytes(d.begin(), d.end());
}

Bytes qtTaggedHash(const std::string& tag, ByteView data) {
    Bytes t = qtSha256(asBytes(tag));
    Bytes pre = t;
    pre.insert(pre.end(), t.begin(), t.end());
    pre.insert(pre.end(), data.begin(), data.end());
    return qtSha256(pre);
}

Bytes toB(const Hash256& h) { return Bytes(h.bytes().begin(), h.bytes().end()); }

const char* kOrderHex = "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141";

}  // namespace

class TestCrypto : public QObject {
    Q_OBJECT

private slots:
    // Parsed keys are cached (schnorr.cpp): with more keys than cache slots,
    // every key still parses to what verification needs, an invalid key is
    // refused every time, and a colliding key never verifies another's
    // signature.
    void parsedKeyCacheNeverChangesResults() {
        const Hash256 msg = sha256(asBytes(std::string("cache")));
        std::vector<std::pair<Bytes, Signature>> signed_;
        for (int i = 0; i < 6000; ++i) {
            const auto k = SecretKey::generate();
            const auto pk = k.publicKey();
            signed_.emplace_back(Bytes(pk.bytes().begin(), pk.bytes().end()), sign(k, msg));
        }
        for (int pass = 0; pass < 2; ++pass) {
            for (std::size_t i = 0; i < signed_.size(); ++i) {
                auto pk = PublicKey::fromBytes(signed_[i].first);
                QVERIFY(pk);
                QVERIFY(verify(*pk, msg, signed_[i].second));
                QVERIFY(!verify(*pk, msg, signed_[(i + 1) % signed_.size()].second));
            }
        }
        // x = 5 is not on the curve (BIP-340 vector 5's key): refused, twice.
        const auto bad = fromHex("eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34").value();
        QVERIFY(!PublicKey::fromBytes(bad));
        QVERIFY(!PublicKey::fromBytes(bad));
    }

    void sha256KnownAnswers();
    void sha256IncrementalMatchesOneShot();
    void taggedHashKnownAnswer();
    void bip340Vectors();
    void signVerifyRoundTrip();
    void tamperedMessageOrSignatureFails();
    void invalidPublicKeyRejected();
    void invalidSecretKeyRejected();
    void hexRoundTrips();
    void wrongLengthFromBytesRejected();
    void hash256Helpers();
    void randomness();
    void concurrentSignVerify();
    void publicKeyIdentityAndParsedCache();
};

void TestCrypto::sha256KnownAnswers() {
    QCOMPARE(sha256(asBytes("")).hex(),
             std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    QCOMPARE(sha256(asBytes("abc")).hex(),
             std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    // FIPS 180-2 two-block message.
    QCOMPARE(sha256(asBytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).hex(),
             std::string("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
    // One million 'a'.
    const std::string million(1000000, 'a');
    QCOMPARE(sha256(asBytes(million)).hex(),
             std::string("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
    // Repeated calls on the thread's reused hash object do not leak state.
    QCOMPARE(sha256(asBytes("abc")).hex(),
             std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    // Cross-check against Qt over many lengths (block boundaries 55/56/64).
    Bytes data;
    for (int len = 0; len <= 200; ++len) {
        QCOMPARE(toB(sha256(data)), qtSha256(data));
        data.push_back(static_cast<std::uint8_t>(len * 7 + 3));
    }
}

void TestCrypto::sha256IncrementalMatchesOneShot() {
    Bytes data;
    for (int i = 0; i < 300; ++i) data.push_back(static_cast<std::uint8_t>(i));
    Sha256 h;
    // Split into uneven pieces, including single bytes.
    h.update(ByteView(data).subspan(0, 10));
    h.update(data[10]);
    h.update(ByteView(data).subspan(11, 100));
    h.update(ByteView(data).subspan(111));
    const Hash256 inc = h.finish();
    QCOMPARE(inc, sha256(data));
    // finish() resets: the same instance hashes "abc" correctly afterwards.
    h.update(asBytes("abc"));
    QCOMPARE(h.finish().hex(),
             std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    // Empty finish is the empty digest.
    QCOMPARE(h.finish().hex(),
             std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    // update(Hash256) feeds the 32 digest bytes.
    const Hash256 x = sha256(asBytes("x"));
    h.update(x);
    QCOMPARE(h.finish(), sha256(x.bytes()));
}

void TestCrypto::taggedHashKnownAnswer() {
    const Bytes msg = toBytes("fides tagged hash test message");
    // By hand with the incremental hasher.
    const Hash256 t = sha256(asBytes("BIP0340/challenge"));
    Sha256 h;
    h.update(t).update(t).update(msg);
    const Hash256 byHand = h.finish();
    QCOMPARE(taggedHash("BIP0340/challenge", msg), byHand);
    // And against Qt's SHA-256.
    QCOMPARE(toB(byHand), qtTaggedHash("BIP0340/challenge", msg));

    // Alternating tags must not be confused by any caching of the tag digest.
    const std::vector<std::string> tags = {"A", "B", "A", "", "fides/tx", "fides/tx", "B"};
    for (const auto& tag : tags) {
        QCOMPARE(toB(taggedHash(tag, msg)), qtTaggedHash(tag, msg));
        QCOMPARE(toB(taggedHash(tag, {})), qtTaggedHash(tag, {}));
    }
    QVERIFY(taggedHash("A", msg) != taggedHash("B", msg));
    QVERIFY(taggedHash("A", msg) != sha256(msg));
}

void TestCrypto::bip340Vectors() {
    QFile f(QStringLiteral(FIDES_TEST_DATA_DIR "/bip340_vectors.csv"));
    QVERIFY2(f.open(QIODevice::ReadOnly | QIODevice::Text), "cannot open bip340_vectors.csv");
    const QList<QByteArray> lines = f.readAll().split('\n');
    QVERIFY(!lines.isEmpty());
    QCOMPARE(lines[0].trimmed(),
             QByteArray("index,secret key,public key,aux_rand,message,signature,verification "
                        "result,comment"));

    int expectedLines = 0;
    int rows = 0;
    int signedRows = 0;
    int validRows = 0;
    int invalidRows = 0;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QByteArray line = lines[i].trimmed();
        if (line.isEmpty()) continue;
        ++expectedLines;
        const QList<QByteArray> cols = line.split(',');
        QVERIFY2(cols.size() >= 8, line.constData());
        const int index = cols[0].toInt();
        QCOMPARE(index, rows);  // indices run 0,1,2,... with no gaps
        const std::string where = "vector " + std::to_string(index);
        const std::string skHex = cols[1].toStdString();
        const std::string pkHex = cols[2].toStdString();
        const std::string auxHex = cols[3].toStdString();
        const Bytes msg = hexOrDie(cols[4].toStdString());
        const Bytes pkBytes = hexOrDie(pkHex);
        const Bytes sigBytes = hexOrDie(cols[5].toStdString());
        const QByteArray verdict = cols[6];
        QVERIFY2(verdict == "TRUE" || verdict == "FALSE", where.c_str());
        const bool expected = verdict == "TRUE";
        expected ? ++validRows : ++invalidRows;

        if (!skHex.empty()) {
            auto sk = SecretKey::fromHex(skHex);
            QVERIFY2(sk.has_value(), where.c_str());
            QCOMPARE(sk->publicKey().hex(), lower(pkHex));
            const Bytes auxB = hexOrDie(auxHex);
            QCOMPARE(auxB.size(), std::size_t(32));
            std::array<std::uint8_t, 32> aux{};
            std::copy(auxB.begin(), auxB.end(), aux.begin());
            const Signature raw = signRaw(*sk, msg, aux);
            QVERIFY2(raw.bytes().size() == sigBytes.size() &&
                         std::equal(sigBytes.begin(), sigBytes.end(), raw.bytes().begin()),
                     (where + ": signRaw gave " + raw.hex()).c_str());
            if (msg.size() == 32) {
                const Signature s = sign(*sk, *Hash256::fromBytes(msg), aux);
                QCOMPARE(s.hex(), lower(cols[5].toStdString()));
            }
            ++signedRows;
        }

        QVERIFY2(verifyRaw(pkBytes, msg, sigBytes) == expected, where.c_str());

        // The typed API must agree: an unparsable key can only be in a FALSE row.
        auto pk = PublicKey::fromBytes(pkBytes);
        if (!pk) {
            QVERIFY2(!expected, (where + ": valid vector with unparsable key").c_str());
        } else if (msg.size() == 32) {
            auto sig = Signature::fromBytes(sigBytes);
            QVERIFY(sig.has_value());
            QVERIFY2(verify(*pk, *Hash256::fromBytes(msg), *sig) == expected, where.c_str());
        }
        ++rows;
    }
    // No silent pass on an empty or truncated file: every data line was a row,
    // and the official file has at least 15 (19 with the 2022 additions).
    QCOMPARE(rows, expectedLines);
    QVERIFY(rows >= 15);
    QVERIFY(signedRows >= 4);
    QVERIFY(validRows >= 5);
    QVERIFY(invalidRows >= 10);
    qInfo("BIP-340: %d rows (%d signed, %d valid, %d invalid)", rows, signedRows, validRows, invalidRows);
}

void TestCrypto::signVerifyRoundTrip() {
    const SecretKey sk = SecretKey::generate();
    const PublicKey pk = sk.publicKey();
    QCOMPARE(sk.secretBytes().size(), SecretKey::kSize);
    QVERIFY(PublicKey::fromBytes(pk.bytes()).has_value());
    // A generated key round-trips through fromBytes and derives the same key.
    auto again = SecretKey::fromBytes({sk.secretBytes().data(), sk.secretBytes().size()});
    QVERIFY(again.has_value());
    QCOMPARE(again->publicKey(), pk);

    const Hash256 msg = taggedHash("fides/test", asBytes("hello"));
    const Signature s1 = sign(sk, msg);
    const Signature s2 = sign(sk, msg);
    QVERIFY(verify(pk, msg, s1));
    QVERIFY(verify(pk, msg, s2));
    QVERIFY(verifyRaw(pk.bytes(), msg.bytes(), s1.bytes()));
    // Fresh aux randomness: two signatures of one message differ.
    QVERIFY(s1 != s2);
    // A fixed aux value makes signing deterministic.
    const std::array<std::uint8_t, 32> aux{1, 2, 3};
    QCOMPARE(sign(sk, msg, aux), sign(sk, msg, aux));
    QCOMPARE(sign(sk, msg, aux), signRaw(sk, msg.bytes(), aux));

    // Two generated keys differ.
    const SecretKey other = SecretKey::generate();
    QVERIFY(other.publicKey() != pk);
    QVERIFY(!verify(other.publicKey(), msg, s1));
}

void TestCrypto::tamperedMessageOrSignatureFails() {
    const SecretKey sk =
        *SecretKey::fromHex("B7E151628AED2A6ABF7158809CF4F3C762E7160F38B4DA56A784D9045190CFEF");
    const PublicKey pk = sk.publicKey();
    const Hash256 msg = sha256(asBytes("pay 100 to alice"));
    const Signature sig = sign(sk, msg);
    QVERIFY(verify(pk, msg, sig));

    for (std::size_t bit = 0; bit < 256; bit += 37) {
        auto m = msg.array();
        m[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
        QVERIFY(!verify(pk, Hash256(m), sig));
    }
    for (std::size_t pos : {0, 1, 31, 32, 33, 63}) {
        auto b = sig.array();
        b[pos] ^= 0x01;
        QVERIFY(!verify(pk, msg, *Signature::fromBytes({b.data(), b.size()})));
    }
    // Wrong message length in the raw form.
    Bytes longer(msg.bytes().begin(), msg.bytes().end());
    longer.push_back(0);
    QVERIFY(!verifyRaw(pk.bytes(), longer, sig.bytes()));
    QVERIFY(!verifyRaw(pk.bytes(), msg.bytes().first(31), sig.bytes()));
    // Wrong-length key or signature in the raw form.
    QVERIFY(!verifyRaw(pk.bytes().first(31), msg.bytes(), sig.bytes()));
    QVERIFY(!verifyRaw(pk.bytes(), msg.bytes(), sig.bytes().first(63)));
    // All-zero signature and default (all-zero) public key.
    QVERIFY(!verify(pk, msg, Signature()));
    QVERIFY(!verify(PublicKey(), msg, sig));
}

void TestCrypto::invalidPublicKeyRejected() {
    // Vector 5: x not on the curve; vector 14: x >= field size p.
    QVERIFY(!PublicKey::fromHex("EEFDEA4CDB677750A420FEE807EACF21EB9898AE79B9768766E4FAA04A2D4A34"));
    QVERIFY(!PublicKey::fromHex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC30"));
    QVERIFY(!PublicKey::fromHex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F"));
    QVERIFY(!PublicKey::fromHex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"));
    // A valid key, for contrast, and its compressed (33-byte) form is rejected.
    QVERIFY(PublicKey::fromHex("DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659"));
    QVERIFY(!PublicKey::fromHex("02DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659"));
    QVERIFY(!PublicKey::fromHex("not hex"));
    QVERIFY(!PublicKey::fromHex(""));
    // verifyRaw with an unparsable key is false, not an error.
    const Bytes bad = hexOrDie("EEFDEA4CDB677750A420FEE807EACF21EB9898AE79B9768766E4FAA04A2D4A34");
    QVERIFY(!verifyRaw(bad, Bytes(32, 0), Bytes(64, 1)));
}

void TestCrypto::invalidSecretKeyRejected() {
    QVERIFY(!SecretKey::fromBytes(Bytes(32, 0)));
    QVERIFY(!SecretKey::fromHex(kOrderHex));  // n
    QVERIFY(!SecretKey::fromHex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364142"));
    QVERIFY(!SecretKey::fromHex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"));
    QVERIFY(!SecretKey::fromBytes(hexOrDie(kOrderHex)));
    // n - 1 and 1 are the extreme valid scalars.
    QVERIFY(SecretKey::fromHex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364140"));
    QVERIFY(SecretKey::fromHex("0000000000000000000000000000000000000000000000000000000000000001"));
    // 1*G: the x coordinate of the generator.
    QCOMPARE(SecretKey::fromHex("0000000000000000000000000000000000000000000000000000000000000001")
                 ->publicKey()
                 .hex(),
             std::string("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"));
    // Malformed hex.
    QVERIFY(!SecretKey::fromHex("000000000000000000000000000000000000000000000000000000000000001"));
    QVERIFY(!SecretKey::fromHex("00000000000000000000000000000000000000000000000000000000000000001"));
    QVERIFY(!SecretKey::fromHex("000000000000000000000000000000000000000000000000000000000000000g"));
    QVERIFY(!SecretKey::fromHex(""));
    // Mixed case is accepted and means the same key.
    auto a = SecretKey::fromHex("b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef");
    auto b = SecretKey::fromHex("B7E151628AED2A6ABF7158809CF4F3C762E7160F38B4DA56A784D9045190CFEF");
    QVERIFY(a && b);
    QVERIFY(a->secretBytes() == b->secretBytes());
}

void TestCrypto::hexRoundTrips() {
    const std::string hh = "00112233445566778899aabbccddeeff0123456789abcdef0fedcba987654321";
    auto h = Hash256::fromHex(hh);
    QVERIFY(h);
    QCOMPARE(h->hex(), hh);
    QCOMPARE(h->array()[0], std::uint8_t(0x00));
    QCOMPARE(h->array()[15], std::uint8_t(0xff));
    QCOMPARE(*Hash256::fromHex(lower("00112233445566778899AABBCCDDEEFF0123456789ABCDEF0FEDCBA987654321")),
             *h);
    {
        std::string upper = hh;
        for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        QCOMPARE(Hash256::fromHex(upper)->hex(), hh);  // upper accepted, printed lower
    }

    const std::string pkh = "dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659";
    auto pk = PublicKey::fromHex(pkh);
    QVERIFY(pk);
    QCOMPARE(pk->hex(), pkh);
    QCOMPARE(*PublicKey::fromBytes(pk->bytes()), *pk);

    const std::string sh =
        "6896bd60eeae296db48a229ff71dfe071bde413e6d43f917dc8dcf8c78de3341"
        "8906d11ac976abccb20b091292bff4ea897efcb639ea871cfa95f6de339e4b0a";
    auto s = Signature::fromHex(sh);
    QVERIFY(s);
    QCOMPARE(s->hex(), sh);
    QCOMPARE(*Signature::fromBytes(s->bytes()), *s);

    QVERIFY(!Hash256::fromHex(hh.substr(1)));         // odd length
    QVERIFY(!Hash256::fromHex("zz" + hh.substr(2)));  // not hex
    QVERIFY(!Signature::fromHex(sh + "0"));
    QVERIFY(!Signature::fromHex(sh.substr(0, 126) + "xy"));
}

void TestCrypto::wrongLengthFromBytesRejected() {
    for (std::size_t n : {0, 1, 31, 33, 64}) {
        QVERIFY(!Hash256::fromBytes(Bytes(n, 1)));
        QVERIFY(!PublicKey::fromBytes(Bytes(n, 1)));
        QVERIFY(!SecretKey::fromBytes(Bytes(n, 1)));
    }
    for (std::size_t n : {0, 32, 63, 65, 128}) QVERIFY(!Signature::fromBytes(Bytes(n, 1)));
    QVERIFY(Hash256::fromBytes(Bytes(32, 1)));
    QVERIFY(Signature::fromBytes(Bytes(64, 1)));  // size check only
    QVERIFY(SecretKey::fromBytes(Bytes(32, 1)));
    QVERIFY(!Hash256::fromHex(std::string(62, 'a')));
    QVERIFY(!Hash256::fromHex(std::string(66, 'a')));
}

void TestCrypto::hash256Helpers() {
    Hash256 zero;
    QVERIFY(zero.isZero());
    std::array<std::uint8_t, 32> a{};
    a[0] = 0x80;  // bit 0 is the MSB of byte 0
    a[1] = 0x01;  // bit 15 is the LSB of byte 1
    a[31] = 0x01;
    Hash256 h(a);
    QVERIFY(!h.isZero());
    QVERIFY(h.bit(0));
    QVERIFY(!h.bit(1));
    QVERIFY(!h.bit(7));
    QVERIFY(!h.bit(8));
    QVERIFY(h.bit(15));
    QVERIFY(h.bit(255));
    QVERIFY(!h.bit(254));
    QVERIFY(zero < h);  // lexicographic, byte 0 first
    std::array<std::uint8_t, 32> b = a;
    b[31] = 0x02;
    QVERIFY(h < Hash256(b));
    QVERIFY(Hash256Hasher{}(h) != Hash256Hasher{}(zero));
}

void TestCrypto::randomness() {
    std::set<std::array<std::uint8_t, 32>> seen;
    for (int i = 0; i < 16; ++i) seen.insert(randomArray<32>());
    QCOMPARE(seen.size(), std::size_t(16));
    std::set<std::uint64_t> values;
    for (int i = 0; i < 16; ++i) values.insert(randomU64());
    QVERIFY(values.size() >= 15);
    randomBytes(nullptr, 0);  // zero length is a no-op
    // Not all zero (probability 2^-256 of a false failure).
    QVERIFY(!Hash256(randomArray<32>()).isZero());
}

void TestCrypto::concurrentSignVerify() {
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([t, &failures] {
            for (int i = 0; i < 25; ++i) {
                const SecretKey sk = SecretKey::generate();
                const Hash256 msg = taggedHash("fides/thread", asBytes(std::to_string(t * 1000 + i)));
                const Signature s = sign(sk, msg);
                if (!verify(sk.publicKey(), msg, s)) ++failures;
                if (sha256(asBytes("abc")).hex() !=
                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") {
                    ++failures;
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    QCOMPARE(failures.load(), 0);
}

// PublicKey caches libsecp256k1's parsed form: identity must still be the 32
// bytes, and a default-constructed key (no parsed form) must never verify.
void TestCrypto::publicKeyIdentityAndParsedCache() {
    const auto key = SecretKey::generate();
    const Hash256 msg = sha256(asBytes(std::string("cached")));
    const Signature sig = sign(key, msg);
    const PublicKey a = key.publicKey();
    const PublicKey b = *PublicKey::fromBytes(a.bytes());
    QVERIFY(a == b);
    QVERIFY(!(a < b) && !(b < a));
    QVERIFY(verify(b, msg, sig));
    QVERIFY(!verify(PublicKey(), msg, sig));
    const PublicKey other = SecretKey::generate().publicKey();
    QVERIFY(a != other);
    QVERIFY(!verify(other, msg, sig));
    QCOMPARE((a < other), (a.array() < other.array()));
}

QTEST_APPLESS_MAIN(TestCrypto)
#include "test_crypto.moc"
