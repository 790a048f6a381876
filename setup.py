"""Only what pyproject.toml cannot say: the top-level resources/ folder is the
``modeldesk.resources`` package (packages.find cannot map a folder outside app/);
its sub-folders (icons, templates) are listed as its data packages so setuptools
ships them without warning. Everything else about the build lives in pyproject.toml."""
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
DATA = sorted("modeldesk.resources." + ".".join(p.relative_to(HERE / "resources").parts)
              for p in (HERE / "resources").rglob("*") if p.is_dir() and p.name != "__pycache__")

setup(
    packages=find_packages("app") + ["modeldesk.resources"] + DATA,
    package_dir={"": "app", "modeldesk.resources": "resources"},
)
