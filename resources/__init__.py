"""The bundled files: example graphs (``examples/*.loom``), the built-in blocks (``blocks/``), short texts (``data/``), and the
installed version.

Code finds them through this package (``importlib.resources``), never through paths relative
to the source tree, so they are found the same way in a checkout, an editable install and an
installed wheel. Nothing here is written to: runs and checkpoints of bundled examples go to the
person's own folders.
"""

from __future__ import annotations

from importlib import resources as _resources
from pathlib import Path

DEFAULT_EXAMPLE = "lenet_digits.loom"


def folder() -> Path:
    """The installed resources folder (a real folder: NetLoom is never run from a zip)."""
    return Path(str(_resources.files(__name__)))


def examples_folder() -> Path:
    return folder() / "examples"


def example(name: str = DEFAULT_EXAMPLE) -> Path:
    return examples_folder() / name


def builtin_blocks_file() -> Path:
    """The blocks the palette offers (ResNet, VGG, Inception, Transformer), made of primitive layers."""
    return folder() / "blocks" / "builtin.loom"


def data_file(name: str) -> Path:
    return folder() / "data" / name


def version() -> str:
    """The installed version, read from the package metadata (pyproject.toml is the one place
    it is written), for the command line and the window alike."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed_version
    try:
        return installed_version("netloom")
    except PackageNotFoundError:
        return "unknown (not installed: pip install -e .)"
