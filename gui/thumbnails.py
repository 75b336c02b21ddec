"""Pictures of samples: a uint8 image array as a thumbnail, shared by the data preview and
the evaluation view."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap

if TYPE_CHECKING:
    import numpy as np

THUMBNAIL_PX = 72


def pixmap_of(image: np.ndarray, size: int = THUMBNAIL_PX) -> QPixmap:
    """A uint8 (H, W) or (H, W, 3) array as a square-ish picture `size` pixels wide; small
    images are enlarged with visible pixels rather than blurred."""
    import numpy as np  # not at the window's start-up

    image = np.ascontiguousarray(image)
    height, width = image.shape[:2]
    if image.ndim == 2:
        qimage = QImage(image.data, width, height, width, QImage.Format.Format_Grayscale8)
    else:
        qimage = QImage(image.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    pixmap = QPixmap.fromImage(qimage.copy())  # copy: the array's buffer is not kept
    return pixmap.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                         Qt.TransformationMode.FastTransformation if max(height, width) < size
                         else Qt.TransformationMode.SmoothTransformation)
