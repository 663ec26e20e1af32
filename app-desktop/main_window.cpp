#include "main_window.h"

#include "file_drop_area.h"

#include <QDateTime>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QPushButton>
#include <QSplitter>
#include <QStatusBar>
#include <QTimer>
#include <QVBoxLayout>

namespace fides::desktop {

using qtclient::BlockInfo;
using qtclient::NodeStatus;
using qtclient::NotarizeResult;
using qtclient::ProofResult;

namespace {

template <typename W>
W* named(W* widget, const char* objectName) {
    widget->setObjectName(QLatin1String(objectName));
    return widget;
}

QLabel* valueLabel(const char* objectName) {
    auto* l = named(new QLabel(QStringLiteral("—")), objectName);
    l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    l->setWordWrap(true);
    return l;
}

QString formatTime(quint64 ms) {
    return QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(ms), Qt::UTC)
        .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss 'UTC'"));
}

// The validator-set changes a check followed since the genesis, as a line to
// append; empty when the genesis set signed.
QString changesFollowed(quint32 changes) {
    if (changes == 0) return {};
    return QLatin1Char('\n') +
           (changes == 1
                ? MainWindow::tr("validator set changed 1 time since genesis, each change verified")
                : MainWindow::tr("validator set changed %1 times since genesis, each change verified")
                      .arg(changes));
}

}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("Fides"));
    m_connection = named(new qtclient::NodeConnection(this), "nodeConnection");
    m_blocks = named(new qtclient::BlockListModel(this), "blockModel");
    buildUi();

    connect(m_connection, &qtclient::NodeConnection::statusReceived, this, &MainWindow::onStatus);
    connect(m_connection, &qtclient::NodeConnection::blockReceived, this, &MainWindow::onBlock);
    connect(m_connection, &qtclient::NodeConnection::notarizeFinished, this, &MainWindow::onNotarized);
    connect(m_connection, &qtclient::NodeConnection::proofFinished, this, &MainWindow::onProof);
    connect(m_connection, &qtclient::NodeConnection::subscriptionError, this, [this](const QString& message) {
        statusBar()->showMessage(tr("Block feed: %1").arg(message), 5000);
    });
    connect(m_connection, &qtclient::NodeConnection::genesisError, this,
            [this](const QString& message) { statusBar()->showMessage(tr("Genesis: %1").arg(message)); });

    m_statusTimer = new QTimer(this);
    m_statusTimer->setInterval(kStatusRefreshMs);
    connect(m_statusTimer, &QTimer::timeout, m_connection, &qtclient::NodeConnection::refreshStatus);
    m_statusTimer->start();

    m_addressEdit->setText(m_connection->address());
}

MainWindow::~MainWindow() = default;

void MainWindow::buildUi() {
    auto* central = named(new QWidget(this), "centralWidget");
    auto* root = new QVBoxLayout(central);

    // Connection: node address and the trusted genesis.
    auto* connGroup = named(new QGroupBox(tr("Node")), "connectionGroup");
    auto* connLayout = new QHBoxLayout(connGroup);
    m_addressEdit = named(new QLineEdit, "nodeAddressEdit");
    m_addressEdit->setPlaceholderText(tr("host:port"));
    m_connectButton = named(new QPushButton(tr("Connect")), "connectButton");
    m_genesisEdit = named(new QLineEdit, "genesisPathEdit");
    m_genesisEdit->setReadOnly(true);
    m_genesisEdit->setPlaceholderText(tr("no trusted genesis loaded"));
    m_genesisButton = named(new QPushButton(tr("Trusted genesis…")), "genesisButton");
    connLayout->addWidget(named(new QLabel(tr("Address:")), "nodeAddressCaption"));
    connLayout->addWidget(m_addressEdit, 1);
    connLayout->addWidget(m_connectButton);
    connLayout->addWidget(named(new QLabel(tr("Genesis:")), "genesisCaption"));
    connLayout->addWidget(m_genesisEdit, 2);
    connLayout->addWidget(m_genesisButton);
    root->addWidget(connGroup);
    connect(m_connectButton, &QPushButton::clicked, this, [this] { connectToNode(m_addressEdit->text()); });
    connect(m_addressEdit, &QLineEdit::returnPressed, this, [this] { connectToNode(m_addressEdit->text()); });
    connect(m_genesisButton, &QPushButton::clicked, this, &MainWindow::chooseGenesis);

    // Chain status.
    auto* statusGroup = named(new QGroupBox(tr("Chain")), "statusGroup");
    auto* form = new QFormLayout(statusGroup);
    m_connectionValue = valueLabel("connectionValue");
    m_chainIdValue = valueLabel("chainIdValue");
    m_heightValue = valueLabel("heightValue");
    m_validatorValue = valueLabel("validatorValue");
    m_commitValue = valueLabel("commitVerifiedValue");
    form->addRow(tr("Connection:"), m_connectionValue);
    form->addRow(tr("Chain id:"), m_chainIdValue);
    form->addRow(tr("Height:"), m_heightValue);
    form->addRow(tr("Validator:"), m_validatorValue);
    form->addRow(tr("Latest commit:"), m_commitValue);
    root->addWidget(statusGroup);

    auto* splitter = named(new QSplitter(Qt::Horizontal), "mainSplitter");

    // Live blocks.
    auto* blocksGroup = named(new QGroupBox(tr("Blocks (live)")), "blocksGroup");
    auto* blocksLayout = new QVBoxLayout(blocksGroup);
    m_blockList = named(new QListView, "blockList");
    m_blockList->setModel(m_blocks);
    m_blockList->setUniformItemSizes(true);
    m_blockList->setSelectionMode(QAbstractItemView::SingleSelection);
    m_blockList->setEditTriggers(QAbstractItemView::NoEditTriggers);
    blocksLayout->addWidget(m_blockList);
    splitter->addWidget(blocksGroup);

    auto* right = named(new QWidget, "actionsPanel");
    auto* rightLayout = new QVBoxLayout(right);

    // Notarise.
    auto* notarizeGroup = named(new QGroupBox(tr("Notarise a file")), "notarizeGroup");
    auto* nLayout = new QVBoxLayout(notarizeGroup);
    m_notarizeDrop = named(new FileDropArea(tr("Drop a file here to register its SHA-256 on the ledger")),
                           "notarizeDropArea");
    m_labelEdit = named(new QLineEdit, "labelEdit");
    m_labelEdit->setPlaceholderText(tr("Optional label (public, at most 256 bytes)"));
    m_labelEdit->setMaxLength(256);
    m_notarizeButton = named(new QPushButton(tr("Notarise a file…")), "notarizeButton");
    m_notarizeResult = valueLabel("notarizeResultLabel");
    m_notarizeResult->setText(QString());
    nLayout->addWidget(m_notarizeDrop);
    nLayout->addWidget(m_labelEdit);
    nLayout->addWidget(m_notarizeButton);
    nLayout->addWidget(m_notarizeResult);
    rightLayout->addWidget(notarizeGroup);
    connect(m_notarizeDrop, &FileDropArea::fileDropped, this, &MainWindow::notarizeFile);
    connect(m_notarizeDrop, &FileDropArea::clicked, this, &MainWindow::chooseFileToNotarize);
    connect(m_notarizeButton, &QPushButton::clicked, this, &MainWindow::chooseFileToNotarize);

    // Prove.
    auto* proveGroup = named(new QGroupBox(tr("Check a file's proof")), "proveGroup");
    auto* pLayout = new QVBoxLayout(proveGroup);
    m_proveDrop = named(new FileDropArea(tr("Drop a file here to check, against the trusted genesis, "
                                            "whether it is registered")),
                        "proveDropArea");
    m_proveButton = named(new QPushButton(tr("Check a file's proof…")), "proveButton");
    m_verdictLabel = named(new QLabel, "proofVerdictLabel");
    m_verdictLabel->setAlignment(Qt::AlignCenter);
    QFont big = m_verdictLabel->font();
    big.setPointSizeF(big.pointSizeF() * 1.8);
    big.setBold(true);
    m_verdictLabel->setFont(big);
    m_proofDetails = valueLabel("proofDetailsLabel");
    m_proofDetails->setText(QString());
    pLayout->addWidget(m_proveDrop);
    pLayout->addWidget(m_proveButton);
    pLayout->addWidget(m_verdictLabel);
    pLayout->addWidget(m_proofDetails);
    rightLayout->addWidget(proveGroup);
    rightLayout->addStretch(1);
    connect(m_proveDrop, &FileDropArea::fileDropped, this, &MainWindow::proveFile);
    connect(m_proveDrop, &FileDropArea::clicked, this, &MainWindow::chooseFileToProve);
    connect(m_proveButton, &QPushButton::clicked, this, &MainWindow::chooseFileToProve);

    splitter->addWidget(right);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    root->addWidget(splitter, 1);

    setCentralWidget(central);
    statusBar()->setObjectName(QStringLiteral("statusBar"));
    resize(1100, 720);
}

void MainWindow::connectToNode(const QString& address) {
    if (address.trimmed() != m_connection->address()) {
        m_blocks->clear();
        m_connection->setAddress(address);
    }
    if (m_addressEdit->text() != m_connection->address()) m_addressEdit->setText(m_connection->address());
    m_connectionValue->setText(tr("connecting to %1…").arg(m_connection->address()));
    m_connection->startBlockSubscription();
    m_connection->refreshStatus();
}

bool MainWindow::loadGenesis(const QString& path) {
    if (!m_connection->setGenesisPath(path)) return false;
    m_genesisEdit->setText(path);
    m_genesisEdit->setToolTip(tr("Trusted genesis of chain '%1'").arg(m_connection->genesisChainId()));
    m_connection->refreshStatus();
    return true;
}

void MainWindow::notarizeFile(const QString& path) {
    if (path.isEmpty()) return;
    m_notarizeResult->setProperty("ok", QVariant());
    m_notarizeResult->setText(tr("Registering %1…").arg(QFileInfo(path).fileName()));
    m_connection->notarizeFile(path, m_labelEdit->text());
}

void MainWindow::proveFile(const QString& path) {
    if (path.isEmpty()) return;
    setVerdict(QStringLiteral("pending"), tr("Checking…"), QString());
    m_proofDetails->setText(QFileInfo(path).fileName());
    m_connection->proveFile(path);
}

void MainWindow::onStatus(const NodeStatus& s) {
    if (!s.connected) {
        m_connectionValue->setText(tr("not connected to %1: %2").arg(s.address, s.error));
        m_commitValue->setProperty("verified", false);
        return;
    }
    m_connectionValue->setText(tr("connected to %1 (node %2)").arg(s.address, s.version));
    m_chainIdValue->setText(s.genesisLoaded && !s.chainIdMatchesGenesis
                                ? tr("%1 — does not match the trusted genesis!").arg(s.chainId)
                                : s.chainId);
    m_heightValue->setText(QString::number(std::max<quint64>(s.height, m_blocks->latestHeight())));
    m_validatorValue->setText(s.validatorPublicKey);
    m_commitValue->setProperty("verified", s.commitVerified);
    m_commitValue->setText(s.commitVerified
                               ? tr("✔ %1").arg(s.verifyMessage) + changesFollowed(s.validatorSetChanges)
                               : tr("✘ not verified: %1").arg(s.verifyMessage));
    m_commitValue->setStyleSheet(s.commitVerified || s.height == 0 ? QString()
                                                                   : QStringLiteral("color: #b00020;"));
}

void MainWindow::onBlock(const BlockInfo& block) {
    m_blocks->addBlock(block);
    if (block.height > m_heightValue->text().toULongLong()) {
        m_heightValue->setText(QString::number(block.height));
        m_connection->refreshStatus();
    }
}

void MainWindow::onNotarized(const NotarizeResult& r) {
    m_notarizeResult->setProperty("ok", r.ok);
    const QString name = QFileInfo(r.path).fileName();
    if (!r.ok) {
        m_notarizeResult->setText(tr("✘ %1 was not registered: %2").arg(name, r.message));
        return;
    }
    QString text = tr("✔ %1 registered in block %2 (position %3)\ndocument sha256: %4\ntransaction: %5")
                       .arg(name)
                       .arg(r.height)
                       .arg(r.index)
                       .arg(r.documentHash, r.txHash);
    if (r.keyCreated) text += tr("\na new signing key was created in %1").arg(r.keyPath);
    m_notarizeResult->setText(text);
    m_connection->refreshStatus();
}

void MainWindow::onProof(const ProofResult& r) {
    const QString name = QFileInfo(r.path).fileName();
    switch (r.verdict) {
    case ProofResult::Verdict::Verified: {
        setVerdict(QStringLiteral("verified"), tr("✔ VERIFIED"), QStringLiteral("#1b5e20"));
        QString details =
            tr("%1\nregistered at block %2, %3\ndocument sha256: %4\nregistrant: %5\ntransaction: %6")
                .arg(name)
                .arg(r.height)
                .arg(formatTime(r.timeMs), r.documentHash, r.registrant, r.txHash);
        if (!r.label.isEmpty()) details += tr("\nlabel: %1").arg(r.label);
        m_proofDetails->setText(details + QLatin1Char('\n') + r.message +
                                changesFollowed(r.validatorSetChanges));
        break;
    }
    case ProofResult::Verdict::NotRegistered:
        setVerdict(QStringLiteral("not-registered"), tr("NOT REGISTERED"), QStringLiteral("#e65100"));
        m_proofDetails->setText(tr("%1\ndocument sha256: %2\n%3").arg(name, r.documentHash, r.message) +
                                changesFollowed(r.validatorSetChanges));
        break;
    case ProofResult::Verdict::NotVerified:
        setVerdict(QStringLiteral("not-verified"), tr("✘ NOT VERIFIED"), QStringLiteral("#b00020"));
        m_proofDetails->setText(tr("%1\nthe node's answer does not check out: %2").arg(name, r.message));
        break;
    case ProofResult::Verdict::Failed:
        setVerdict(QStringLiteral("failed"), tr("✘ NOT VERIFIED"), QStringLiteral("#b00020"));
        m_proofDetails->setText(tr("%1\ncould not check: %2").arg(name, r.message));
        break;
    }
}

void MainWindow::setVerdict(const QString& verdict, const QString& text, const QString& colour) {
    m_verdictLabel->setProperty("verdict", verdict);
    m_verdictLabel->setText(text);
    m_verdictLabel->setStyleSheet(colour.isEmpty() ? QString() : QStringLiteral("color: %1;").arg(colour));
}

void MainWindow::chooseGenesis() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Trusted genesis"), QString(),
                                                      tr("Genesis (*.json);;All files (*)"));
    if (!path.isEmpty()) loadGenesis(path);
}

void MainWindow::chooseFileToNotarize() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Notarise a file"));
    if (!path.isEmpty()) notarizeFile(path);
}

void MainWindow::chooseFileToProve() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Check a file's proof"));
    if (!path.isEmpty()) proveFile(path);
}

}  // namespace fides::desktop
