"""The app icon: shipped in modeldesk.resources (found by importlib.resources,
not by a path into the source tree), every PNG size present and matching the
SVG, and used by the main window, the About box and the tray helper."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib import resources
from pathlib import Path

import pytest
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from modeldesk.gui.kit import icons

ROOT = Path(__file__).resolve().parents[2]


def test_every_size_is_in_the_resources_package_and_has_its_size(qapp):
    package = resources.files("modeldesk.resources")
    assert package.joinpath("icons/modeldesk.svg").is_file()
    for size in icons.ICON_SIZES:
        pixmap = icons.pixmap(size)
        assert not pixmap.isNull()
        assert (pixmap.width(), pixmap.height()) == (size, size)
        corner, centre = pixmap.toImage().pixelColor(0, 0), pixmap.toImage().pixelColor(size // 2, size // 2)
        assert corner.alpha() < 128, "the rounded corners are transparent"
        assert centre.alpha() == 255


def test_the_icon_offers_every_size(qapp):
    sizes = {(s.width(), s.height()) for s in icons.app_icon().availableSizes()}
    assert sizes == {(s, s) for s in icons.ICON_SIZES}
    assert icons.tray_icon().cacheKey() == icons.app_icon().cacheKey()


def test_an_unknown_size_is_refused_with_the_sizes_there_are(qapp):
    with pytest.raises(ValueError, match="16, 24, 32"):
        icons.pixmap(20)


def test_the_committed_pngs_are_the_svg_rendered_now():
    """tools/make_icons.py --check renders the SVG again and compares every pixel."""
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "make_icons.py"), "--check"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_the_check_catches_a_stale_png(tmp_path, monkeypatch):
    """The test of the test: a PNG that no longer matches the SVG is reported."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import make_icons
    finally:
        sys.path.pop(0)
    folder = tmp_path / "icons"
    folder.mkdir()
    (folder / "modeldesk.svg").write_bytes(make_icons.SVG.read_bytes())
    monkeypatch.setattr(make_icons, "ICONS", folder)
    monkeypatch.setattr(make_icons, "SVG", folder / "modeldesk.svg")
    monkeypatch.setattr(make_icons, "ROOT", tmp_path)
    assert make_icons.main([]) == 0 and make_icons.main(["--check"]) == 0
    svg = (folder / "modeldesk.svg").read_text().replace("#ffb347", "#00ff00")
    (folder / "modeldesk.svg").write_text(svg)
    assert make_icons.main(["--check"]) == 1


def test_the_window_and_the_about_box_show_the_icon(qtbot, window):
    assert not window.windowIcon().isNull()
    assert {(s.width(), s.height()) for s in window.windowIcon().availableSizes()} >= {(16, 16), (64, 64)}
    box = window.about()
    assert box.iconPixmap().width() == 64
    assert "License" in box.text() and "MIT" in box.text()
    box.close()


def test_the_about_box_names_the_license_pyproject_declares():
    from modeldesk.gui.main_window import LICENSE

    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"] == LICENSE


def test_create_application_gives_every_window_the_icon(qapp):
    from modeldesk.gui.app import create_application

    palette, style = QApplication.palette(), QApplication.style().name()
    QApplication.setWindowIcon(QIcon())
    try:
        assert create_application() is QApplication.instance()
        assert QApplication.windowIcon().cacheKey() == icons.app_icon().cacheKey()
    finally:   # create_application also themes the app: leave the others' palette as it was
        QApplication.setStyle(style)
        QApplication.setPalette(palette)


@pytest.mark.parametrize("path, sizes", [
    ("packaging/windows/modeldesk.ico", [16, 24, 32, 48, 64, 128, 256]),
    ("packaging/macos/modeldesk.icns", [16, 32, 128, 256, 512, 32, 64, 256, 512]),
])
def test_the_installer_icons_read_back_at_every_size(qapp, path, sizes):
    """The .ico and .icns the spec names for Windows and macOS, read by Qt's own readers."""
    from PySide6.QtGui import QImageReader

    reader = QImageReader(str(ROOT / path))
    read = []
    for i in range(reader.imageCount()):
        reader.jumpToImage(i)
        image = reader.read()
        assert not image.isNull() and image.width() == image.height()
        read.append(image.width())
    assert read == sizes
