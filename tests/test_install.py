"""The two ways to install ModelDesk, checked end to end.

- The wheel and sdist: `python -m build` (the wheel is built from the sdist, so both
  are checked), the wheel installed with --no-deps into a fresh venv that borrows this
  test venv's dependencies through a .pth line (no network, no editable finder: the
  source tree is not on its path), then the console script: --version, demo --no-ui,
  ui until its first window paints (offscreen), serve with a /predict, report when
  that command exists, and the icons inside the installed package.
- The packaged app (dist/ModelDesk/ModelDesk from `make package`): the same
  commands, the window on the real xcb plugin under xvfb-run when available. Building
  it takes ~4 minutes, so `make check-package` builds then runs these tests; here they
  run when dist/ModelDesk exists and say why they skip otherwise.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from support.installed import (
    build_demo,
    can_use_xvfb,
    check_version,
    clean_env,
    first_window,
    has_command,
    run,
    serve_and_predict,
)

ROOT = Path(__file__).resolve().parents[1]
PACKAGED = ROOT / "dist" / "ModelDesk" / "ModelDesk"
ICONS = sorted(p.name for p in (ROOT / "resources" / "icons").iterdir())

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory):
    """(venv python, the wheel, the sdist): built from this checkout, installed into a new venv."""
    if importlib.util.find_spec("build") is None:
        pytest.skip("the `build` package is not installed (it is in the test extras: pip install -e '.[test]')")
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    wheel, = out.glob("modeldesk-*.whl")
    sdist, = out.glob("modeldesk-*.tar.gz")
    venv = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], clean_env(venv), venv)
    python = venv / "bin" / "python"
    site = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                    clean_env(venv), venv).stdout.strip())
    # This venv's dependencies, appended after the new venv's own site-packages (a .pth line is a
    # plain path: the .pth files there, such as an editable install's finder, are not run).
    (site / "zz-test-venv-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index",
         str(wheel)], clean_env(venv), venv)
    return python, wheel, sdist


def test_the_wheel_and_sdist_carry_the_resources(wheel_venv):
    _, wheel, sdist = wheel_venv
    names = zipfile.ZipFile(wheel).namelist()
    assert {f"modeldesk/resources/icons/{name}" for name in ICONS} <= set(names)
    assert "modeldesk/resources/__init__.py" in names
    assert not [n for n in names if n.startswith(("tests/", "tools/", "packaging/"))]
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "modeldesk = modeldesk.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)   # the MIT text travels with it
    import tarfile

    with tarfile.open(sdist) as tar:
        members = {m.name.split("/", 1)[1] for m in tar.getmembers() if "/" in m.name}
    assert {f"resources/icons/{name}" for name in ICONS} <= members
    assert "LICENSE" in members


def test_the_installed_package_is_the_wheel_not_the_source_tree(wheel_venv, tmp_path):
    python, _, _ = wheel_venv
    code = ("import importlib.resources as r, modeldesk, modeldesk.resources as res; "
            "print(modeldesk.__file__); print(r.files('modeldesk.resources').joinpath('icons/modeldesk-16.png')"
            ".read_bytes()[:4]); print(sorted(p.name for p in r.files(res).joinpath('icons').iterdir()))")
    lines = run([str(python), "-c", code], clean_env(tmp_path), tmp_path).stdout.splitlines()
    venv = python.parent.parent
    assert Path(lines[0]).is_relative_to(venv) and not Path(lines[0]).is_relative_to(ROOT), lines[0]
    assert lines[1] == repr(b"\x89PNG")
    assert eval(lines[2]) == ICONS


def test_the_installed_command_works(wheel_venv, tmp_path):
    python, _, _ = wheel_venv
    modeldesk = [str(python.parent / "modeldesk")]
    env = clean_env(tmp_path)
    check_version(modeldesk, env, tmp_path)
    project = build_demo(modeldesk, env, tmp_path)
    assert first_window(modeldesk, project, env, tmp_path, xvfb=False) < 60
    answer = serve_and_predict(modeldesk, project, env, tmp_path)
    assert len(answer["predictions"]) == 1


def _report(modeldesk: list[str], tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    assert has_command(modeldesk, "report", env, tmp_path), "the installed build has no `modeldesk report`"
    project = build_demo(modeldesk, env, tmp_path)
    for name in ("report.html", "report.pdf"):   # the Jinja2 template in resources/, and Qt's PDF writer
        run([*modeldesk, "--project", str(project), "report", "models:/cancer-classifier/1", "-o", name],
            env, tmp_path)
    assert "cancer-classifier" in (tmp_path / "report.html").read_text()
    assert (tmp_path / "report.pdf").read_bytes()[:5] == b"%PDF-"


def test_the_installed_command_writes_a_report(wheel_venv, tmp_path):
    _report([str(wheel_venv[0].parent / "modeldesk")], tmp_path)


needs_package = pytest.mark.skipif(not PACKAGED.exists(),
                                   reason="no dist/ModelDesk: `make check-package` builds it and runs these")


@needs_package
def test_the_packaged_app_runs_headless(tmp_path):
    modeldesk = [str(PACKAGED)]
    env = clean_env(tmp_path)
    assert "modeldesk" in check_version(modeldesk, env, tmp_path).lower()
    project = build_demo(modeldesk, env, tmp_path)
    # The real X11 plugin and the xcb libraries the package carries, when Xvfb is here.
    assert first_window(modeldesk, project, env, tmp_path, xvfb=can_use_xvfb()) < 60
    assert len(serve_and_predict(modeldesk, project, env, tmp_path)["predictions"]) == 1


@needs_package
def test_the_packaged_app_carries_its_icons_and_the_xcb_plugin():
    internal = PACKAGED.parent / "_internal"
    assert sorted(p.name for p in (internal / "modeldesk" / "resources" / "icons").iterdir()) == ICONS
    assert (internal / "PySide6" / "Qt" / "plugins" / "platforms" / "libqxcb.so").exists()
    assert not list(internal.glob("**/pytest*")), "the test extras must not be packaged"
    assert not list(internal.glob("PySide6/Qt/lib/libQt6Quick*")), "unused Qt modules must be left out"


@needs_package
def test_the_packaged_app_writes_a_report(tmp_path):
    _report([str(PACKAGED)], tmp_path)
