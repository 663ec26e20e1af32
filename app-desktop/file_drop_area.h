// FileDropArea: a framed label that accepts a local file dragged onto it
// and reports it with fileDropped. Clicking it asks for a file instead
// (clicked), so it also works without drag and drop.
//
// Thread-safety: a widget; GUI thread only.
#pragma once

#include <QLabel>

namespace fides::desktop {

class FileDropArea : public QLabel {
    Q_OBJECT

public:
    explicit FileDropArea(const QString& text, QWidget* parent = nullptr);

signals:
    void fileDropped(const QString& path);
    void clicked();

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dragLeaveEvent(QDragLeaveEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;

private:
    void setHighlighted(bool on);
};

}  // namespace fides::desktop
