// NodeProcess: a real fides-node in its own process for functional and GUI
// tests. Initialises a home folder in a temporary directory, starts the
// daemon on a free loopback port (read from its "listening on" line), and
// can SIGKILL and restart it.
//
// Thread-safety: not thread-safe; use from the test thread.
#pragma once

#include <QProcess>
#include <QString>
#include <QTemporaryDir>

#include <memory>

namespace fides::test {

class NodeProcess {
public:
    NodeProcess();
    ~NodeProcess();

    // `fides-node init`; false (with the output logged) on failure.
    bool init(const QString& chainId = QStringLiteral("functional-chain"));
    // Starts the daemon and waits for its address; false on failure.
    bool start();
    // SIGKILL, then wait for the process to be gone.
    void kill();
    // SIGTERM, then wait; returns the exit code.
    int terminate();
    // Runs `fides-node start` to completion (for start-up failures):
    // returns the exit code and puts stderr into `errorOutput`.
    int runExpectingExit(QString* errorOutput, int timeoutMs = 15000);

    QString home() const { return m_dir.path(); }
    QString genesisPath() const { return m_dir.path() + "/config/genesis.json"; }
    std::string address() const { return m_address.toStdString(); }
    bool running() const { return m_process && m_process->state() == QProcess::Running; }
    qint64 pid() const { return m_process ? m_process->processId() : 0; }
    QString stderrText() const { return m_stderr; }

    static QString binary(const char* name);

private:
    QTemporaryDir m_dir;
    std::unique_ptr<QProcess> m_process;
    QString m_address;
    QString m_stderr;
};

// The first of `count` consecutive loopback ports that were all free a
// moment ago (an even port from 20000 to 59998, picked at random so that
// tests running side by side rarely collide), or 0 if 50 tries found none.
int freePortBlock(int count);

}  // namespace fides::test
