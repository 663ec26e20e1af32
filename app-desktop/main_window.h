// MainWindow: the first desktop window. Connect to a node, watch its chain
// (status, and the live block list with each commit checked locally against
// the trusted genesis), notarise a file, and check a file's proof.
//
// Every network call goes through NodeConnection, off the GUI thread. Every
// widget has an objectName (listed in README.md) so tests find them.
//
// Thread-safety: a widget; GUI thread only.
#pragma once

#include "client-common/block_list_model.h"
#include "client-common/node_connection.h"

#include <QMainWindow>

class QLabel;
class QLineEdit;
class QListView;
class QPushButton;
class QTimer;

namespace fides::desktop {

class FileDropArea;

class MainWindow : public QMainWindow {
    Q_OBJECT

public:
    static constexpr int kStatusRefreshMs = 5000;

    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    qtclient::NodeConnection* connection() const { return m_connection; }
    qtclient::BlockListModel* blockModel() const { return m_blocks; }

public slots:
    // Talks to `address` from now on: clears the block list, restarts the
    // live feed and asks for the status.
    void connectToNode(const QString& address);
    // Loads the trusted genesis.json; false (and a message) on failure.
    bool loadGenesis(const QString& path);
    // Notarises `path` with the label typed in labelEdit.
    void notarizeFile(const QString& path);
    void proveFile(const QString& path);

private slots:
    void onStatus(const fides::qtclient::NodeStatus& status);
    void onBlock(const fides::qtclient::BlockInfo& block);
    void onNotarized(const fides::qtclient::NotarizeResult& result);
    void onProof(const fides::qtclient::ProofResult& result);
    void chooseGenesis();
    void chooseFileToNotarize();
    void chooseFileToProve();

private:
    void buildUi();
    void setVerdict(const QString& verdict, const QString& text, const QString& colour);

    qtclient::NodeConnection* m_connection = nullptr;
    qtclient::BlockListModel* m_blocks = nullptr;
    QTimer* m_statusTimer = nullptr;

    QLineEdit* m_addressEdit = nullptr;
    QPushButton* m_connectButton = nullptr;
    QLineEdit* m_genesisEdit = nullptr;
    QPushButton* m_genesisButton = nullptr;
    QLabel* m_connectionValue = nullptr;
    QLabel* m_chainIdValue = nullptr;
    QLabel* m_heightValue = nullptr;
    QLabel* m_validatorValue = nullptr;
    QLabel* m_commitValue = nullptr;
    QListView* m_blockList = nullptr;
    FileDropArea* m_notarizeDrop = nullptr;
    QLineEdit* m_labelEdit = nullptr;
    QPushButton* m_notarizeButton = nullptr;
    QLabel* m_notarizeResult = nullptr;
    FileDropArea* m_proveDrop = nullptr;
    QPushButton* m_proveButton = nullptr;
    QLabel* m_verdictLabel = nullptr;
    QLabel* m_proofDetails = nullptr;
};

}  // namespace fides::desktop
