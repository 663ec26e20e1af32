// Unit tests of BlockListModel: model invariants under
// QAbstractItemModelTester, newest-first ordering, replacement, the bound.
#include "client-common/block_list_model.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTest>

using fides::qtclient::BlockInfo;
using fides::qtclient::BlockListModel;

namespace {
BlockInfo block(quint64 height, bool verified = true) {
    BlockInfo b;
    b.height = height;
    b.hash = QString::number(height, 16).rightJustified(64, QLatin1Char('0'));
    b.timeMs = 1'700'000'000'000ULL + height * 1000;
    b.txCount = static_cast<quint32>(height % 3);
    b.signatures = 1;
    b.verified = verified;
    return b;
}

QList<quint64> heights(const BlockListModel& m) {
    QList<quint64> out;
    for (int r = 0; r < m.rowCount(); ++r)
        out << m.data(m.index(r), BlockListModel::HeightRole).toULongLong();
    return out;
}
}  // namespace

class TestBlockListModel : public QObject {
    Q_OBJECT

private slots:
    void newestFirstWhateverTheArrivalOrder() {
        BlockListModel m;
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        for (quint64 h : {3, 1, 5, 4, 2}) m.addBlock(block(h));
        QCOMPARE(heights(m), (QList<quint64>{5, 4, 3, 2, 1}));
        QCOMPARE(m.latestHeight(), quint64(5));
    }

    void rolesCarryTheBlock() {
        BlockListModel m;
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        m.addBlock(block(7, false));
        const QModelIndex i = m.index(0);
        QCOMPARE(m.data(i, BlockListModel::HashRole).toString(), block(7).hash);
        QCOMPARE(m.data(i, BlockListModel::TxCountRole).toUInt(), 1u);
        QCOMPARE(m.data(i, BlockListModel::VerifiedRole).toBool(), false);
        QCOMPARE(m.data(i, BlockListModel::TimeRole).toDateTime().toMSecsSinceEpoch(), 1'700'000'007'000LL);
        QVERIFY(m.data(i, Qt::DisplayRole).toString().contains(QStringLiteral("#7")));
        QVERIFY(m.data(i, Qt::DisplayRole).toString().contains(QStringLiteral("NOT VERIFIED")));
        const auto names = m.roleNames();
        QCOMPARE(names.value(BlockListModel::HeightRole), QByteArray("height"));
        QCOMPARE(names.value(BlockListModel::VerifiedRole), QByteArray("verified"));
        QVERIFY(!m.data(i, Qt::UserRole + 100).isValid());
    }

    void sameHeightReplacesTheRow() {
        BlockListModel m;
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        m.addBlock(block(1, false));
        m.addBlock(block(2, false));
        QSignalSpy changed(&m, &QAbstractItemModel::dataChanged);
        m.addBlock(block(1, true));
        QCOMPARE(m.rowCount(), 2);
        QCOMPARE(changed.count(), 1);
        QCOMPARE(m.data(m.index(1), BlockListModel::VerifiedRole).toBool(), true);
    }

    void boundedDroppingTheOldest() {
        BlockListModel m;
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(m.maxRows(), BlockListModel::kDefaultMaxRows);
        m.setMaxRows(3);
        for (quint64 h = 1; h <= 10; ++h) m.addBlock(block(h));
        QCOMPARE(heights(m), (QList<quint64>{10, 9, 8}));
        m.addBlock(block(2));  // older than everything kept: not listed
        QCOMPARE(heights(m), (QList<quint64>{10, 9, 8}));
        m.addBlock(block(9, false));  // replaces in place
        QCOMPARE(m.rowCount(), 3);
        m.setMaxRows(1);
        QCOMPARE(heights(m), (QList<quint64>{10}));
        m.setMaxRows(0);  // clamped to 1
        QCOMPARE(m.maxRows(), 1);
    }

    void defaultBoundHolds() {
        BlockListModel m;
        for (quint64 h = 1; h <= 1200; ++h) m.addBlock(block(h));
        QCOMPARE(m.rowCount(), BlockListModel::kDefaultMaxRows);
        QCOMPARE(m.latestHeight(), quint64(1200));
        QCOMPARE(m.data(m.index(m.rowCount() - 1), BlockListModel::HeightRole).toULongLong(), quint64(201));
    }

    void clearEmpties() {
        BlockListModel m;
        QAbstractItemModelTester tester(&m, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy count(&m, &BlockListModel::countChanged);
        m.addBlock(block(1));
        m.addBlock(block(2));
        m.clear();
        QCOMPARE(m.rowCount(), 0);
        QCOMPARE(m.latestHeight(), quint64(0));
        QVERIFY(count.count() >= 3);
        QVERIFY(m.blockAt(0) == nullptr);
    }
};

QTEST_GUILESS_MAIN(TestBlockListModel)
#include "test_block_list_model.moc"
