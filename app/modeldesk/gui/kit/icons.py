"""The app icon, loaded from the ``modeldesk.resources`` package.

Files are read with :mod:`importlib.resources` (bytes, never a path relative
to the source tree), so the same code works in a checkout, an editable
install, a wheel and a PyInstaller build. The window, the About dialog and
the tray (:func:`tray_icon`) use these.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from PySide6.QtGui import QIcon, QPixmap

PACKAGE = "modeldesk.resources"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def resource_bytes(name: str) -> bytes:
    """The bytes of ``name`` (e.g. ``"icons/modeldesk.svg"``) inside modeldesk.resources."""
    return resources.files(PACKAGE).joinpath(name).read_bytes()


def pixmap(size: int) -> QPixmap:
    """The app icon drawn at ``size`` px (one of :data:`ICON_SIZES`), from its PNG."""
    if size not in ICON_SIZES:
        raise ValueError(f"no {size} px app icon: the sizes are {', '.join(map(str, ICON_SIZES))}")
    result = QPixmap()
    if not result.loadFromData(resource_bytes(f"icons/modeldesk-{size}.png"), "PNG"):
        raise RuntimeError(f"icons/modeldesk-{size}.png in {PACKAGE} is not a PNG Qt can read")
    return result


@lru_cache(maxsize=1)
def app_icon() -> QIcon:
    """ModelDesk's icon with every PNG size, so Qt picks a sharp one for the
    title bar, the task switcher, the tray and dialogs. Needs a QGuiApplication."""
    icon = QIcon()
    for size in ICON_SIZES:
        icon.addPixmap(pixmap(size))
    return icon


def tray_icon() -> QIcon:
    """The icon for the system tray: the app icon (its 16-24 px PNGs are drawn on a
    whole-pixel grid, so they stay readable on light and dark panels)."""
    return app_icon()
