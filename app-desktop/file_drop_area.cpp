#include "file_drop_area.h"

#include <QDragEnterEvent>
#include <QDropEvent>
#include <QMimeData>
#include <QMouseEvent>
#include <QStyle>
#include <QUrl>

namespace fides::desktop {

namespace {
QString firstLocalFile(const QMimeData* mime) {
    if (mime == nullptr || !mime->hasUrls()) return {};
    for (const QUrl& url : mime->urls()) {
        if (url.isLocalFile()) return url.toLocalFile();
    }
    return {};
}
}  // namespace

FileDropArea::FileDropArea(const QString& text, QWidget* parent) : QLabel(text, parent) {
    setAcceptDrops(true);
    setAlignment(Qt::AlignCenter);
    setWordWrap(true);
    setMinimumHeight(80);
    setFrameShape(QFrame::StyledPanel);
    setCursor(Qt::PointingHandCursor);
    setStyleSheet(QStringLiteral(
        "fides--desktop--FileDropArea { border: 2px dashed palette(mid); border-radius: 6px; }"
        "fides--desktop--FileDropArea[highlighted=\"true\"] { border-color: palette(highlight); }"));
}

void FileDropArea::dragEnterEvent(QDragEnterEvent* event) {
    if (firstLocalFile(event->mimeData()).isEmpty()) return;
    event->acceptProposedAction();
    setHighlighted(true);
}

void FileDropArea::dragLeaveEvent(QDragLeaveEvent* event) {
    setHighlighted(false);
    QLabel::dragLeaveEvent(event);
}

void FileDropArea::dropEvent(QDropEvent* event) {
    setHighlighted(false);
    const QString path = firstLocalFile(event->mimeData());
    if (path.isEmpty()) return;
    event->acceptProposedAction();
    emit fileDropped(path);
}

void FileDropArea::mouseReleaseEvent(QMouseEvent* event) {
    if (event->button() == Qt::LeftButton && rect().contains(event->position().toPoint())) emit clicked();
    QLabel::mouseReleaseEvent(event);
}

void FileDropArea::setHighlighted(bool on) {
    setProperty("highlighted", on);
    style()->unpolish(this);
    style()->polish(this);
}

}  // namespace fides::desktop
