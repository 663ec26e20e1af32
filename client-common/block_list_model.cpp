#include "block_list_model.h"

#include <QDateTime>

#include <algorithm>

namespace fides::qtclient {

BlockListModel::BlockListModel(QObject* parent) : QAbstractListModel(parent) {}

int BlockListModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

QVariant BlockListModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
    const BlockInfo& b = m_rows.at(index.row());
    const QDateTime time = QDateTime::fromMSecsSinceEpoch(static_cast<qint64>(b.timeMs), Qt::UTC);
    switch (role) {
    case Qt::DisplayRole:
        return tr("#%1  %2  %3  %n tx  %4", nullptr, static_cast<int>(b.txCount))
            .arg(b.height)
            .arg(time.toString(QStringLiteral("yyyy-MM-dd HH:mm:ss 'UTC'")))
            .arg(b.hash.left(16))
            .arg(b.verified ? tr("commit verified") : tr("NOT VERIFIED"));
    case Qt::ToolTipRole:
        return b.verified ? tr("Block %1, hash %2: commit signed by %3 validator(s) of the trusted genesis")
                                .arg(b.height)
                                .arg(b.hash)
                                .arg(b.signatures)
                          : tr("Block %1, hash %2: commit not verified: %3")
                                .arg(b.height)
                                .arg(b.hash, b.verifyMessage);
    case HeightRole: return QVariant::fromValue(b.height);
    case HashRole: return b.hash;
    case TimeRole: return time;
    case TxCountRole: return QVariant::fromValue(b.txCount);
    case VerifiedRole: return b.verified;
    case SignaturesRole: return QVariant::fromValue(b.signatures);
    case VerifyMessageRole: return b.verifyMessage;
    default: return {};
    }
}

QHash<int, QByteArray> BlockListModel::roleNames() const {
    QHash<int, QByteArray> names = QAbstractListModel::roleNames();
    names.insert(HeightRole, "height");
    names.insert(HashRole, "hash");
    names.insert(TimeRole, "time");
    names.insert(TxCountRole, "txCount");
    names.insert(VerifiedRole, "verified");
    names.insert(SignaturesRole, "signatures");
    names.insert(VerifyMessageRole, "verifyMessage");
    return names;
}

void BlockListModel::setMaxRows(int maxRows) {
    m_maxRows = std::max(1, maxRows);
    trim();
}

const BlockInfo* BlockListModel::blockAt(int row) const {
    return row >= 0 && row < m_rows.size() ? &m_rows.at(row) : nullptr;
}

quint64 BlockListModel::latestHeight() const { return m_rows.isEmpty() ? 0 : m_rows.front().height; }

void BlockListModel::addBlock(const BlockInfo& block) {
    // First row whose height is not above the new block's.
    auto it = std::lower_bound(m_rows.begin(), m_rows.end(), block.height,
                               [](const BlockInfo& b, quint64 h) { return b.height > h; });
    const int row = static_cast<int>(it - m_rows.begin());
    if (it != m_rows.end() && it->height == block.height) {
        *it = block;
        const QModelIndex idx = index(row);
        emit dataChanged(idx, idx);
        return;
    }
    if (row >= m_maxRows) return;  // older than everything kept, and no room
    beginInsertRows({}, row, row);
    m_rows.insert(row, block);
    endInsertRows();
    trim();
    emit countChanged();
}

void BlockListModel::clear() {
    if (m_rows.isEmpty()) return;
    beginResetModel();
    m_rows.clear();
    endResetModel();
    emit countChanged();
}

void BlockListModel::trim() {
    if (m_rows.size() <= m_maxRows) return;
    beginRemoveRows({}, m_maxRows, static_cast<int>(m_rows.size()) - 1);
    m_rows.resize(m_maxRows);
    endRemoveRows();
    emit countChanged();
}

}  // namespace fides::qtclient
