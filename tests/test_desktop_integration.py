"""packaging/linux: the .desktop entry, the .mdesk MIME type and the per-user install
script, installed into a temporary XDG_DATA_HOME (never the user's own)."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from modeldesk.core.storage.project import open_project

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
    env = {"PATH": "/usr/bin:/bin", "HOME": str(data.parent), "XDG_DATA_HOME": str(data),
           "XDG_CONFIG_HOME": str(data.parent / "config")}
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
    # Nothing else is touched; xdg-mime (when installed) records the default app in mimeapps.list.
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and not p.is_relative_to(data)]
    assert outside in ([], [tmp_path / "config" / "mimeapps.list"])
    if outside:
        assert "application/x-modeldesk-project=modeldesk.desktop" in outside[0].read_text()

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


@pytest.mark.skipif(not shutil.which("desktop-file-validate"), reason="desktop-file-validate not installed "
                    "(apt-get install desktop-file-utils; .ci/run does)")
def test_the_desktop_entry_passes_the_freedesktop_validator(tmp_path):
    installed = tmp_path / "share" / "applications" / "modeldesk.desktop"
    assert install(tmp_path / "share", "/opt/ModelDesk/ModelDesk").returncode == 0
    for entry in (LINUX / "modeldesk.desktop", installed):   # as shipped, and with install.sh's Exec
        result = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True, timeout=30)
        assert result.returncode == 0 and not result.stdout.strip(), result.stdout


@pytest.mark.skipif(not shutil.which("gio"), reason="gio (GLib's file-type and launcher tool, what GTK file "
                    "managers use) not installed: apt-get install libglib2.0-bin; .ci/run does")
def test_opening_a_project_file_the_way_a_file_manager_does_starts_modeldesk_on_it(tmp_path):
    """After install.sh, `gio open` (a double-click in Files/Nautilus, Thunar, ...) finds the
    type by the *.mdesk glob, the default app by the .desktop entry, and runs its Exec line
    with the file: here a stand-in for ModelDesk that records its arguments."""
    data, config = tmp_path / "share", tmp_path / "config"   # install() puts config beside data
    argv = tmp_path / "argv.txt"
    fake = tmp_path / "bin" / "ModelDesk"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {argv}\n')
    fake.chmod(0o755)
    assert install(data, str(fake)).returncode == 0
    project = tmp_path / "team project.mdesk"
    open_project(project).close()   # a real project file: SQLite's magic says "SQLite database"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_DATA_HOME": str(data),
           "XDG_CONFIG_HOME": str(config), "XDG_DATA_DIRS": "/usr/share"}   # as install() had them
    info = subprocess.run(["gio", "info", "-a", "standard::content-type", str(project)], env=env,
                          capture_output=True, text=True, timeout=30)
    assert "application/x-modeldesk-project" in info.stdout, info.stdout + info.stderr
    result = subprocess.run(["gio", "open", str(project)], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    deadline = time.monotonic() + 20
    while not argv.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    assert argv.read_text().splitlines() == ["ui", str(project)]
