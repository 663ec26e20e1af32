// File helpers shared by the unit and functional tiers.
// Thread-safety: pure functions.
#pragma once

#include <QByteArray>
#include <QString>

namespace fides::test {

// SHA-256 over every regular file in `dir` (names and contents, in name
// order): equal digests mean nothing in the folder was created, removed or
// changed.
QByteArray folderDigest(const QString& dir);

}  // namespace fides::test
