#include "kiosk_status.h"

namespace fides::kiosk {

KioskStatus::KioskStatus(QObject* parent)
    : QObject(parent), m_connection(new qtclient::NodeConnection(this)) {
    m_poll.setInterval(kPollMs);
    connect(&m_poll, &QTimer::timeout, m_connection, &qtclient::NodeConnection::refreshStatus);
    connect(m_connection, &qtclient::NodeConnection::statusReceived, this, &KioskStatus::applyStatus);
    connect(m_connection, &qtclient::NodeConnection::blockReceived, this, &KioskStatus::onBlock);
    connect(m_connection, &qtclient::NodeConnection::addressChanged, this, &KioskStatus::changed);
    connect(m_connection, &qtclient::NodeConnection::genesisChanged, this, &KioskStatus::changed);
}

void KioskStatus::setAddress(const QString& address) { m_connection->setAddress(address); }

bool KioskStatus::setGenesisPath(const QString& path) { return m_connection->setGenesisPath(path); }

void KioskStatus::start() {
    m_connection->startBlockSubscription();
    m_connection->refreshStatus();
    m_poll.start();
}

void KioskStatus::stop() {
    m_poll.stop();
    m_connection->stopBlockSubscription();
}

void KioskStatus::applyStatus(const qtclient::NodeStatus& status) {
    m_status = status;
    m_hasAnswer = true;
    emit changed();
}

void KioskStatus::onBlock(const qtclient::BlockInfo& block) {
    // A newer block whose commit verified locally moves the height on
    // between polls.
    if (!block.verified || block.height <= m_status.height) return;
    m_status.height = block.height;
    m_status.commitVerified = true;
    emit changed();
}

}  // namespace fides::kiosk
