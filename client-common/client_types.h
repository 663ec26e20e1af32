// Plain result values that client-common hands to the apps through signals:
// a node's status, one block as the live feed saw it, and the outcomes of
// notarising and proving a file. Every check they report (commitVerified,
// verified, ProofResult::verdict) was made locally against the validator
// sets followed from the trusted genesis (the genesis set and each
// validator-set change, learned from the header that announced it), never
// taken from the node.
//
// Thread-safety: value types (Q_GADGET), safe to copy between threads; they
// travel through queued connections.
#pragma once

#include <QMetaType>
#include <QString>

#include <cstdint>

namespace fides::qtclient {

struct NodeStatus {
    Q_GADGET
    Q_PROPERTY(bool connected MEMBER connected)
    Q_PROPERTY(QString chainId MEMBER chainId)
    Q_PROPERTY(quint64 height MEMBER height)
    Q_PROPERTY(bool commitVerified MEMBER commitVerified)
    Q_PROPERTY(quint32 signatures MEMBER signatures)
    Q_PROPERTY(quint64 signedPower MEMBER signedPower)
    Q_PROPERTY(quint64 totalPower MEMBER totalPower)
    Q_PROPERTY(quint32 validatorSetChanges MEMBER validatorSetChanges)

public:
    bool connected = false;
    QString error;    // why the node could not be reached (connected == false)
    QString address;  // the node asked
    QString chainId;
    quint64 height = 0;
    QString latestBlockHash;  // hex
    quint64 latestBlockTimeMs = 0;
    QString validatorPublicKey;  // hex, the answering node's validator key
    quint32 validators = 0;
    quint64 mempoolSize = 0;
    QString version;
    // The latest block's commit, checked locally against the validator set
    // of its height, as followed from the genesis. False when height is 0,
    // no genesis is loaded, or the check failed (then verifyMessage says
    // why).
    bool commitVerified = false;
    bool genesisLoaded = false;
    bool chainIdMatchesGenesis = false;
    QString verifyMessage;
    quint32 signatures = 0;
    quint64 signedPower = 0;
    quint64 totalPower = 0;
    // Validator-set changes since the genesis that the check followed, each
    // verified against the header announcing it (0: the genesis set signed).
    quint32 validatorSetChanges = 0;
};

struct BlockInfo {
    Q_GADGET
    Q_PROPERTY(quint64 height MEMBER height)
    Q_PROPERTY(QString hash MEMBER hash)
    Q_PROPERTY(quint64 timeMs MEMBER timeMs)
    Q_PROPERTY(quint32 txCount MEMBER txCount)
    Q_PROPERTY(bool verified MEMBER verified)

public:
    quint64 height = 0;
    QString hash;        // hex of SHA-256(encoded header)
    quint64 timeMs = 0;  // unix milliseconds, proposer's clock
    quint32 txCount = 0;
    quint32 signatures = 0;
    // The header's commit carries > 2/3 of the power of the validator set
    // of its height, as followed from the genesis.
    bool verified = false;
    QString verifyMessage;  // why not, when verified == false
};

struct NotarizeResult {
    Q_GADGET

public:
    bool ok = false;
    QString path;
    QString label;
    QString message;       // human-readable outcome or error
    QString documentHash;  // hex SHA-256 of the file
    QString txHash;        // hex
    quint64 height = 0;    // block holding the transaction
    quint32 index = 0;     // position in that block
    bool keyCreated = false;
    QString keyPath;
};

struct ProofResult {
    Q_GADGET

public:
    enum class Verdict {
        Verified,       // registration proven, checked locally
        NotRegistered,  // absence proven, checked locally
        NotVerified,    // the node's answer does not check out
        Failed,         // could not read the file, reach the node, or no genesis
    };
    Q_ENUM(Verdict)

    Verdict verdict = Verdict::Failed;
    bool registered = false;
    QString path;
    QString message;
    QString documentHash;  // hex
    quint64 height = 0;    // registering block (Verified)
    quint64 provenAtHeight = 0;
    quint64 timeMs = 0;  // registering block's time (Verified)
    QString label;
    QString registrant;  // hex public key
    QString txHash;      // hex
    quint32 signatures = 0;
    quint64 signedPower = 0;
    quint64 totalPower = 0;
    quint32 validatorSetChanges = 0;  // as NodeStatus::validatorSetChanges
};

}  // namespace fides::qtclient

Q_DECLARE_METATYPE(fides::qtclient::NodeStatus)
Q_DECLARE_METATYPE(fides::qtclient::BlockInfo)
Q_DECLARE_METATYPE(fides::qtclient::NotarizeResult)
Q_DECLARE_METATYPE(fides::qtclient::ProofResult)
