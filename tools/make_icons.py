"""Render ModelDesk's app icon (resources/icons/modeldesk.svg) to the PNGs beside it.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/make_icons.py

Writes resources/icons/modeldesk-N.png for every size in SIZES with Qt's own
SVG renderer (QtSvg ships in PySide6-Essentials), so the PNGs always match the
SVG, and packs those PNGs into the installers' icons: packaging/windows/modeldesk.ico
(16-256 px) and packaging/macos/modeldesk.icns (16-512 px, with the @2x entries).
Commit them all. ``--check`` renders in memory and exits 1 if a committed file
is missing or differs from what the SVG gives now.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ICONS = ROOT / "resources" / "icons"
SVG = ICONS / "modeldesk.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def render(svg: bytes, size: int):
    """The SVG drawn into a transparent size x size QImage."""
    from PySide6.QtCore import QByteArray, QRectF
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(QByteArray(svg))
    if not renderer.isValid():
        raise SystemExit(f"{SVG} is not an SVG Qt can read")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image.convertToFormat(QImage.Format.Format_ARGB32)


def png_path(size: int) -> Path:
    return ICONS / f"modeldesk-{size}.png"


def ico_path() -> Path:
    return ROOT / "packaging" / "windows" / "modeldesk.ico"


def icns_path() -> Path:
    return ROOT / "packaging" / "macos" / "modeldesk.icns"


def ico(pngs: dict[int, bytes]) -> bytes:
    """A Windows .ico holding the PNGs of 16-256 px (PNG entries: Windows Vista and later)."""
    sizes = [s for s in sorted(pngs) if s <= 256]
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, data = b"", b""
    for size in sizes:
        png = pngs[size]
        # width/height 0 mean 256; 0 colours, 1 plane, 32 bits per pixel
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(png), offset + len(data))
        data += png
    return header + entries + data


# icns element types holding PNG data, to the pixel size they hold (Apple's icns format).
ICNS_TYPES = (("icp4", 16), ("icp5", 32), ("ic07", 128), ("ic08", 256), ("ic09", 512),
              ("ic11", 32), ("ic12", 64), ("ic13", 256), ("ic14", 512))


def icns(pngs: dict[int, bytes]) -> bytes:
    """A macOS .icns of PNG elements: 16-512 px, and the @2x (Retina) ones."""
    body = b"".join(kind.encode() + struct.pack(">I", 8 + len(pngs[size])) + pngs[size]
                    for kind, size in ICNS_TYPES)
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed PNGs, write nothing")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication, QImage

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841  (QImage text/fonts need it)
    svg = SVG.read_bytes()
    stale = []
    for size in SIZES:
        image = render(svg, size)
        if args.check:
            committed = QImage(str(png_path(size))).convertToFormat(QImage.Format.Format_ARGB32)
            if committed.isNull() or committed != image:
                stale.append(png_path(size).name)
        elif not image.save(str(png_path(size)), "PNG"):
            raise SystemExit(f"could not write {png_path(size)}")
        else:
            print(f"wrote {png_path(size).relative_to(ROOT)}")
    pngs = {size: png_path(size).read_bytes() for size in SIZES if png_path(size).exists()}
    if len(pngs) == len(SIZES):
        for path, packed in ((ico_path(), ico(pngs)), (icns_path(), icns(pngs))):
            if args.check:
                if not path.exists() or path.read_bytes() != packed:
                    stale.append(path.name)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(packed)
                print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print("out of date (run tools/make_icons.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
