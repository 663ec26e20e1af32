// GUI test of the desktop main window against a real fides-node: the window
// connects, lists the block its notarisation produced with the commit
// verified locally, and proves the file (and the absence of another).
// Widgets are found by objectName; runs offscreen.
#include "main_window.h"

#include <QDir>
#include <QDropEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMimeData>
#include <QProcess>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

using fides::desktop::MainWindow;
using fides::qtclient::BlockListModel;

namespace {
const QString kNodeBinary = QStringLiteral(FIDES_BINARY_DIR "/bin/fides-node");

QString writeRandomFile(const QString& dir, const QString& name) {
    const QString path = dir + QLatin1Char('/') + name;
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly)) return {};
    QByteArray data(4096, Qt::Uninitialized);
    for (char& c : data) c = static_cast<char>(QRandomGenerator::global()->bounded(256));
    f.write(data);
    return path;
}
}  // namespace

class TestDesktopWindow : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void notarizeThenProveThroughTheWindow();
    void cleanupTestCase();

private:
    void stopNode();
    QTemporaryDir m_dir;
    QString m_home;
    QProcess m_node;
    QString m_address;
};

void TestDesktopWindow::initTestCase() {
    QVERIFY(m_dir.isValid());
    QVERIFY2(QFileInfo::exists(kNodeBinary), qPrintable(kNodeBinary + " is not built"));
    m_home = m_dir.filePath(QStringLiteral("node"));
    // Never touch the user's key: the window signs with a key in the temp dir.
    qputenv("FIDES_CLIENT_KEY", m_dir.filePath(QStringLiteral("client.key")).toLocal8Bit());

    QProcess init;
    init.start(kNodeBinary, {QStringLiteral("init"), QStringLiteral("--home"), m_home});
    QVERIFY(init.waitForFinished(30000));
    QVERIFY2(init.exitStatus() == QProcess::NormalExit && init.exitCode() == 0,
             init.readAllStandardError().constData());

    m_node.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    m_node.start(kNodeBinary, {QStringLiteral("start"), QStringLiteral("--home"), m_home,
                               QStringLiteral("--rpc-listen"), QStringLiteral("127.0.0.1:0")});
    QVERIFY(m_node.waitForStarted(10000));
    static const QRegularExpression listening(
        QStringLiteral("fides-node: listening on (127\\.0\\.0\\.1:\\d+)"));
    QByteArray out;
    QDeadlineTimer deadline(30000);
    while (m_address.isEmpty() && !deadline.hasExpired() && m_node.state() == QProcess::Running) {
        if (!m_node.canReadLine()) m_node.waitForReadyRead(200);
        while (m_node.canReadLine()) {
            const QString line = QString::fromUtf8(m_node.readLine()).trimmed();
            const auto m = listening.match(line);
            if (m.hasMatch()) m_address = m.captured(1);
        }
    }
    if (m_address.isEmpty()) {
        const QString why = m_node.state() == QProcess::Running
                                ? QStringLiteral("no \"listening on\" line within 30 s")
                            : m_node.exitStatus() == QProcess::CrashExit
                                ? QStringLiteral("it crashed")
                                : QStringLiteral("it exited with code %1").arg(m_node.exitCode());
        QFAIL(qPrintable(QStringLiteral("fides-node did not report its listening address: ") + why));
    }
}

void TestDesktopWindow::notarizeThenProveThroughTheWindow() {
    MainWindow w;
    QVERIFY(w.loadGenesis(m_home + QStringLiteral("/config/genesis.json")));
    w.connectToNode(m_address);
    w.show();

    auto* connection = w.findChild<QLabel*>(QStringLiteral("connectionValue"));
    auto* chainId = w.findChild<QLabel*>(QStringLiteral("chainIdValue"));
    auto* height = w.findChild<QLabel*>(QStringLiteral("heightValue"));
    auto* commit = w.findChild<QLabel*>(QStringLiteral("commitVerifiedValue"));
    auto* labelEdit = w.findChild<QLineEdit*>(QStringLiteral("labelEdit"));
    auto* notarized = w.findChild<QLabel*>(QStringLiteral("notarizeResultLabel"));
    auto* blockList = w.findChild<QListView*>(QStringLiteral("blockList"));
    auto* verdict = w.findChild<QLabel*>(QStringLiteral("proofVerdictLabel"));
    auto* details = w.findChild<QLabel*>(QStringLiteral("proofDetailsLabel"));
    auto* proveDrop = w.findChild<QWidget*>(QStringLiteral("proveDropArea"));
    QVERIFY(connection && chainId && height && commit && labelEdit && notarized && blockList && verdict &&
            details && proveDrop);
    QCOMPARE(blockList->model(), w.blockModel());

    QTRY_VERIFY_WITH_TIMEOUT(connection->text().startsWith(QStringLiteral("connected")), 15000);
    QVERIFY(!chainId->text().isEmpty());
    QCOMPARE(chainId->text(), w.connection()->genesisChainId());

    // Notarise through the window's own path (the label typed in its field).
    const QString doc = writeRandomFile(m_dir.path(), QStringLiteral("minutes.pdf"));
    QVERIFY(!doc.isEmpty());
    labelEdit->setText(QStringLiteral("council minutes"));
    w.notarizeFile(doc);
    QTRY_VERIFY_WITH_TIMEOUT(notarized->property("ok").isValid(), 30000);
    QVERIFY2(notarized->property("ok").toBool(), qPrintable(notarized->text()));
    const QRegularExpression inBlock(QStringLiteral("registered in block (\\d+)"));
    const auto m = inBlock.match(notarized->text());
    QVERIFY2(m.hasMatch(), qPrintable(notarized->text()));
    const quint64 blockHeight = m.captured(1).toULongLong();
    QVERIFY(blockHeight >= 1);

    // The live list shows that block, its commit verified against the genesis.
    const QAbstractItemModel* model = blockList->model();
    QTRY_VERIFY_WITH_TIMEOUT(
        model->rowCount() >= 1 &&
            model->index(0, 0).data(BlockListModel::HeightRole).toULongLong() >= blockHeight,
        15000);
    bool found = false;
    for (int r = 0; r < model->rowCount(); ++r) {
        const QModelIndex i = model->index(r, 0);
        QVERIFY2(i.data(BlockListModel::VerifiedRole).toBool(),
                 qPrintable(i.data(Qt::ToolTipRole).toString()));
        if (i.data(BlockListModel::HeightRole).toULongLong() == blockHeight) {
            found = true;
            QVERIFY(i.data(BlockListModel::TxCountRole).toUInt() >= 1);
            QCOMPARE(i.data(BlockListModel::HashRole).toString().size(), 64);
        }
    }
    QVERIFY(found);
    QTRY_VERIFY_WITH_TIMEOUT(commit->property("verified").toBool(), 15000);
    QVERIFY(height->text().toULongLong() >= blockHeight);

    // Prove the file through the window: VERIFIED.
    w.proveFile(doc);
    QTRY_COMPARE_WITH_TIMEOUT(verdict->property("verdict").toString(), QStringLiteral("verified"), 15000);
    QVERIFY(verdict->text().contains(QStringLiteral("VERIFIED")));
    QVERIFY(!verdict->text().contains(QStringLiteral("NOT")));
    QVERIFY2(details->text().contains(QStringLiteral("registered at block %1").arg(blockHeight)),
             qPrintable(details->text()));
    QVERIFY(details->text().contains(QStringLiteral("council minutes")));

    // A file never registered, dropped on the proof area: NOT REGISTERED.
    const QString other = writeRandomFile(m_dir.path(), QStringLiteral("other.txt"));
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(other)});
    // As a real drag: the enter must be accepted for the drop to reach the area.
    QDragEnterEvent enter(proveDrop->rect().center(), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(proveDrop, &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(QPointF(proveDrop->rect().center()), Qt::CopyAction, &mime, Qt::LeftButton,
                    Qt::NoModifier);
    QCoreApplication::sendEvent(proveDrop, &drop);
    QTRY_COMPARE_WITH_TIMEOUT(verdict->property("verdict").toString(), QStringLiteral("not-registered"),
                              15000);
    QVERIFY(verdict->text().contains(QStringLiteral("NOT REGISTERED")));

    stopNode();
}

void TestDesktopWindow::cleanupTestCase() { stopNode(); }

void TestDesktopWindow::stopNode() {
    if (m_node.state() == QProcess::NotRunning) return;
    m_node.kill();
    m_node.waitForFinished(10000);
}

QTEST_MAIN(TestDesktopWindow)
#include "test_desktop_window.moc"
