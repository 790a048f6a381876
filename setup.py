"""Only what pyproject.toml cannot say: the top-level resources/ folder is the
``modeldesk.resources`` package (packages.find cannot map a folder outside app/).
Everything else about the build lives in pyproject.toml."""
from setuptools import find_packages, setup

setup(
    packages=find_packages("app") + ["modeldesk.resources"],
    package_dir={"": "app", "modeldesk.resources": "resources"},
)
