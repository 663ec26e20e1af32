// The kiosk's first screen: the node it talks to, in large high-contrast
// text. The voting flow comes later (DESIGN.md §6).
import QtQuick
import QtQuick.Window
import Fides.Kiosk

Window {
    id: root

    required property KioskStatus status
    property bool fullScreen: true

    width: 1280
    height: 800
    visible: true
    visibility: fullScreen ? Window.FullScreen : Window.Windowed
    color: "#000000"
    title: qsTr("Fides kiosk")

    readonly property int baseSize: Math.max(32, Math.min(width, height) / 16)
    readonly property color okColour: "#7CFF7C"
    readonly property color warnColour: "#FFE000"
    readonly property color textColour: "#FFFFFF"

    Column {
        objectName: "statusColumn"
        anchors.centerIn: parent
        width: parent.width * 0.85
        spacing: root.baseSize * 0.6

        Text {
            objectName: "titleText"
            width: parent.width
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.Wrap
            text: qsTr("Fides")
            color: root.textColour
            font.pixelSize: root.baseSize * 1.6
            font.bold: true
        }

        Text {
            objectName: "connectionText"
            width: parent.width
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.Wrap
            text: root.status.connected ? qsTr("● Connected")
                                        : (root.status.hasAnswer ? qsTr("✕ Not connected")
                                                                 : qsTr("Connecting…"))
            color: root.status.connected ? root.okColour : root.warnColour
            font.pixelSize: root.baseSize
            font.bold: true
        }

        Text {
            objectName: "chainText"
            width: parent.width
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.Wrap
            text: qsTr("Chain: %1").arg(root.status.chainId !== "" ? root.status.chainId : qsTr("unknown"))
            color: root.textColour
            font.pixelSize: root.baseSize
        }

        Text {
            objectName: "heightText"
            width: parent.width
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.Wrap
            text: qsTr("Block height: %1").arg(root.status.height)
            color: root.textColour
            font.pixelSize: root.baseSize
        }

        Text {
            objectName: "verifiedText"
            width: parent.width
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.Wrap
            text: root.status.commitVerified ? qsTr("Latest block verified on this kiosk")
                                             : qsTr("Latest block not verified")
            color: root.status.commitVerified ? root.okColour : root.warnColour
            font.pixelSize: root.baseSize * 0.7
        }

        Text {
            objectName: "nodeText"
            width: parent.width
            horizontalAlignment: Text.AlignHCenter
            wrapMode: Text.Wrap
            text: root.status.lastError !== ""
                  ? qsTr("Node %1: %2").arg(root.status.address).arg(root.status.lastError)
                  : qsTr("Node %1").arg(root.status.address)
            color: root.textColour
            font.pixelSize: root.baseSize * 0.5
        }
    }
}
