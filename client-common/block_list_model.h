// BlockListModel: the blocks the live feed has delivered, newest (highest)
// first, one row per height, bounded to maxRows() (the oldest rows drop
// off). Fed by NodeConnection::blockReceived; a block at a height already
// listed replaces that row. Display text for list views, and roles (named
// for QML) for custom delegates.
//
// Thread-safety: not thread-safe; a GUI-thread object like every item model.
#pragma once

#include "client_types.h"

#include <QAbstractListModel>
#include <QList>

namespace fides::qtclient {

class BlockListModel : public QAbstractListModel {
    Q_OBJECT
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)

public:
    enum Role {
        HeightRole = Qt::UserRole + 1,
        HashRole,
        TimeRole,  // QDateTime, UTC
        TxCountRole,
        VerifiedRole,
        SignaturesRole,
        VerifyMessageRole,
    };
    Q_ENUM(Role)

    static constexpr int kDefaultMaxRows = 1000;

    explicit BlockListModel(QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    int maxRows() const { return m_maxRows; }
    // At least 1; drops the oldest rows beyond the new bound.
    void setMaxRows(int maxRows);
    // The block in `row`, or nullptr.
    const BlockInfo* blockAt(int row) const;
    // Highest height listed, 0 when empty.
    quint64 latestHeight() const;

public slots:
    void addBlock(const fides::qtclient::BlockInfo& block);
    void clear();

signals:
    void countChanged();

private:
    void trim();
    QList<BlockInfo> m_rows;  // strictly descending height
    int m_maxRows = kDefaultMaxRows;
};

}  // namespace fides::qtclient
