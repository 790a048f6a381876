"""packaging/linux: the .desktop entry, the .mdesk MIME type and the per-user install
script, installed into a temporary XDG_DATA_HOME (never the user's own)."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINUX = ROOT / "packaging" / "linux"
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"


def desktop_entry(path: Path) -> dict:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str   # keys are case-sensitive in .desktop files
    parser.read_string(path.read_text())
    return dict(parser["Desktop Entry"])


def mime_type() -> ET.Element:
    return ET.parse(LINUX / "modeldesk-mime.xml").getroot().find(f"{MIME_NS}mime-type")


def test_the_desktop_entry_opens_a_project_and_names_the_mime_type_and_icon():
    entry = desktop_entry(LINUX / "modeldesk.desktop")
    assert entry["Type"] == "Application" and entry["Name"] == "ModelDesk"
    assert entry["Exec"] == "modeldesk ui %f"   # one file per launch: the app opens one project
    assert entry["Icon"] == "modeldesk" and entry["Terminal"] == "false"
    assert entry["MimeType"].rstrip(";") == mime_type().get("type")
    # Qt sets the window's WM_CLASS from setDesktopFileName("modeldesk") (gui/app.py).
    assert entry["StartupWMClass"] == "modeldesk"
    assert 'setDesktopFileName("modeldesk")' in (ROOT / "app" / "modeldesk" / "gui" / "app.py").read_text()


def test_the_mime_type_claims_mdesk_files_over_the_sqlite_magic():
    mime = mime_type()
    assert mime.get("type") == "application/x-modeldesk-project"
    glob = mime.find(f"{MIME_NS}glob")
    assert glob.get("pattern") == "*.mdesk" and int(glob.get("weight")) > 50   # magic rules weigh 50
    assert mime.find(f"{MIME_NS}sub-class-of").get("type") == "application/vnd.sqlite3"


def install(data: Path, *args: str, linux: Path = LINUX) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(data.parent), "XDG_DATA_HOME": str(data)}
    return subprocess.run(["sh", str(linux / "install.sh"), *args], env=env, capture_output=True, text=True,
                          timeout=60)


def test_install_puts_entry_icons_and_type_in_the_users_data_folder_and_uninstall_removes_them(tmp_path):
    data = tmp_path / "share"
    app = tmp_path / "opt" / "ModelDesk" / "ModelDesk"
    result = install(data, str(app))
    assert result.returncode == 0, result.stderr
    entry = desktop_entry(data / "applications" / "modeldesk.desktop")
    assert entry["Exec"] == f"{app} ui %f" and entry["TryExec"] == str(app)
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        installed = data / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "modeldesk.png"
        assert installed.read_bytes() == (ROOT / "resources" / "icons" / f"modeldesk-{size}.png").read_bytes()
    assert (data / "icons" / "hicolor" / "scalable" / "apps" / "modeldesk.svg").exists()
    assert (data / "mime" / "packages" / "modeldesk-mime.xml").exists()
    if shutil.which("update-mime-database"):   # the real shared-mime-info compiled our XML
        globs = (data / "mime" / "globs2").read_text()
        assert "application/x-modeldesk-project:*.mdesk" in globs
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and not p.is_relative_to(data)]

    result = install(data, "--uninstall")
    assert result.returncode == 0, result.stderr
    assert not (data / "applications" / "modeldesk.desktop").exists()
    assert not list((data / "icons").rglob("modeldesk.*"))
    assert not (data / "mime" / "packages" / "modeldesk-mime.xml").exists()


@pytest.mark.parametrize("command, code, words", [
    ("/opt/Model Desk/ModelDesk", 2, "contains a space"),
])
def test_install_refuses_a_command_it_cannot_write_into_exec(tmp_path, command, code, words):
    result = install(tmp_path / "share", command)
    assert result.returncode == code and words in result.stderr
    assert not (tmp_path / "share" / "applications").exists()


def test_install_without_a_modeldesk_to_point_at_says_how_to_get_one(tmp_path):
    checkout = tmp_path / "checkout"   # a copy of the checkout without dist/ModelDesk
    shutil.copytree(LINUX, checkout / "packaging" / "linux")
    shutil.copytree(ROOT / "resources" / "icons", checkout / "resources" / "icons")
    result = install(tmp_path / "share", linux=checkout / "packaging" / "linux")
    assert result.returncode == 1 and "make package" in result.stderr and "pip install" in result.stderr
