// GUI test of the kiosk's QML module (Fides.Kiosk): Main.qml loads offscreen
// with a KioskStatus, shows its status in text, follows its changes, and
// honours full-screen / windowed.
#include "kiosk_status.h"

#include <QQmlApplicationEngine>
#include <QQuickWindow>
#include <QTest>
#include <QtQml/QQmlExtensionPlugin>

Q_IMPORT_QML_PLUGIN(Fides_KioskPlugin)

using fides::kiosk::KioskStatus;

namespace {
const QUrl kMain(QStringLiteral("qrc:/qt/qml/Fides/Kiosk/Main.qml"));

QString textOf(QObject* root, const char* objectName) {
    QObject* o = root->findChild<QObject*>(QLatin1String(objectName));
    return o ? o->property("text").toString() : QStringLiteral("<no %1>").arg(QLatin1String(objectName));
}
}  // namespace

class TestKioskQml : public QObject {
    Q_OBJECT

private slots:
    void loadsAndShowsStatus() {
        KioskStatus status;
        status.setAddress(QStringLiteral("127.0.0.1:1"));
        QQmlApplicationEngine engine;
        engine.addImportPath(QStringLiteral("qrc:/qt/qml"));
        engine.setInitialProperties({{QStringLiteral("status"), QVariant::fromValue(&status)},
                                     {QStringLiteral("fullScreen"), false}});
        engine.load(kMain);
        QCOMPARE(engine.rootObjects().size(), 1);
        auto* window = qobject_cast<QQuickWindow*>(engine.rootObjects().first());
        QVERIFY(window);
        QCOMPARE(window->visibility(), QWindow::Windowed);
        QObject* root = window;

        QCOMPARE(textOf(root, "connectionText"), QStringLiteral("Connecting…"));
        QVERIFY(textOf(root, "chainText").contains(QStringLiteral("unknown")));
        QVERIFY(textOf(root, "nodeText").contains(QStringLiteral("127.0.0.1:1")));

        fides::qtclient::NodeStatus s;
        s.connected = true;
        s.chainId = QStringLiteral("council-2026");
        s.height = 42;
        s.commitVerified = true;
        status.applyStatus(s);
        QVERIFY(textOf(root, "connectionText").contains(QStringLiteral("Connected")));
        QCOMPARE(textOf(root, "chainText"), QStringLiteral("Chain: council-2026"));
        QCOMPARE(textOf(root, "heightText"), QStringLiteral("Block height: 42"));
        QCOMPARE(textOf(root, "verifiedText"), QStringLiteral("Latest block verified on this kiosk"));
    }

    void unreachableNodeShowsNotConnected() {
        KioskStatus status;
        status.setAddress(QStringLiteral("127.0.0.1:1"));  // nothing listens there
        QQmlApplicationEngine engine;
        engine.addImportPath(QStringLiteral("qrc:/qt/qml"));
        engine.setInitialProperties(
            {{QStringLiteral("status"), QVariant::fromValue(&status)}, {QStringLiteral("fullScreen"), true}});
        engine.load(kMain);
        QCOMPARE(engine.rootObjects().size(), 1);
        auto* window = qobject_cast<QQuickWindow*>(engine.rootObjects().first());
        QVERIFY(window);
        QCOMPARE(window->visibility(), QWindow::FullScreen);
        status.start();
        QTRY_VERIFY_WITH_TIMEOUT(textOf(window, "connectionText").contains(QStringLiteral("Not connected")),
                                 20000);
        QVERIFY(!status.lastError().isEmpty());
        QVERIFY(textOf(window, "nodeText").contains(status.lastError()));
        QCOMPARE(textOf(window, "verifiedText"), QStringLiteral("Latest block not verified"));
    }
};

QTEST_MAIN(TestKioskQml)
#include "test_kiosk_qml.moc"
