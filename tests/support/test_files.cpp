#include "test_files.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>

namespace fides::test {

QByteArray folderDigest(const QString& dir) {
    QCryptographicHash h(QCryptographicHash::Sha256);
    for (const auto& f : QDir(dir).entryList(QDir::Files, QDir::Name)) {
        QFile file(dir + "/" + f);
        if (!file.open(QIODevice::ReadOnly)) continue;
        h.addData(f.toUtf8());
        h.addData(file.readAll());
    }
    return h.result();
}

}  // namespace fides::test
