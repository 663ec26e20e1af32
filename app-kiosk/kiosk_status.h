// KioskStatus: what the kiosk screen shows about its node (connected or
// not, chain, height, whether the latest commit verified on this kiosk),
// as QML properties. Fed by a NodeConnection it owns: start() begins a
// status poll and the live block feed; applyStatus() takes one answer (the
// tests call it directly). Display strings stay in QML (qsTr); this object
// exposes data only.
//
// Thread-safety: GUI thread only, like the QML engine that binds to it.
#pragma once

#include "client-common/node_connection.h"

#include <QObject>
#include <QTimer>
#include <QtQml/qqmlregistration.h>

namespace fides::kiosk {

class KioskStatus : public QObject {
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("KioskStatus is provided by the application")
    Q_PROPERTY(QString address READ address NOTIFY changed)
    Q_PROPERTY(bool connected READ connected NOTIFY changed)
    Q_PROPERTY(bool hasAnswer READ hasAnswer NOTIFY changed)
    Q_PROPERTY(QString chainId READ chainId NOTIFY changed)
    Q_PROPERTY(QString genesisChainId READ genesisChainId NOTIFY changed)
    Q_PROPERTY(bool chainMatchesGenesis READ chainMatchesGenesis NOTIFY changed)
    // A double for QML (no 64-bit integers there); exact up to 2^53.
    Q_PROPERTY(double height READ height NOTIFY changed)
    Q_PROPERTY(bool commitVerified READ commitVerified NOTIFY changed)
    Q_PROPERTY(QString lastError READ lastError NOTIFY changed)

public:
    static constexpr int kPollMs = 3000;

    explicit KioskStatus(QObject* parent = nullptr);

    void setAddress(const QString& address);
    bool setGenesisPath(const QString& path);
    qtclient::NodeConnection* connection() const { return m_connection; }

    QString address() const { return m_connection->address(); }
    bool connected() const { return m_status.connected; }
    bool hasAnswer() const { return m_hasAnswer; }
    QString chainId() const { return m_status.chainId; }
    QString genesisChainId() const { return m_connection->genesisChainId(); }
    bool chainMatchesGenesis() const { return m_status.chainIdMatchesGenesis; }
    double height() const { return static_cast<double>(m_status.height); }
    bool commitVerified() const { return m_status.commitVerified; }
    QString lastError() const { return m_status.connected ? QString() : m_status.error; }

public slots:
    // Polls the status every kPollMs and follows the live block feed.
    void start();
    void stop();
    void applyStatus(const fides::qtclient::NodeStatus& status);

signals:
    void changed();

private:
    void onBlock(const qtclient::BlockInfo& block);

    qtclient::NodeConnection* m_connection = nullptr;
    QTimer m_poll;
    qtclient::NodeStatus m_status;
    bool m_hasAnswer = false;
};

}  // namespace fides::kiosk
