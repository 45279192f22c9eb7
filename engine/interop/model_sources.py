"""Where an imported model comes from: a torchvision or timm model by name, or a class in a Python file.

Loading a Python file runs its code: the person asked for exactly that model, and the command
line, the README and the window's Import dialog say so.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import torch


def load_source_module(spec: str, input_shape: list[int] | None):
    """``torchvision:NAME``, ``timm:NAME`` or ``path/to/file.py:Class`` -> (module, example input)."""
    if spec.lower().endswith(".onnx"):
        # A converter to torch (onnx2torch) would feed the same importer; it is not packaged for
        # this torch, so an ONNX file is refused by name rather than misread as a Python file.
        raise ValueError(f"{spec}: NetLoom cannot import ONNX files (no ONNX-to-torch converter is installed); "
                         "import the model from its PyTorch code instead: torchvision:NAME or path/to/file.py:Class")
    where, _, name = spec.rpartition(":")
    if not where or not name:
        raise ValueError(f"{spec!r}: give torchvision:NAME, timm:NAME or path/to/file.py:Class")
    if where == "torchvision":
        import torchvision.models as models
        try:
            module = models.get_model(name, weights=None)
        except (ValueError, KeyError):
            raise ValueError(f"torchvision has no model {name!r}") from None
        shape = input_shape or [3, 224, 224]
    elif where == "timm":
        try:
            import timm
        except ImportError:
            raise ValueError("timm models need the timm package: pip install -e '.[timm]'") from None
        try:
            module = timm.create_model(name, pretrained=False)
        except RuntimeError:
            raise ValueError(f"timm has no model {name!r}") from None
        config: dict = getattr(module, "pretrained_cfg", {})
        shape = input_shape or list(config.get("input_size", (3, 224, 224)))
    else:
        path = Path(where)
        if not path.is_file():
            raise ValueError(f"{path}: no such file")
        # A private module name, and the file's folder searched after the installed packages:
        # a file beside the model named like a dependency (safetensors.py, torch.py) can be
        # imported by the model's own code but never shadows the real package.
        module_name = f"netloom_user_model_{abs(hash(path.resolve()))}"
        loaded = importlib.util.spec_from_file_location(module_name, path)
        if loaded is None or loaded.loader is None:
            raise ValueError(f"{path}: not a Python file that can be loaded")
        folder = str(path.resolve().parent)
        if folder not in sys.path:
            sys.path.append(folder)
        source = importlib.util.module_from_spec(loaded)
        sys.modules[module_name] = source
        loaded.loader.exec_module(source)       # the person asked to run this file's code
        cls = getattr(source, name, None)
        if cls is None:
            raise ValueError(f"{path} defines no {name}")
        module = cls()
        found = input_shape or getattr(module, "example_input_shape", None)
        if found is None:
            raise ValueError("give the shape of one input with --input-shape (e.g. 3,32,32)")
        shape = [int(s) for s in found]
    return module, torch.randn(1, *shape)
