"""ModelDesk's shipped files: icons, report templates, the Qt stylesheet.

The top-level ``resources/`` folder of the source tree is installed as the
``modeldesk.resources`` package (see setup.py), so code finds these files with
``importlib.resources.files("modeldesk.resources")`` in a checkout, an
editable install, a wheel and a PyInstaller build alike, never by a path
relative to the source tree.
"""
