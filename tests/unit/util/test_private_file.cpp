// Unit tests for util/private_file: the one reader and writer of secret files
// (validator, client and store keys, the store's salt, the TLS files).
#include "util/private_file.h"

#include <QTemporaryDir>
#include <QtTest>

#include <sys/stat.h>

#include <string>
#include <vector>

using namespace fides;

class TestPrivateFile : public QObject {
    Q_OBJECT

private slots:
    void writtenWithMode0600AndNeverOverwritten() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("key").toStdString();
        const std::string secret = "0123456789abcdef\n";
        QVERIFY(writePrivateFile(path, secret.data(), secret.size()).isOk());
        struct stat st {};
        QCOMPARE(::stat(path.c_str(), &st), 0);
        QCOMPARE(st.st_mode & 0777, 0600u);
        QVERIFY(checkPrivateFile(path, "key file").isOk());

        const Status again = writePrivateFile(path, "x", 1);
        QCOMPARE(again.code(), Code::AlreadyExists);
        QCOMPARE(again.message(), "refusing to overwrite " + path);
        auto read = readWholeFile<std::string>(path, 4096, "cannot read " + path);
        QVERIFY(read);
        QCOMPARE(*read, secret);  // the first content, whole
    }

    void readsExactlyTheFileIntoTheCallersBuffer() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("salt").toStdString();
        std::vector<std::uint8_t> bytes(3000);
        for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i * 7);
        QVERIFY(writePrivateFile(path, bytes.data(), bytes.size()).isOk());
        auto read = readWholeFile<std::vector<std::uint8_t>>(path, bytes.size(), "cannot read " + path);
        QVERIFY(read);
        QVERIFY(*read == bytes);

        auto empty = dir.filePath("empty").toStdString();
        QVERIFY(writePrivateFile(empty, nullptr, 0).isOk());
        auto none = readWholeFile<std::string>(empty, 16, "cannot read " + empty);
        QVERIFY(none);
        QVERIFY(none->empty());
    }

    void missingOrOversizeFilesGetTheirOwnErrors() {
        QTemporaryDir dir;
        const std::string missing = dir.filePath("missing").toStdString();
        auto r = readWholeFile<std::string>(missing, 4096, "cannot read key file " + missing);
        QVERIFY(!r);
        QCOMPARE(r.status().code(), Code::NotFound);
        QCOMPARE(r.status().message(), "cannot read key file " + missing);

        const std::string big = dir.filePath("big").toStdString();
        const std::string text(5000, 'a');
        QVERIFY(writePrivateFile(big, text.data(), text.size()).isOk());
        auto large = readWholeFile<std::string>(big, 4096, "cannot read key file " + big);
        QVERIFY(!large);
        QCOMPARE(large.status().code(), Code::InvalidArgument);
        QCOMPARE(large.status().message(), "cannot read key file " + big + ": larger than 4096 bytes");
    }

    void filesOthersMayReadAreRefused() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("key").toStdString();
        QVERIFY(writePrivateFile(path, "k", 1).isOk());
        QCOMPARE(::chmod(path.c_str(), 0640), 0);
        const Status st = checkPrivateFile(path, "key file");
        QCOMPARE(st.code(), Code::PermissionDenied);
        QCOMPARE(st.message(), "key file " + path + " is accessible by other users; run: chmod 600 " + path);
        QVERIFY(
            checkPrivateFile(dir.filePath("absent").toStdString(), "key file").isOk());  // left to the reader
    }
};

QTEST_GUILESS_MAIN(TestPrivateFile)
#include "test_private_file.moc"
