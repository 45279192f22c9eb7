"""Importing the model zoo a practitioner brings: which models import, whether each is the same
model in evaluation AND in training, and how fast.

    python -m bench.import_zoo [--sets torchvision,video,timm,onnx,transformers] [--only NAME,NAME] [--all]
                               [--without-guard]

Sets: ``torchvision`` (every classification model but the six largest unless --all, 64x64 where
the model takes it), ``video`` (torchvision segmentation and video models), ``timm`` (at least
60 models across families, random weights, ``pretrained=False``; needs the ``zoo`` extra),
``onnx`` (torchvision models written by ``torch.onnx.export`` and imported from the file; needs
the ``onnx`` extra), ``transformers`` (tiny Hugging Face configurations through both tracers,
``bench.import_zoo_transformers``; needs the ``zoo`` extra). Each set is a function in ``SETS``;
another set is one more entry there.

For each model: whether it imported (else the first reason given), then, measured here and not
taken from the importer, whether the graph saved and loaded gives the model's outputs in
evaluation ("eval") and trains the same ("train": one training step's outputs, buffers and
gradients, ``engine.interop.fidelity``), the import time and its ratio to torch.fx's own
``symbolic_trace`` of the same model in the same process (the fastest of three traces), and
the graph's top-level nodes and block definitions. Weights are random and nudged apart so that
tensors pair up by value.
A summary line per set counts each column and gives the median ratio. ``--without-guard`` also
times the import without its exactness guard (``check_outputs=False``) against the same trace:
the guard's share of the time is the difference.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import math
import shutil
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import fx, nn

TOLERANCE = 1e-4
TRACES = 3
LARGEST_LEFT_OUT = 6
Case = tuple[str, Callable[[], tuple[nn.Module, tuple]]]      # name, () -> (model, example inputs)


def _image(side: int, channels: int = 3) -> tuple:
    return (torch.randn(1, channels, side, side),)


# ---------------------------------------------------------------------- sets
def torchvision_set(include_all: bool) -> Iterator[Case]:
    from torchvision import models
    names = models.list_models(module=models)
    if not include_all:
        size = {n: models.get_model_weights(n).DEFAULT.meta["num_params"] for n in names}
        largest = set(sorted(names, key=size.__getitem__)[-LARGEST_LEFT_OUT:])
        names = [n for n in names if n not in largest]
    fixed = {"inception_v3": 96, "googlenet": 64}       # the smallest each takes; ViTs and MaxViT need 224
    for name in names:
        side = fixed.get(name, 224 if name.startswith(("vit_", "maxvit")) else 64)
        yield name, lambda name=name, side=side: (models.get_model(name, weights=None), _image(side))


def video_set(include_all: bool) -> Iterator[Case]:
    from torchvision import models
    from torchvision.models import segmentation, video
    for name in ("fcn_resnet50", "deeplabv3_mobilenet_v3_large", "lraspp_mobilenet_v3_large", "deeplabv3_resnet50"):
        yield name, lambda name=name: (segmentation.__dict__[name](weights=None, weights_backbone=None, num_classes=5),
                                       _image(64))
    # S3D's last pool is 2x7x7, so it takes clips of 224x224 only: too slow here, left out
    for name in ("r3d_18", "mc3_18", "r2plus1d_18"):
        yield name, lambda name=name: (video.__dict__[name](weights=None), (torch.randn(1, 3, 4, 32, 32),))
    del models


# Families of timm: ResNets and their kin, EfficientNets and MobileNets, other CNNs, then
# vision transformers and hybrids (these at their own input size).
TIMM_CNNS = [
    "resnet18", "resnet18d", "resnet26t", "resnext26ts", "seresnet18", "ecaresnet26t", "skresnet18", "resnest14d",
    "res2net50_14w_8s", "regnetx_002", "regnety_002", "regnetz_b16", "gernet_s", "resnetv2_50", "nf_resnet26",
    "efficientnet_b0", "efficientnet_lite0", "tf_efficientnet_b0", "efficientnetv2_rw_t", "mixnet_s", "mnasnet_100",
    "spnasnet_100", "mobilenetv2_050", "mobilenetv3_small_050", "mobilenetv3_large_075", "mobilenetv4_conv_small",
    "lcnet_050", "fbnetc_100", "tinynet_e", "ghostnet_050", "ghostnetv2_100", "repghostnet_050", "hardcorenas_a",
    "rexnet_100", "densenet121", "dpn68", "inception_v3", "xception41", "vgg11", "vgg11_bn", "repvgg_a0", "dla34",
    "hrnet_w18_small", "cspresnet50", "cspdarknet53", "darknet17", "selecsls42b", "ese_vovnet19b_dw", "hgnetv2_b0",
    "convnext_atto", "convnextv2_atto", "poolformer_s12", "poolformerv2_s12", "edgenext_xx_small", "fastvit_t8",
    "starnet_s1", "inception_next_atto", "mobilevit_xxs", "mobilevitv2_050", "efficientformer_l1", "levit_128s",
]
TIMM_TRANSFORMERS = [
    "vit_tiny_patch16_224", "deit_tiny_patch16_224", "deit_tiny_distilled_patch16_224", "eva02_tiny_patch14_224",
    "cait_xxs24_224", "xcit_nano_12_p16_224", "pit_ti_224", "maxvit_nano_rw_256", "coatnet_nano_rw_224",
    "crossvit_tiny_240", "pvt_v2_b0", "efficientvit_b0", "tiny_vit_5m_224", "swin_tiny_patch4_window7_224",
    "beit_base_patch16_224", "twins_svt_small",
]


def timm_set(include_all: bool) -> Iterator[Case]:
    import timm
    for name in TIMM_CNNS + TIMM_TRANSFORMERS:
        def make(name=name):
            model = timm.create_model(name, pretrained=False)
            side = 64 if name in TIMM_CNNS and name not in ("inception_v3", "levit_128s", "efficientformer_l1") \
                else model.pretrained_cfg["input_size"][-1]
            return model, _image(side)
        yield name, make


def onnx_set(include_all: bool) -> Iterator[Case]:
    """torchvision models written to ONNX files here, then imported from the file."""
    from torchvision import models
    folder = Path(tempfile.mkdtemp(prefix="netloom-onnx-zoo-"))
    atexit.register(shutil.rmtree, folder, True)        # the files written for the run go with it
    for name in ("resnet18", "mobilenet_v3_small", "squeezenet1_1", "shufflenet_v2_x0_5", "efficientnet_b0"):
        def make(name=name):
            from engine.interop import load_source_module
            path = folder / f"{name}.onnx"
            model = models.get_model(name, weights=None).eval()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(model, (torch.randn(1, 3, 64, 64),), str(path), dynamo=False)
            module, example = load_source_module(str(path), [3, 64, 64])
            return module, (example,)
        yield f"{name}.onnx", make


# The transformers set (tiny configurations, imported through torch.export) goes here as one
# more entry: "transformers": transformers_set.
SETS: dict[str, Callable[[bool], Iterator[Case]]] = {
    "torchvision": torchvision_set, "video": video_set, "timm": timm_set, "onnx": onnx_set,
}


# ---------------------------------------------------------------------- one model
@dataclass
class Row:
    name: str
    result: str = ""
    imported: bool = False
    exact_eval: bool = False
    exact_train: bool = False
    import_s: float = 0.0
    trace_s: float | None = None
    unguarded_s: float | None = None     # the import without the exactness guard, when measured
    nodes: int = 0
    blocks: int = 0

    @property
    def ratio(self) -> float | None:
        return self.import_s / self.trace_s if self.imported and self.trace_s else None

    @property
    def unguarded_ratio(self) -> float | None:
        return self.unguarded_s / self.trace_s if self.imported and self.trace_s and self.unguarded_s else None


def nudge_apart(model: nn.Module) -> None:
    """Random weights made distinct (LayerNorm's start as all ones), so that the graph's tensors
    pair with the model's by value; running variances stay positive."""
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for _, tensor in list(model.named_parameters()) + list(model.named_buffers()):
            if tensor.is_floating_point() and tensor.numel():
                noise = torch.rand(tensor.shape, generator=generator, dtype=tensor.dtype)
                tensor.mul_(1 + 1e-3 * noise).add_(1e-3 * noise)


def try_model(name: str, make: Callable[[], tuple[nn.Module, tuple]], without_guard: bool = False) -> Row:
    from safetensors.torch import load_file, save_file

    from engine import compile_graph, import_module
    from engine.interop.fidelity import eval_differences, training_differences
    from graphs import load_graph, save_graph

    row = Row(name)
    torch.manual_seed(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model, inputs = make()
    except Exception as err:        # the model itself cannot be made here
        row.result = f"not made: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"[:160]
        return row
    model.eval()
    nudge_apart(model)
    try:        # the fastest of three: one trace is a few milliseconds, which a busy machine easily doubles
        for _ in range(TRACES):
            start = time.perf_counter()
            fx.symbolic_trace(model)
            row.trace_s = min(row.trace_s or math.inf, time.perf_counter() - start)
    except Exception:   # fx itself fails: no ratio
        pass
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            graph, state = import_module(model, inputs, tolerance=TOLERANCE)
    except Exception as problem:
        lines = getattr(problem, "problems", None) or [str(problem)]
        row.result = lines[0][:200]
        return row
    row.import_s = time.perf_counter() - start
    row.imported = True
    if without_guard:
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import_module(model, inputs, check_outputs=False)
        row.unguarded_s = time.perf_counter() - start
    row.nodes, row.blocks = len(graph.nodes), len(graph.blocks)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.loom"
        save_graph(graph, path)
        save_file({k: v.contiguous() for k, v in state.items()}, str(path.with_suffix(".safetensors")))
        loaded = compile_graph(load_graph(path)).eval()
        loaded.load_state_dict(load_file(str(path.with_suffix(".safetensors"))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eval_problems = eval_differences(model, loaded, inputs, TOLERANCE)
        train_problems = training_differences(model, loaded, inputs, tolerance=TOLERANCE)
    row.exact_eval, row.exact_train = not eval_problems, not train_problems
    row.result = "exact in both modes" if not eval_problems + train_problems else (eval_problems + train_problems)[0]
    return row


def summary(set_name: str, rows: list[Row]) -> str:
    ratios = [r.ratio for r in rows if r.ratio is not None]
    median = f"median {statistics.median(ratios):.1f}x fx trace (max {max(ratios):.1f}x)" if ratios else "no ratios"
    unguarded = [r.unguarded_ratio for r in rows if r.unguarded_ratio is not None]
    if unguarded:
        median += f"; without the guard median {statistics.median(unguarded):.1f}x (max {max(unguarded):.1f}x)"
    return (f"{set_name}: {len(rows)} tried, {sum(r.imported for r in rows)} imported, "
            f"{sum(r.exact_eval for r in rows)} exact in eval, {sum(r.exact_train for r in rows)} exact in train, "
            f"{sum(r.exact_eval and not r.exact_train for r in rows)} silently different in training; {median}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="torchvision,video,timm,onnx",
                        help="comma-separated: " + ",".join([*SETS, "transformers"]))
    parser.add_argument("--all", action="store_true", help="include the six largest torchvision models")
    parser.add_argument("--only", help="comma-separated model names")
    parser.add_argument("--without-guard", action="store_true",
                        help="also time each import without its exactness guard (the guard's share)")
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None
    summaries = []
    for set_name in args.sets.split(","):
        if set_name == "transformers":      # its own table: both tracers, token inputs
            from bench import import_zoo_transformers
            import_zoo_transformers.main(["--tracer", "both"] + (["--only", args.only] if args.only else []))
            continue
        try:
            cases = [c for c in SETS[set_name](args.all) if only is None or c[0] in only]
        except ImportError as missing:
            summaries.append(f"{set_name}: skipped ({missing}; install the extra it needs)")
            print(summaries[-1], flush=True)
            continue
        print(f"\n[{set_name}]\n{'model':34} {'eval':>5} {'train':>5} {'import':>8} {'x trace':>8} {'no guard':>8} "
              f"{'nodes':>6} {'blocks':>6}  result", flush=True)
        rows = []
        for name, make in cases:
            row = try_model(name, make, args.without_guard)
            rows.append(row)
            ratio = f"{row.ratio:7.1f}x" if row.ratio is not None else "       -"
            unguarded = f"{row.unguarded_ratio:7.1f}x" if row.unguarded_ratio is not None else "       -"
            yes = {True: "yes", False: "no"}
            print(f"{name:34} {yes[row.exact_eval] if row.imported else '-':>5} "
                  f"{yes[row.exact_train] if row.imported else '-':>5} {row.import_s:7.2f}s {ratio} {unguarded} {row.nodes:6} "
                  f"{row.blocks:6}  {row.result}", flush=True)
            gc.collect()
        summaries.append(summary(set_name, rows))
    print("\n" + "\n".join(summaries))


if __name__ == "__main__":
    main()
