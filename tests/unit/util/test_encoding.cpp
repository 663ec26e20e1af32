// Unit tests for util/encoding.h (canonical Writer/Reader) and util/bytes.h
// (hex conversion).
#include "util/bytes.h"
#include "util/encoding.h"

#include <QObject>
#include <QTest>

#include <array>
#include <cstdint>
#include <limits>
#include <string>

using namespace fides;

namespace QTest {
template <>
char* toString(const std::string& s) {
    return qstrdup(s.c_str());
}
template <>
char* toString(const fides::Bytes& b) {
    return qstrdup(fides::toHex(b).c_str());
}
}  // namespace QTest

class TestEncoding : public QObject {
    Q_OBJECT

private slots:
    void roundTripAllTypes();
    void roundTripExtremes();
    void bigEndianLayout();
    void truncatedInputRejected();
    void trailingBytesRejected();
    void overLongVarRejected();
    void booleanMustBeZeroOrOne();
    void hexConversion();
};

void TestEncoding::roundTripAllTypes() {
    const std::array<std::uint8_t, 3> fixed{0xde, 0xad, 0x01};
    const Bytes var{0x00, 0x10, 0x20, 0xff};
    const std::string text = "Gemeinde Zürich";  // UTF-8, multi-byte
    Writer w;
    w.u8(0xab).u16(0x1234).u32(0xdeadbeef).u64(0x0102030405060708ULL).boolean(true).boolean(false);
    w.fixed(fixed).var(var).var({}).str(text).str("");
    const Bytes enc = w.bytes();

    Reader r(enc);
    std::uint8_t a = 0;
    std::uint16_t b = 0;
    std::uint32_t c = 0;
    std::uint64_t d = 0;
    bool t = false, f = true;
    std::array<std::uint8_t, 3> fx{};
    Bytes v, empty{1, 2};
    std::string s, s2 = "x";
    QVERIFY(r.u8(a).isOk());
    QVERIFY(r.u16(b).isOk());
    QVERIFY(r.u32(c).isOk());
    QVERIFY(r.u64(d).isOk());
    QVERIFY(r.boolean(t).isOk());
    QVERIFY(r.boolean(f).isOk());
    QVERIFY(r.fixed(fx).isOk());
    QVERIFY(r.var(v).isOk());
    QVERIFY(r.var(empty).isOk());
    QVERIFY(r.str(s, 100).isOk());
    QVERIFY(r.str(s2, 100).isOk());
    QCOMPARE(r.remaining(), std::size_t(0));
    QVERIFY(r.finish().isOk());

    QCOMPARE(a, std::uint8_t(0xab));
    QCOMPARE(b, std::uint16_t(0x1234));
    QCOMPARE(c, std::uint32_t(0xdeadbeef));
    QCOMPARE(d, std::uint64_t(0x0102030405060708ULL));
    QVERIFY(t);
    QVERIFY(!f);
    QVERIFY(fx == fixed);
    QCOMPARE(v, var);
    QVERIFY(empty.empty());
    QCOMPARE(s, text);
    QVERIFY(s2.empty());

    // take() hands over the same bytes.
    QCOMPARE(std::move(w).take(), enc);
}

void TestEncoding::roundTripExtremes() {
    Writer w;
    w.u8(0)
        .u8(0xff)
        .u16(0)
        .u16(0xffff)
        .u32(0)
        .u32(0xffffffffu)
        .u64(0)
        .u64(std::numeric_limits<std::uint64_t>::max());
    Reader r(w.bytes());
    std::uint8_t a0 = 1, a1 = 0;
    std::uint16_t b0 = 1, b1 = 0;
    std::uint32_t c0 = 1, c1 = 0;
    std::uint64_t d0 = 1, d1 = 0;
    QVERIFY(r.u8(a0).isOk() && r.u8(a1).isOk());
    QVERIFY(r.u16(b0).isOk() && r.u16(b1).isOk());
    QVERIFY(r.u32(c0).isOk() && r.u32(c1).isOk());
    QVERIFY(r.u64(d0).isOk() && r.u64(d1).isOk());
    QVERIFY(r.finish().isOk());
    QCOMPARE(a0, std::uint8_t(0));
    QCOMPARE(a1, std::uint8_t(0xff));
    QCOMPARE(b0, std::uint16_t(0));
    QCOMPARE(b1, std::uint16_t(0xffff));
    QCOMPARE(c0, std::uint32_t(0));
    QCOMPARE(c1, std::uint32_t(0xffffffffu));
    QCOMPARE(d0, std::uint64_t(0));
    QCOMPARE(d1, std::numeric_limits<std::uint64_t>::max());

    // A large var field (1 MiB) survives intact.
    Bytes big(1u << 20);
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i * 31);
    Writer w2;
    w2.var(big);
    Reader r2(w2.bytes());
    Bytes back;
    QVERIFY(r2.var(back).isOk());
    QVERIFY(r2.finish().isOk());
    QVERIFY(back == big);
}

void TestEncoding::bigEndianLayout() {
    QCOMPARE(Writer().u8(0x7f).bytes(), (Bytes{0x7f}));
    QCOMPARE(Writer().u16(0x1234).bytes(), (Bytes{0x12, 0x34}));
    QCOMPARE(Writer().u32(0x01020304).bytes(), (Bytes{0x01, 0x02, 0x03, 0x04}));
    QCOMPARE(Writer().u64(0x0102030405060708ULL).bytes(),
             (Bytes{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}));
    QCOMPARE(Writer().u32(1).bytes(), (Bytes{0, 0, 0, 1}));
    QCOMPARE(Writer().boolean(true).boolean(false).bytes(), (Bytes{0x01, 0x00}));
    QCOMPARE(Writer().fixed(Bytes{0xaa, 0xbb}).bytes(), (Bytes{0xaa, 0xbb}));  // no prefix
    QCOMPARE(Writer().var(Bytes{0xaa, 0xbb}).bytes(), (Bytes{0x00, 0x00, 0x00, 0x02, 0xaa, 0xbb}));
    QCOMPARE(Writer().var({}).bytes(), (Bytes{0, 0, 0, 0}));
    QCOMPARE(Writer().str("ab").bytes(), (Bytes{0, 0, 0, 2, 'a', 'b'}));
    // Several fields are simply concatenated.
    QCOMPARE(Writer().u16(0xbeef).u8(1).var(Bytes{9}).bytes(), (Bytes{0xbe, 0xef, 0x01, 0, 0, 0, 1, 9}));

    // And the reader interprets literal bytes big-endian.
    const Bytes in{0x12, 0x34, 0x01, 0x02, 0x03, 0x04};
    Reader r(in);
    std::uint16_t a = 0;
    std::uint32_t b = 0;
    QVERIFY(r.u16(a).isOk());
    QVERIFY(r.u32(b).isOk());
    QCOMPARE(a, std::uint16_t(0x1234));
    QCOMPARE(b, std::uint32_t(0x01020304));
    const Bytes in64{0x80, 0, 0, 0, 0, 0, 0, 0x01};
    Reader r64(in64);
    std::uint64_t c = 0;
    QVERIFY(r64.u64(c).isOk());
    QCOMPARE(c, std::uint64_t(0x8000000000000001ULL));
}

void TestEncoding::truncatedInputRejected() {
    const Bytes none;
    std::uint8_t a = 0;
    std::uint16_t b = 0;
    std::uint32_t c = 0;
    std::uint64_t d = 0;
    bool e = false;
    std::array<std::uint8_t, 4> fx{};
    Bytes v;
    std::string s;
    {
        Reader r(none);
        Status st = r.u8(a);
        QVERIFY(!st.isOk());
        QCOMPARE(st.code(), Code::InvalidArgument);
    }
    {
        Reader r(none);
        QVERIFY(!r.boolean(e).isOk());
    }
    const Bytes one{0x01};
    QVERIFY(!Reader(one).u16(b).isOk());
    const Bytes three{1, 2, 3};
    QVERIFY(!Reader(three).u32(c).isOk());
    QVERIFY(!Reader(three).fixed(fx).isOk());
    const Bytes seven{1, 2, 3, 4, 5, 6, 7};
    QVERIFY(!Reader(seven).u64(d).isOk());
    // Length prefix itself cut short.
    QVERIFY(!Reader(three).var(v).isOk());
    // Length says 5, only 4 bytes follow.
    const Bytes shortVar{0, 0, 0, 5, 1, 2, 3, 4};
    QVERIFY(!Reader(shortVar).var(v).isOk());
    QVERIFY(!Reader(shortVar).str(s, 100).isOk());

    // Every strict prefix of a valid encoding fails somewhere when read back.
    Writer w;
    w.u8(1).u16(2).u32(3).u64(4).boolean(true).var(Bytes{5, 6, 7}).str("xyz");
    const Bytes full = w.bytes();
    for (std::size_t len = 0; len < full.size(); ++len) {
        Reader r(ByteView(full).first(len));
        bool ok = r.u8(a).isOk() && r.u16(b).isOk() && r.u32(c).isOk() && r.u64(d).isOk() &&
                  r.boolean(e).isOk() && r.var(v).isOk() && r.str(s, 10).isOk() && r.finish().isOk();
        QVERIFY2(!ok, ("prefix of length " + std::to_string(len) + " accepted").c_str());
    }
    Reader r(full);
    QVERIFY(r.u8(a).isOk() && r.u16(b).isOk() && r.u32(c).isOk() && r.u64(d).isOk() && r.boolean(e).isOk() &&
            r.var(v).isOk() && r.str(s, 10).isOk() && r.finish().isOk());
}

void TestEncoding::trailingBytesRejected() {
    const Bytes in{0x01, 0x02};
    Reader r(in);
    std::uint8_t a = 0;
    QVERIFY(r.u8(a).isOk());
    QCOMPARE(r.remaining(), std::size_t(1));
    Status st = r.finish();
    QVERIFY(!st.isOk());
    QCOMPARE(st.code(), Code::InvalidArgument);
    QVERIFY(r.u8(a).isOk());
    QVERIFY(r.finish().isOk());

    // Unread input is trailing too.
    QVERIFY(!Reader(in).finish().isOk());
    QVERIFY(Reader(Bytes{}).finish().isOk());

    // An encoding with one extra byte appended is rejected.
    Bytes enc = Writer().u32(7).var(Bytes{1}).bytes();
    enc.push_back(0);
    Reader r2(enc);
    std::uint32_t c = 0;
    Bytes v;
    QVERIFY(r2.u32(c).isOk());
    QVERIFY(r2.var(v).isOk());
    QVERIFY(!r2.finish().isOk());
}

void TestEncoding::overLongVarRejected() {
    Bytes v;
    // With a limit of 4, a 4-byte field passes and a 5-byte one does not,
    // even though all 5 bytes are present.
    const Bytes four = Writer().var(Bytes{1, 2, 3, 4}).bytes();
    const Bytes five = Writer().var(Bytes{1, 2, 3, 4, 5}).bytes();
    QVERIFY(Reader(four, 4).var(v).isOk());
    Status st = Reader(five, 4).var(v);
    QVERIFY(!st.isOk());
    QCOMPARE(st.code(), Code::InvalidArgument);
    QVERIFY(Reader(five, 5).var(v).isOk());

    // A huge length prefix is refused by the default limit (16 MiB) before
    // any attempt to read that many bytes.
    const Bytes huge{0xff, 0xff, 0xff, 0xff, 0x00};
    QVERIFY(!Reader(huge).var(v).isOk());
    const Bytes justOver = Writer().u32((16u << 20) + 1).bytes();
    QVERIFY(!Reader(justOver).var(v).isOk());

    // str() applies its own maximum.
    const Bytes hello = Writer().str("hello").bytes();
    std::string s;
    QVERIFY(!Reader(hello).str(s, 4).isOk());
    QVERIFY(Reader(hello).str(s, 5).isOk());
    QCOMPARE(s, std::string("hello"));
}

void TestEncoding::booleanMustBeZeroOrOne() {
    bool b = false;
    for (int byte : {2, 0x7f, 0x80, 0xff}) {
        const Bytes in{static_cast<std::uint8_t>(byte)};
        Status st = Reader(in).boolean(b);
        QVERIFY2(!st.isOk(), ("boolean byte " + std::to_string(byte) + " accepted").c_str());
        QCOMPARE(st.code(), Code::InvalidArgument);
    }
    const Bytes zero{0}, one{1};
    b = true;
    QVERIFY(Reader(zero).boolean(b).isOk());
    QVERIFY(!b);
    QVERIFY(Reader(one).boolean(b).isOk());
    QVERIFY(b);
}

void TestEncoding::hexConversion() {
    QCOMPARE(toHex(Bytes{}), std::string());
    QCOMPARE(toHex(Bytes{0x00, 0xff, 0x1a, 0xb0}), std::string("00ff1ab0"));
    auto b = fromHex("00FF1aB0");
    QVERIFY(b.has_value());
    QCOMPARE(*b, (Bytes{0x00, 0xff, 0x1a, 0xb0}));
    auto e = fromHex("");
    QVERIFY(e.has_value());
    QVERIFY(e->empty());

    // All 256 byte values round-trip.
    Bytes all(256);
    for (int i = 0; i < 256; ++i) all[i] = static_cast<std::uint8_t>(i);
    const std::string h = toHex(all);
    QCOMPARE(h.size(), std::size_t(512));
    QCOMPARE(h.substr(0, 8), std::string("00010203"));
    QCOMPARE(h.substr(504), std::string("fcfdfeff"));
    QCOMPARE(*fromHex(h), all);

    // Odd length and non-hex characters are rejected.
    QVERIFY(!fromHex("abc"));
    QVERIFY(!fromHex("a"));
    QVERIFY(!fromHex("zz"));
    QVERIFY(!fromHex("0g"));
    QVERIFY(!fromHex("g0"));
    QVERIFY(!fromHex(" 0"));
    QVERIFY(!fromHex("0x00"));
    QVERIFY(!fromHex("00:"));
    QVERIFY(!fromHex(std::string_view("\0\0", 2)));

    // asBytes / toBytes see the raw characters.
    QCOMPARE(toBytes("Ab"), (Bytes{'A', 'b'}));
    const ByteView view = asBytes("xyz");
    QCOMPARE(view.size(), std::size_t(3));
    QCOMPARE(view[2], std::uint8_t('z'));
}

QTEST_APPLESS_MAIN(TestEncoding)
#include "test_encoding.moc"
