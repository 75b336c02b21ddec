"""The mouse wheel scrolls the panel, not the field under the pointer.

Qt's spin boxes, combo boxes and sliders take a wheel turn as an edit even when the user
only meant to scroll past them (issue 13: scrolling the settings changed the optimizer, the
lr and the epochs with no sign). A guarded widget takes the wheel only once the user has
clicked or tabbed into it; otherwise the turn goes on to the scroll area around it."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (QAbstractScrollArea, QAbstractSpinBox, QApplication, QComboBox,
                               QSlider, QWidget)

WHEEL_EDITED = (QAbstractSpinBox, QComboBox, QSlider)


class _WheelGuard(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.Wheel or watched.hasFocus():
            return False
        area = _scroll_area_around(watched)
        if area is None:
            event.ignore()  # filtered and unaccepted: Qt offers it to the parent
        else:
            # Given to the scroll area outright: Qt passes only a wheel event that came from
            # the system on to the parent, and the turn must scroll whatever sent it.
            QApplication.sendEvent(area.viewport(), event.clone())
        return True


def _scroll_area_around(widget: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QAbstractScrollArea):
        parent = parent.parentWidget()
    return parent


_guard = _WheelGuard()


def guard_wheel(root: QWidget) -> None:
    """Every field and list inside `root` takes the wheel only when it has the focus."""
    for widget in (w for kind in WHEEL_EDITED for w in root.findChildren(kind)):
        if widget.focusPolicy() == Qt.FocusPolicy.WheelFocus:
            widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # a wheel turn gives no focus
        widget.installEventFilter(_guard)
