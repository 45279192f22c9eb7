"""The installed version, read from the package metadata (pyproject.toml is the one place it is
written); the lowest layer holds it so that the command line and the window say the same."""

from __future__ import annotations


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed_version
    try:
        return installed_version("netloom")
    except PackageNotFoundError:
        return "unknown (not installed: pip install -e .)"
