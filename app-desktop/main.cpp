// fides-desktop: the Fides desktop app.
//   fides-desktop [--node ADDR] [--genesis FILE]
// ADDR defaults to $FIDES_NODE or 127.0.0.1:26657, FILE to $FIDES_GENESIS
// (as the `fides` CLI).
#include "main_window.h"

#include <QApplication>
#include <QCommandLineParser>

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("fides-desktop"));
    QApplication::setOrganizationName(QStringLiteral("Fides"));
    QApplication::setApplicationVersion(QStringLiteral(FIDES_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QApplication::translate("main", "Fides: notarise files and watch the ledger"));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption nodeOption(
        QStringLiteral("node"), QApplication::translate("main", "Node address (env FIDES_NODE)."),
        QStringLiteral("ADDR"), fides::qtclient::NodeConnection::defaultAddress());
    const QCommandLineOption genesisOption(
        QStringLiteral("genesis"),
        QApplication::translate("main", "Trusted genesis.json (env FIDES_GENESIS)."), QStringLiteral("FILE"),
        qEnvironmentVariable("FIDES_GENESIS"));
    parser.addOption(nodeOption);
    parser.addOption(genesisOption);
    parser.process(app);

    fides::desktop::MainWindow window;
    const QString genesis = parser.value(genesisOption);
    if (!genesis.isEmpty()) window.loadGenesis(genesis);
    window.connectToNode(parser.value(nodeOption));
    window.show();
    return QApplication::exec();
}
