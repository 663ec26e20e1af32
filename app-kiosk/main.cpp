// fides-kiosk: the Fides voting kiosk (Qt Quick, full screen).
//   fides-kiosk [--node ADDR] [--genesis FILE] [--windowed]
// ADDR defaults to $FIDES_NODE or 127.0.0.1:26657, FILE to $FIDES_GENESIS.
#include "kiosk_status.h"

#include <QCommandLineParser>
#include <QGuiApplication>
#include <QQmlApplicationEngine>
#include <QtQml/QQmlExtensionPlugin>

Q_IMPORT_QML_PLUGIN(Fides_KioskPlugin)

int main(int argc, char** argv) {
    QGuiApplication app(argc, argv);
    QGuiApplication::setApplicationName(QStringLiteral("fides-kiosk"));
    QGuiApplication::setOrganizationName(QStringLiteral("Fides"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QGuiApplication::translate("main", "Fides voting kiosk"));
    parser.addHelpOption();
    const QCommandLineOption nodeOption(
        QStringLiteral("node"), QGuiApplication::translate("main", "Node address (env FIDES_NODE)."),
        QStringLiteral("ADDR"), fides::qtclient::NodeConnection::defaultAddress());
    const QCommandLineOption genesisOption(
        QStringLiteral("genesis"),
        QGuiApplication::translate("main", "Trusted genesis.json (env FIDES_GENESIS)."),
        QStringLiteral("FILE"), qEnvironmentVariable("FIDES_GENESIS"));
    const QCommandLineOption windowedOption(
        QStringLiteral("windowed"), QGuiApplication::translate("main", "Run in a window (development)."));
    parser.addOption(nodeOption);
    parser.addOption(genesisOption);
    parser.addOption(windowedOption);
    parser.process(app);

    fides::kiosk::KioskStatus status;
    status.setAddress(parser.value(nodeOption));
    if (const QString genesis = parser.value(genesisOption);
        !genesis.isEmpty() && !status.setGenesisPath(genesis)) {
        qWarning("fides-kiosk: cannot load the genesis %s", qPrintable(genesis));
    }

    QQmlApplicationEngine engine;
    engine.addImportPath(QStringLiteral("qrc:/qt/qml"));
    engine.setInitialProperties({{QStringLiteral("status"), QVariant::fromValue(&status)},
                                 {QStringLiteral("fullScreen"), !parser.isSet(windowedOption)}});
    QObject::connect(
        &engine, &QQmlApplicationEngine::objectCreationFailed, &app, [] { QCoreApplication::exit(1); },
        Qt::QueuedConnection);
    engine.load(QUrl(QStringLiteral("qrc:/qt/qml/Fides/Kiosk/Main.qml")));
    if (engine.rootObjects().isEmpty()) return 1;
    status.start();
    return QGuiApplication::exec();
}
