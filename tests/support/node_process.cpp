#include "node_process.h"

#include <QDebug>
#include <QElapsedTimer>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <ctime>
#include <random>

namespace fides::test {

namespace {
bool portFree(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}
}  // namespace

int freePortBlock(int count) {
    std::mt19937 rng(static_cast<unsigned>(::getpid()) ^ static_cast<unsigned>(std::time(nullptr)));
    for (int attempt = 0; attempt < 50; ++attempt) {
        const int base = 20000 + static_cast<int>(rng() % 20000) * 2;
        bool free = true;
        for (int p = base; p < base + count && free; ++p) free = portFree(p);
        if (free) return base;
    }
    return 0;
}

NodeProcess::NodeProcess() = default;

NodeProcess::~NodeProcess() { kill(); }

QString NodeProcess::binary(const char* name) { return QStringLiteral(FIDES_BINARY_DIR "/bin/") + name; }

bool NodeProcess::init(const QString& chainId) {
    QProcess p;
    p.start(binary("fides-node"), {"init", "--home", m_dir.path(), "--chain-id", chainId});
    if (!p.waitForFinished(15000) || p.exitCode() != 0) {
        qWarning() << "fides-node init failed:" << p.readAllStandardError();
        return false;
    }
    return true;
}

bool NodeProcess::start() {
    m_process = std::make_unique<QProcess>();
    m_process->setProcessChannelMode(QProcess::SeparateChannels);
    m_process->start(binary("fides-node"), {"start", "--home", m_dir.path(), "--rpc-listen", "127.0.0.1:0"});
    if (!m_process->waitForStarted(10000)) return false;
    QElapsedTimer t;
    t.start();
    QByteArray out;
    while (t.elapsed() < 20000) {
        m_process->waitForReadyRead(200);
        out += m_process->readAllStandardOutput();
        const int i = out.indexOf("listening on ");
        if (i >= 0 && out.indexOf('\n', i) > i) {
            m_address = QString::fromUtf8(out.mid(i + 13, out.indexOf('\n', i) - i - 13)).trimmed();
            return true;
        }
        if (m_process->state() != QProcess::Running) break;
    }
    m_stderr = QString::fromUtf8(m_process->readAllStandardError());
    qWarning() << "fides-node did not start:" << m_stderr;
    return false;
}

void NodeProcess::kill() {
    if (!m_process) return;
    if (m_process->state() != QProcess::NotRunning) {
        ::kill(static_cast<pid_t>(m_process->processId()), SIGKILL);
        m_process->waitForFinished(10000);
    }
    m_stderr += QString::fromUtf8(m_process->readAllStandardError());
    m_process.reset();
}

int NodeProcess::terminate() {
    if (!m_process) return -1;
    m_process->terminate();
    m_process->waitForFinished(15000);
    const int code = m_process->exitCode();
    m_stderr += QString::fromUtf8(m_process->readAllStandardError());
    m_process.reset();
    return code;
}

int NodeProcess::runExpectingExit(QString* errorOutput, int timeoutMs) {
    QProcess p;
    p.start(binary("fides-node"), {"start", "--home", m_dir.path(), "--rpc-listen", "127.0.0.1:0"});
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        return -1;
    }
    if (errorOutput != nullptr) *errorOutput = QString::fromUtf8(p.readAllStandardError());
    return p.exitCode();
}

}  // namespace fides::test
