"""Builds the bundled example library in resources/examples/ (run after changing an example).

    python scripts/make_examples.py

    python scripts/make_examples.py builtin_blocks resnet18     (only those named)

Examples are built here layer by layer, the large architectures from the built-in blocks
(resources/blocks/builtin.loom, written first by ``builtin_blocks``) as the palette offers
them; their parameter counts are checked against torchvision's in the tests.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


import resources  # noqa: E402
from engine.data import input_normalizer, load_dataset, statistics_edit  # noqa: E402
from engine.training import TrainingConfig, input_statistics, run_name  # noqa: E402
from graphs import Graph, load_graph, save_graph  # noqa: E402
from graphs.block_library import bring_edits  # noqa: E402
from graphs.editing import freeze_up_to_edit, start_fresh_edit  # noqa: E402
from graphs.layout import layout_edit  # noqa: E402

OUT = ROOT / "resources" / "examples"


def chain(g: Graph, prev: str, *layers) -> str:
    """Wire layers one after another from ``prev``; each is a type or (type, params[, id])."""
    for layer in layers:
        type_name, params, node_id = (layer, {}, None) if isinstance(layer, str) else (
            layer + (None,) if len(layer) == 2 else layer)
        node = g.add_node(type_name, id=node_id, **params)
        g.connect(prev, node)
        prev = node
    return prev


def normalized_input(g: Graph, shape: list[int], node_id: str | None = None) -> str:
    """An Input and the Normalize step that scales it (its statistics are filled in by ``finish``
    from the data set the example trains on): the exported model takes raw values."""
    return chain(g, g.add_node("Input", id=node_id, shape=shape), ("Normalize", {}, "norm"))


def finish(g: Graph, name: str, training: TrainingConfig) -> None:
    g.apply(layout_edit(g))
    g.set_training(training.to_dict())
    fill_statistics(g, training)
    save_graph(g, OUT / f"{name}.loom")
    print(f"wrote {name}.loom ({len(g.nodes)} nodes)")


def fill_statistics(g: Graph, training: TrainingConfig) -> None:
    """The statistics training would give the graph's Normalize step, there from the start."""
    if input_normalizer(g) is not None:
        options = {k: v for k, v in training.dataset_options.items() if k != "download"}
        edit = statistics_edit(g, input_statistics(load_dataset(training.dataset, **options), training))
        if edit is not None:
            g.apply(edit)


# The ImageNet architectures train on the bundled digits as 32x32 colour pictures (each digit in a
# colour of its own on a background of another): real handwriting, at a size a CPU trains in seconds
# per epoch. 10 classes, so their heads have 10 outputs where ImageNet's have 1,000.
COLOR_DIGITS = {"image_size": 32, "color": True}


def perceptron() -> None:
    g = Graph("Perceptron (logistic regression)",
              "One Linear unit and a sigmoid inside the loss: the oldest neural network. It draws one straight "
              "line, which is enough for two Gaussian clouds and not enough for the spiral (try it).")
    out = chain(g, g.add_node("Input", shape=[2]), ("Linear", {"out_features": 1}))
    g.connect(out, g.add_node("Output"))
    finish(g, "perceptron", TrainingConfig(dataset="gaussian", loss="bce_with_logits", lr=0.05, epochs=30,
                                           batch_size=32, probe_every=100))


def mlp_spiral() -> None:
    g = Graph("MLP for the spiral",
              "A multi-layer perceptron with two hidden layers of 64 units learns to separate three "
              "interleaved spiral arms, which no straight line can. Watch the decision boundary bend as it trains.")
    out = chain(g, g.add_node("Input", shape=[2]), ("Linear", {"out_features": 64}), "ReLU",
                ("Linear", {"out_features": 64}), "ReLU", ("Linear", {"out_features": 3}))
    g.connect(out, g.add_node("Output"))
    finish(g, "mlp_spiral", TrainingConfig(dataset="spiral", lr=0.01, batch_size=32, epochs=60, probe_every=100))


def _lenet_layers(g: Graph, classes: int) -> None:
    out = chain(g, normalized_input(g, [1, 8, 8]),
                ("Conv2d", {"out_channels": 6, "kernel_size": 3, "padding": 1}), "ReLU", ("MaxPool2d", {"kernel_size": 2}),
                ("Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}), "ReLU", ("MaxPool2d", {"kernel_size": 2}),
                "Flatten", ("Linear", {"out_features": 120}), "ReLU", ("Linear", {"out_features": 84}), "ReLU",
                ("Linear", {"out_features": classes}))
    g.connect(out, g.add_node("Output"))


def lenet_digits() -> None:
    g = Graph("LeNet for digits",
              "A small LeNet-style convolutional network for scikit-learn's 8x8 handwritten digits: two "
              "convolution + pooling stages extract strokes, three fully connected layers classify them into "
              "the 10 digits. Its first step, norm, scales the pixels with the digits' mean and standard deviation, "
              "so the model (and any export of it) takes pixels from 0 to 1. Press Train: it learns in a few seconds "
              "on a CPU. Right-click conv1 or pool1 > Convolution (Pooling) Step by Step to see its window slide over "
              "a digit, each output cell's multiply-add written out.")
    _lenet_layers(g, 10)
    config = TrainingConfig.from_dict({"dataset": "digits", "loss": "cross_entropy", "optimizer": "adam",
                                       "lr": 0.002, "batch_size": 64, "epochs": 30, "seed": 0})
    finish(g, "lenet_digits", config)


def lenet_digits_0_4() -> None:
    g = Graph("LeNet for the digits 0-4",
              "The digits LeNet with a head for five classes, trained on the digits 0 to 4 only: the network whose "
              "weights the fine-tuning example starts from, as a model pretrained on another task would be. "
              "Train it (its checkpoint's last.safetensors are the weights to start from).")
    _lenet_layers(g, 5)
    finish(g, "lenet_digits_0_4", TrainingConfig.from_dict({
        "dataset": "digits", "dataset_options": {"class_subset": [0, 1, 2, 3, 4]}, "lr": 0.002, "epochs": 15}))


def lenet_digits_5_9() -> None:
    g = Graph("Fine-tune LeNet on the digits 5-9",
              "Transfer learning: the digits LeNet with its convolutions frozen (they keep the strokes they learned "
              "on the digits 0-4) and a new head for five classes (fresh weights), trained on only 50 samples of each "
              "of the digits 5 to 9. Start it from the weights of the 0-4 example (python main.py train FILE "
              "--weights checkpoints/lenet_digits_0_4/last.safetensors); without them its frozen convolutions are "
              "random, and it learns far less.")
    _lenet_layers(g, 5)
    g.apply(freeze_up_to_edit(g, "pool2"))
    g.apply(start_fresh_edit(g, "fc3"))
    finish(g, "lenet_digits_5_9", TrainingConfig.from_dict({
        "dataset": "digits", "dataset_options": {"class_subset": [5, 6, 7, 8, 9], "per_class": 50},
        "optimizer": "sgd", "lr": 0.01, "momentum": 0.9, "batch_size": 32, "epochs": 10}))


def lenet5() -> None:
    g = Graph("LeNet-5",
              "LeCun et al. (1998) as published: 32x32 inputs, two 5x5 convolutions with tanh and average "
              "pooling, then 120, 84 and 10 units. Trains on the bundled digits enlarged to 32x32.")
    out = chain(g, normalized_input(g, [1, 32, 32]),
                ("Conv2d", {"out_channels": 6, "kernel_size": 5}, "c1"), "Tanh", ("AvgPool2d", {"kernel_size": 2}, "s2"),
                ("Conv2d", {"out_channels": 16, "kernel_size": 5}, "c3"), "Tanh", ("AvgPool2d", {"kernel_size": 2}, "s4"),
                "Flatten", ("Linear", {"out_features": 120}, "c5"), "Tanh", ("Linear", {"out_features": 84}, "f6"),
                "Tanh", ("Linear", {"out_features": 10}, "output_layer"))
    g.connect(out, g.add_node("Output"))
    finish(g, "lenet5", TrainingConfig(dataset_options={"image_size": 32}, lr=0.002, epochs=20))


def cifar_convnet() -> None:
    g = Graph("CIFAR-10 convnet",
              "The small convnet of PyTorch's CIFAR-10 tutorial: two 5x5 convolutions with max pooling and three "
              "linear layers, for 32x32 colour pictures. It trains here on the bundled digits drawn as 32x32 colour "
              "pictures; for CIFAR-10 itself choose the cifar10 data set in Training Settings with a folder to keep "
              "it in (NetLoom downloads it there, 170 MB, once you agree).")
    out = chain(g, normalized_input(g, [3, 32, 32]),
                ("Conv2d", {"out_channels": 6, "kernel_size": 5}), "ReLU", ("MaxPool2d", {"kernel_size": 2}),
                ("Conv2d", {"out_channels": 16, "kernel_size": 5}), "ReLU", ("MaxPool2d", {"kernel_size": 2}),
                "Flatten", ("Linear", {"out_features": 120}), "ReLU", ("Linear", {"out_features": 84}), "ReLU",
                ("Linear", {"out_features": 10}))
    g.connect(out, g.add_node("Output"))
    finish(g, "cifar10_convnet", TrainingConfig(dataset_options=COLOR_DIGITS, optimizer="sgd", lr=0.01, momentum=0.9,
                                                epochs=10))


# ---------------------------------------------------------------------- built-in blocks
def conv_relu(lib: Graph) -> None:
    b = lib.define_block("ConvReLU", {"channels": 64, "kernel_size": 3, "stride": 1, "padding": 1},
                         "A convolution and its ReLU: the unit VGG and AlexNet are made of")
    chain(b, b.add_node("Input", id="x", shape=[3, 32, 32]),
          ("Conv2d", {"out_channels": b.param("channels"), "kernel_size": b.param("kernel_size"),
                      "stride": b.param("stride"), "padding": b.param("padding")}, "conv"),
          ("ReLU", {}, "relu"), ("Output", {}, "out"))


def vgg_stage(lib: Graph) -> None:
    b = lib.define_block("VGGStage", {"channels": 64, "convs": 2},
                         "A VGG stage: 'convs' 3x3 convolutions with ReLU at 'channels', then a 2x2 max pool that "
                         "halves the image")
    chain(b, b.add_node("Input", id="x", shape=[3, 32, 32]),
          ("ConvReLU", {"channels": b.param("channels"), "repeat": b.param("convs")}, "convs"),
          ("MaxPool2d", {"kernel_size": 2, "stride": 2}, "pool"), ("Output", {}, "out"))


def downsample(lib: Graph) -> None:
    d = lib.define_block("Downsample", {"channels": 128, "stride": 2},
                         "A strided 1x1 convolution and batch norm: the skip path of a block that changes size")
    chain(d, d.add_node("Input", id="x", shape=[64, 56, 56]),
          ("Conv2d", {"out_channels": d.param("channels"), "kernel_size": 1, "stride": d.param("stride"),
                      "bias": False}, "0"), ("BatchNorm2d", {}, "1"), ("Output", {}, "out"))


def basic_block(lib: Graph, name: str, down: bool) -> None:
    """torchvision's BasicBlock: two 3x3 convolutions and the input added back; with ``down``,
    the first convolution strides and a 1x1 convolution brings the input along."""
    params = {"channels": 128, "stride": 2} if down else {"channels": 64}
    description = ("ResNet basic block that changes size: two 3x3 convolutions, the first strided, and a "
                   "'downsample' path that matches the input to the new size before it is added back" if down else
                   "ResNet basic block: two 3x3 convolutions with batch norm; the input is added back before "
                   "the last ReLU")
    b = lib.define_block(name, params, description)
    conv = {"out_channels": b.param("channels"), "kernel_size": 3, "padding": 1, "bias": False}
    x = b.add_node("Input", id="x", shape=[64, 56, 56])
    first = dict(conv, stride=b.param("stride")) if down else conv
    bn2 = chain(b, x, ("Conv2d", first, "conv1"), ("BatchNorm2d", {}, "bn1"), ("ReLU", {}, "relu"),
                ("Conv2d", conv, "conv2"), ("BatchNorm2d", {}, "bn2"))
    residual_tail(b, x, bn2, down)


def residual_tail(b: Graph, x: str, main: str, down: bool) -> None:
    """The end of a ResNet block: the main path plus the input (through 'downsample' when the
    block changes size), then ReLU and the block's output, named as torchvision names them."""
    add = b.add_node("Add", id="add")
    b.connect(main, add)
    skip = chain(b, x, ("Downsample", {"channels": b.param("channels"), "stride": b.param("stride")},
                        "downsample")) if down else x
    b.connect(skip, add)
    b.connect(chain(b, add, ("ReLU", {}, "relu2")), b.add_node("Output", id="out"))


def bottleneck(lib: Graph, name: str, down: bool) -> None:
    """torchvision's Bottleneck: 1x1 narrows to 'width', 3x3 works there, 1x1 widens to 'channels'."""
    params = {"width": 64, "channels": 256, "stride": 1} if down else {"width": 64, "channels": 256}
    b = lib.define_block(name, params, (
        "ResNet bottleneck that changes size: 1x1, 3x3 (strided) and 1x1 convolutions, and a 'downsample' path "
        "for the input" if down else
        "ResNet bottleneck: a 1x1 convolution narrows to 'width', a 3x3 works there, a 1x1 widens back to "
        "'channels' (the input's), and the input is added back"))
    x = b.add_node("Input", id="x", shape=[256, 56, 56])
    middle = {"out_channels": b.param("width"), "kernel_size": 3, "padding": 1, "bias": False}
    if down:
        middle["stride"] = b.param("stride")
    bn3 = chain(b, x, ("Conv2d", {"out_channels": b.param("width"), "kernel_size": 1, "bias": False}, "conv1"),
                ("BatchNorm2d", {}, "bn1"), ("ReLU", {}, "relu"), ("Conv2d", middle, "conv2"),
                ("BatchNorm2d", {}, "bn2"), ("ReLU", {}, "relu1"),
                ("Conv2d", {"out_channels": b.param("channels"), "kernel_size": 1, "bias": False}, "conv3"),
                ("BatchNorm2d", {}, "bn3"))
    residual_tail(b, x, bn3, down)


def inception_block(lib: Graph) -> None:
    b = lib.define_block("Inception", {"c1": 64, "c3_reduce": 96, "c3": 128, "c5_reduce": 16, "c5": 32,
                                       "pool_proj": 32},
                         "GoogLeNet's Inception module: 1x1, 3x3 and 5x5 convolutions and a pooled branch side by "
                         "side, 1x1 reductions before the large ones, channels joined by Concat")
    x = b.add_node("Input", id="x", shape=[192, 28, 28])
    cat = b.add_node("Concat", id="concat", dim=1)
    branches = [
        [("Conv2d", {"out_channels": b.param("c1"), "kernel_size": 1}, "b1_1x1"), ("ReLU", {}, "b1_relu")],
        [("Conv2d", {"out_channels": b.param("c3_reduce"), "kernel_size": 1}, "b2_reduce"), ("ReLU", {}, "b2_relu1"),
         ("Conv2d", {"out_channels": b.param("c3"), "kernel_size": 3, "padding": 1}, "b2_3x3"), ("ReLU", {}, "b2_relu2")],
        [("Conv2d", {"out_channels": b.param("c5_reduce"), "kernel_size": 1}, "b3_reduce"), ("ReLU", {}, "b3_relu1"),
         ("Conv2d", {"out_channels": b.param("c5"), "kernel_size": 5, "padding": 2}, "b3_5x5"), ("ReLU", {}, "b3_relu2")],
        [("MaxPool2d", {"kernel_size": 3, "stride": 1, "padding": 1}, "b4_pool"),
         ("Conv2d", {"out_channels": b.param("pool_proj"), "kernel_size": 1}, "b4_proj"), ("ReLU", {}, "b4_relu")],
    ]
    for branch in branches:
        b.connect(chain(b, x, *branch), cat)
    b.connect(cat, b.add_node("Output", id="out"))


def transformer_block(lib: Graph) -> None:
    b = lib.define_block("TransformerEncoder", {"width": 32, "heads": 4, "feedforward": 64, "dropout": 0.1},
                         "A Transformer encoder layer from primitive layers (post-norm, as Vaswani et al.): "
                         "self-attention and a feed-forward network, each added back and layer-normed")
    x = b.add_node("Input", id="x", shape=[8, 32])
    attn = chain(b, x, ("MultiheadAttention", {"num_heads": b.param("heads"), "dropout": b.param("dropout")}, "attn"),
                 ("Dropout", {"p": b.param("dropout")}, "drop1"))
    add1 = b.add_node("Add", id="add1")
    b.connect(attn, add1)
    b.connect(x, add1)
    norm1 = chain(b, add1, ("LayerNorm", {}, "norm1"))
    ff = chain(b, norm1, ("Linear", {"out_features": b.param("feedforward")}, "ff1"), ("ReLU", {}, "relu"),
               ("Dropout", {"p": b.param("dropout")}, "drop2"), ("Linear", {"out_features": b.param("width")}, "ff2"),
               ("Dropout", {"p": b.param("dropout")}, "drop3"))
    add2 = b.add_node("Add", id="add2")
    b.connect(ff, add2)
    b.connect(norm1, add2)
    b.connect(chain(b, add2, ("LayerNorm", {}, "norm2")), b.add_node("Output", id="out"))


def builtin_blocks() -> None:
    lib = Graph("Built-in blocks", "The blocks the palette offers, made of primitive layers")
    conv_relu(lib)
    vgg_stage(lib)
    downsample(lib)
    basic_block(lib, "BasicBlock", down=False)
    basic_block(lib, "DownBlock", down=True)
    bottleneck(lib, "Bottleneck", down=False)
    bottleneck(lib, "BottleneckDown", down=True)
    inception_block(lib)
    transformer_block(lib)
    for body in lib.blocks.values():
        body.apply(layout_edit(body))
    save_graph(lib, resources.builtin_blocks_file())
    print(f"wrote {resources.builtin_blocks_file().name} ({len(lib.blocks)} blocks)")


def use_builtin(g: Graph, *names: str) -> None:
    """Copy built-in blocks (and those they use) into an example, as the palette does."""
    library = load_graph(resources.builtin_blocks_file()).blocks
    for name in names:
        for edit in bring_edits(g, library, name):
            g.apply(edit)


def resnet18() -> None:
    g = Graph("ResNet-18",
              "He et al. (2015), built as torchvision builds it: a stem, four stages of BasicBlocks and a classifier. "
              "Open a block to see the skip connection; the first block of stages 2 to 4 halves the image and "
              "brings its input along through a 1x1 'downsample' convolution. It trains here on the bundled digits "
              "as 32x32 colour pictures, 10 classes, in seconds per epoch on a CPU; with a 3x224x224 Input and "
              "1,000 outputs in fc it is torchvision's ImageNet model, 11,689,512 parameters. Its state-dict keys "
              "are torchvision's (and norm's statistics), so torchvision's weights load into it.")
    use_builtin(g, "BasicBlock", "DownBlock")
    stage = g.define_block("Stage", {"channels": 128}, "A stage of two blocks: the first halves the image and "
                                                       "widens it to 'channels', the second keeps its size")
    chain(stage, stage.add_node("Input", id="x", shape=[64, 56, 56]),
          ("DownBlock", {"channels": stage.param("channels"), "stride": 2}, "0"),
          ("BasicBlock", {"channels": stage.param("channels")}, "1"), ("Output", {}, "out"))
    stage.apply(layout_edit(stage))
    out = chain(g, normalized_input(g, [3, 32, 32], "x"),
                ("Conv2d", {"out_channels": 64, "kernel_size": 7, "stride": 2, "padding": 3, "bias": False}, "conv1"),
                ("BatchNorm2d", {}, "bn1"), ("ReLU", {}, "relu"),
                ("MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1}, "maxpool"),
                ("BasicBlock", {"channels": 64, "repeat": 2}, "layer1"),
                ("Stage", {"channels": 128}, "layer2"), ("Stage", {"channels": 256}, "layer3"),
                ("Stage", {"channels": 512}, "layer4"),
                ("AdaptiveAvgPool2d", {"output_size": 1}, "avgpool"), ("Flatten", {}, "flatten"),
                ("Linear", {"out_features": 10}, "fc"))
    g.connect(out, g.add_node("Output", id="logits"))
    finish(g, "resnet18", TrainingConfig(dataset_options=COLOR_DIGITS, lr=0.001, epochs=5))


def vgg16() -> None:
    g = Graph("VGG-16", "Simonyan and Zisserman (2014): five stages of 3x3 convolutions (two, two, three, three and "
              "three of them), each ending in a max pool that halves the image, then three fully connected layers. "
              "With a 3x224x224 Input and 1,000 outputs in fc3 it is torchvision's, 138,357,544 parameters. It trains "
              "here on 32x32 colour pictures of 20 bundled digits of each class, 10 classes: about as much as a CPU "
              "gets through in seconds per epoch with a network this size (and VGG, without BatchNorm, learns "
              "slowly from scratch: watch the loss).")
    use_builtin(g, "VGGStage")
    prev = normalized_input(g, [3, 32, 32], "x")
    for i, (channels, convs) in enumerate(((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)), start=1):
        prev = chain(g, prev, ("VGGStage", {"channels": channels, "convs": convs}, f"stage{i}"))
    out = chain(g, prev, ("AdaptiveAvgPool2d", {"output_size": 7}, "avgpool"), ("Flatten", {}, "flatten"),
                *classifier_layers())
    g.connect(out, g.add_node("Output", id="logits"))
    finish(g, "vgg16", TrainingConfig(dataset_options=COLOR_DIGITS | {"per_class": 20}, lr=0.0001, batch_size=32,
                                      epochs=10))


def classifier_layers(dropout_first: bool = False) -> list:
    """AlexNet's and VGG's head: two 4096-wide layers with dropout, then the classes (10 here,
    1,000 in ImageNet's; AlexNet drops out before each wide layer, VGG after it)."""
    layers = []
    for i in (1, 2):
        unit = [("Linear", {"out_features": 4096}, f"fc{i}"), ("ReLU", {}, f"relu{i}")]
        drop = ("Dropout", {"p": 0.5}, f"drop{i}")
        layers += [drop, *unit] if dropout_first else [*unit, drop]
    return layers + [("Linear", {"out_features": 10}, "fc3")]


def alexnet() -> None:
    g = Graph("AlexNet", "Krizhevsky, Sutskever and Hinton (2012) as the lecture notes draw it: a 227x227x3 image, five "
              "convolutions of 96, 256, 384, 384 and 256 filters (11x11 at stride 4, then 5x5 and 3x3), ReLU after "
              "each, local response normalisation after the first two, overlapping 3x3 max pooling at stride 2, then "
              "two fully connected layers of 4096 with dropout and 1,000 classes: 62,378,344 parameters (one "
              "stream; the paper split some layers over two GPUs). Here the last layer has 10 classes and it trains on "
              "227x227 colour pictures of 10 bundled digits of each class. torchvision's variant is 'AlexNet "
              "(torchvision)'.")
    pool = {"kernel_size": 3, "stride": 2}
    lrn = {"size": 5, "alpha": 1e-4, "beta": 0.75, "k": 2.0}
    out = chain(g, normalized_input(g, [3, 227, 227], "image"),
                ("Conv2d", {"out_channels": 96, "kernel_size": 11, "stride": 4}, "conv1"), ("ReLU", {}, "relu1"),
                ("LocalResponseNorm", lrn, "norm1"), ("MaxPool2d", pool, "pool1"),
                ("Conv2d", {"out_channels": 256, "kernel_size": 5, "padding": 2}, "conv2"), ("ReLU", {}, "relu2"),
                ("LocalResponseNorm", lrn, "norm2"), ("MaxPool2d", pool, "pool2"),
                ("Conv2d", {"out_channels": 384, "kernel_size": 3, "padding": 1}, "conv3"), ("ReLU", {}, "relu3"),
                ("Conv2d", {"out_channels": 384, "kernel_size": 3, "padding": 1}, "conv4"), ("ReLU", {}, "relu4"),
                ("Conv2d", {"out_channels": 256, "kernel_size": 3, "padding": 1}, "conv5"), ("ReLU", {}, "relu5"),
                ("MaxPool2d", pool, "pool5"), ("Flatten", {}, "flatten"),
                ("Linear", {"out_features": 4096}, "fc6"), ("ReLU", {}, "relu6"), ("Dropout", {"p": 0.5}, "drop6"),
                ("Linear", {"out_features": 4096}, "fc7"), ("ReLU", {}, "relu7"), ("Dropout", {"p": 0.5}, "drop7"),
                ("Linear", {"out_features": 10}, "fc8"))
    g.connect(out, g.add_node("Output", id="logits"))
    # 227x227 colour pictures of 10 bundled digits of each class: the notes' input size, at a cost this CPU trains.
    finish(g, "alexnet", TrainingConfig(dataset_options={"image_size": 227, "color": True, "per_class": 10},
                                        lr=0.0001, batch_size=32, epochs=10))


def alexnet_torchvision() -> None:
    g = Graph("AlexNet (torchvision)", "AlexNet as torchvision builds it (after Krizhevsky's 'One weird trick' "
              "paper): five convolutions of 64, 192, 384, 256 and 256 filters with ReLU, no response normalisation, "
              "an adaptive average pool to 6x6, then three fully connected layers with dropout; 61,100,840 "
              "parameters for 224x224 images and 1,000 classes. It trains here on 64x64 colour pictures (the "
              "smallest its three pools take) of 50 bundled digits of each class, 10 classes.")
    use_builtin(g, "ConvReLU")
    pool = {"kernel_size": 3, "stride": 2}
    out = chain(g, normalized_input(g, [3, 64, 64], "x"),
                ("ConvReLU", {"channels": 64, "kernel_size": 11, "stride": 4, "padding": 2}, "conv1"),
                ("MaxPool2d", pool, "pool1"),
                ("ConvReLU", {"channels": 192, "kernel_size": 5, "padding": 2}, "conv2"), ("MaxPool2d", pool, "pool2"),
                ("ConvReLU", {"channels": 384}, "conv3"), ("ConvReLU", {"channels": 256}, "conv4"),
                ("ConvReLU", {"channels": 256}, "conv5"), ("MaxPool2d", pool, "pool3"),
                ("AdaptiveAvgPool2d", {"output_size": 6}, "avgpool"), ("Flatten", {}, "flatten"),
                *classifier_layers(dropout_first=True))
    g.connect(out, g.add_node("Output", id="logits"))
    finish(g, "alexnet_torchvision", TrainingConfig(dataset_options={"image_size": 64, "color": True, "per_class": 50},
                                                    lr=0.0001, batch_size=32, epochs=10))


def keras_cnn() -> None:
    g = Graph("Keras CNN for MNIST", "The lecture notes' Keras convolutional network for 28x28 digits: Conv2D(32, 3x3) "
              "and Conv2D(64, 3x3) with ReLU, each followed by 2x2 max pooling, Flatten, Dense(1024) with ReLU and "
              "Dense(10): 1,668,490 parameters, as Keras's model.summary() counts them. It trains here on the "
              "bundled digits enlarged to 28x28 (dataset mnist reads MNIST itself from a local folder).")
    out = chain(g, g.add_node("Input", id="image", shape=[1, 28, 28]),
                ("Conv2d", {"out_channels": 32, "kernel_size": 3}, "conv2d"), ("ReLU", {}, "relu1"),
                ("MaxPool2d", {"kernel_size": 2}, "max_pooling2d"),
                ("Conv2d", {"out_channels": 64, "kernel_size": 3}, "conv2d_1"), ("ReLU", {}, "relu2"),
                ("MaxPool2d", {"kernel_size": 2}, "max_pooling2d_1"), ("Flatten", {}, "flatten"),
                ("Linear", {"out_features": 1024}, "dense"), ("ReLU", {}, "relu3"),
                ("Linear", {"out_features": 10}, "dense_1"))
    g.connect(out, g.add_node("Output", id="scores"))
    finish(g, "keras_cnn", TrainingConfig(dataset_options={"image_size": 28}, lr=0.001, epochs=10))


def inception() -> None:
    g = Graph("Inception module",
              "GoogLeNet's Inception module with dimension reductions: 1x1, 3x3 and 5x5 convolutions and a "
              "pooled branch look at the same input side by side, 1x1 convolutions keep them cheap, and Concat "
              "joins their channels. Two modules, one definition; open one to see its branches. Here on the "
              "bundled digits.")
    use_builtin(g, "Inception")
    out = chain(g, normalized_input(g, [1, 8, 8]),
                ("Conv2d", {"out_channels": 32, "kernel_size": 3, "padding": 1}, "stem"), "ReLU",
                ("Inception", {"c1": 16, "c3_reduce": 16, "c3": 24, "c5_reduce": 4, "c5": 8, "pool_proj": 8},
                 "inception1"),
                ("Inception", {"c1": 24, "c3_reduce": 24, "c3": 32, "c5_reduce": 4, "c5": 8, "pool_proj": 8},
                 "inception2"),
                ("AdaptiveAvgPool2d", {"output_size": 1}), "Flatten", ("Linear", {"out_features": 10}))
    g.connect(out, g.add_node("Output"))
    finish(g, "inception_module", TrainingConfig(lr=0.003, epochs=30))


def resnext() -> None:
    g = Graph("ResNeXt block",
              "A ResNeXt bottleneck: a 1x1 convolution widens, a grouped 3x3 convolution (8 groups, the "
              "'cardinality') works on separate channel groups, a 1x1 convolution narrows again, and the input "
              "is added back. The block is used twice in a row (repeat 2).")
    b = g.define_block("ResNeXtBlock", {"width": 64, "groups": 8},
                       "1x1 widen, grouped 3x3 ('groups' is the cardinality), 1x1 back to the input's channels, "
                       "input added back")
    x = b.add_node("Input", id="x", shape=[32, 8, 8])
    body = chain(b, x, ("Conv2d", {"out_channels": b.param("width"), "kernel_size": 1, "bias": False}, "widen"),
                 ("BatchNorm2d", {}, "bn1"), ("ReLU", {}, "relu1"),
                 ("Conv2d", {"out_channels": b.param("width"), "kernel_size": 3, "padding": 1,
                             "groups": b.param("groups"), "bias": False}, "grouped"),
                 ("BatchNorm2d", {}, "bn2"), ("ReLU", {}, "relu2"),
                 ("Conv2d", {"out_channels": 32, "kernel_size": 1, "bias": False}, "narrow"), ("BatchNorm2d", {}, "bn3"))
    add = b.add_node("Add", id="residual")
    b.connect(body, add)
    b.connect(x, add)
    b.connect(chain(b, add, ("ReLU", {}, "relu3")), b.add_node("Output", id="out"))
    b.apply(layout_edit(b))
    out = chain(g, normalized_input(g, [1, 8, 8]),
                ("Conv2d", {"out_channels": 32, "kernel_size": 3, "padding": 1, "bias": False}, "stem"),
                ("BatchNorm2d", {}), "ReLU", ("ResNeXtBlock", {"width": 64, "groups": 8, "repeat": 2}, "blocks"),
                ("AdaptiveAvgPool2d", {"output_size": 1}), "Flatten", ("Linear", {"out_features": 10}))
    g.connect(out, g.add_node("Output"))
    finish(g, "resnext_block", TrainingConfig(lr=0.003, epochs=30))


def unet() -> None:
    g = Graph("U-Net",
              "An encoder halves the image twice, a decoder doubles it back with transposed convolutions, and "
              "skip Concats hand each decoder stage the encoder's detail at the same size. Trained here to "
              "reconstruct the digits (MSE), the U-Net's shape at its smallest.")
    use_builtin(g, "ConvReLU")
    x = g.add_node("Input", shape=[1, 8, 8])
    e1 = chain(g, x, ("ConvReLU", {"channels": 16}, "enc1"))
    e2 = chain(g, e1, ("MaxPool2d", {"kernel_size": 2}, "down1"), ("ConvReLU", {"channels": 32}, "enc2"))
    mid = chain(g, e2, ("MaxPool2d", {"kernel_size": 2}, "down2"), ("ConvReLU", {"channels": 64}, "bottleneck"))
    up2 = chain(g, mid, ("ConvTranspose2d", {"out_channels": 32, "kernel_size": 2, "stride": 2}, "up2"))
    cat2 = g.add_node("Concat", id="skip2", dim=1)
    g.connect(up2, cat2)
    g.connect(e2, cat2)
    d2 = chain(g, cat2, ("ConvReLU", {"channels": 32}, "dec2"))
    up1 = chain(g, d2, ("ConvTranspose2d", {"out_channels": 16, "kernel_size": 2, "stride": 2}, "up1"))
    cat1 = g.add_node("Concat", id="skip1", dim=1)
    g.connect(up1, cat1)
    g.connect(e1, cat1)
    out = chain(g, cat1, ("ConvReLU", {"channels": 16}, "dec1"),
                ("Conv2d", {"out_channels": 1, "kernel_size": 1}, "head"))
    g.connect(out, g.add_node("Output"))
    finish(g, "unet", TrainingConfig(loss="mse", reconstruct=True, lr=0.003, epochs=20))


def autoencoder() -> None:
    g = Graph("Convolutional autoencoder",
              "An encoder squeezes each digit into a 32x2x2 code and a decoder of transposed convolutions "
              "rebuilds the image from it; the loss is the MSE between the two. Watch the activation maps of "
              "the code.")
    out = chain(g, g.add_node("Input", shape=[1, 8, 8]),
                ("Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1}, "enc1"), "ReLU",
                ("MaxPool2d", {"kernel_size": 2}), ("Conv2d", {"out_channels": 32, "kernel_size": 3, "padding": 1}, "enc2"),
                "ReLU", ("MaxPool2d", {"kernel_size": 2}, "encoded"),
                ("ConvTranspose2d", {"out_channels": 16, "kernel_size": 2, "stride": 2}, "dec1"), "ReLU",
                ("ConvTranspose2d", {"out_channels": 1, "kernel_size": 2, "stride": 2}, "dec2"))
    g.connect(out, g.add_node("Output"))
    finish(g, "conv_autoencoder", TrainingConfig(loss="mse", reconstruct=True, lr=0.003, epochs=20))


def char_lstm() -> None:
    vocabulary = len(load_dataset("text", seq_len=32).class_names)
    g = Graph("Character LSTM language model",
              "Reads text one character at a time and predicts the next one at every step: an Embedding turns "
              "characters into vectors, an LSTM carries what it has read, a Linear layer scores every "
              f"character of the {vocabulary}-letter alphabet. Trains on a short bundled text.")
    out = chain(g, g.add_node("Input", shape=[32], dtype="int64"),
                ("Embedding", {"num_embeddings": vocabulary, "embedding_dim": 32}), ("LSTM", {"hidden_size": 128}),
                ("Linear", {"out_features": vocabulary}))
    g.connect(out, g.add_node("Output"))
    finish(g, "char_lstm", TrainingConfig(dataset="text", dataset_options={"seq_len": 32}, lr=0.005, epochs=60,
                                          batch_size=16))


def gru_classifier() -> None:
    g = Graph("GRU sequence classifier",
              "Many-to-one: a GRU reads each digit row by row (8 steps of 8 pixels) and only its final state is "
              "classified.")
    x = normalized_input(g, [8, 8])
    gru = g.add_node("GRU", hidden_size=64)
    g.connect(x, gru)
    fc = g.add_node("Linear", out_features=10)
    g.connect(gru, fc, src_port="last")
    g.connect(fc, g.add_node("Output"))
    finish(g, "gru_classifier", TrainingConfig(dataset_options={"as_sequence": True}, lr=0.005, epochs=30))


def sentiment_lstm() -> None:
    data = load_dataset("sentences")
    vocabulary, length = len(data.extra["vocabulary"]), data.input_shape[0]
    g = Graph("LSTM sentiment classifier",
              "Many-to-one: an LSTM reads a short sentence word by word and only its final state is classified as "
              f"positive or negative. Trains on {len(data.x_train) + len(data.x_val)} short sentences shipped with "
              f"NetLoom ({vocabulary} words, each sentence {length} tokens: padding in front, so the last step is "
              "the last word). Dropout on the word vectors keeps it from learning the training sentences by heart.")
    x = g.add_node("Input", id="words", shape=[length], dtype="int64")
    lstm = chain(g, x, ("Embedding", {"num_embeddings": vocabulary, "embedding_dim": 32, "padding_idx": 0}, "vectors"),
                 ("Dropout", {"p": 0.5}, "word_dropout"), ("LSTM", {"hidden_size": 32}, "reader"))
    head = g.add_node("Linear", id="sentiment", out_features=2)
    g.connect(lstm, head, src_port="last")
    g.connect(head, g.add_node("Output"))
    finish(g, "sentiment_lstm", TrainingConfig(dataset="sentences", lr=0.003, epochs=20, batch_size=16, probe_every=20))


WAVE_STEPS = 40


def sine_forecast() -> None:
    g = Graph("GRU forecasting a wave at every step",
              "Many-to-many: a GRU reads a sine wave one value at a time and at every step predicts the next value. "
              "At the first step it has seen one value and cannot know where the wave goes (trained, its error "
              "there is about twenty times that of later steps); a few steps in, its hidden state holds the "
              "wave's phase and frequency.")
    out = chain(g, g.add_node("Input", id="wave", shape=[WAVE_STEPS, 1]), ("GRU", {"hidden_size": 32}, "reader"),
                ("Linear", {"out_features": 1}, "next_value"))
    g.connect(out, g.add_node("Output"))
    finish(g, "sine_forecast", TrainingConfig(dataset="waves", dataset_options={"length": WAVE_STEPS}, loss="mse",
                                              lr=0.01, epochs=20, batch_size=32, probe_every=20))


def wave_generator() -> None:
    g = Graph("GRU generating a wave from one number",
              "One-to-many: a single input, a wave's frequency, is turned into a 16-number code, repeated at every "
              f"one of {WAVE_STEPS} steps, and a GRU writes the whole wave from it, one value per step.")
    out = chain(g, g.add_node("Input", id="frequency", shape=[1]), ("Linear", {"out_features": 16}, "code"),
                ("Tanh", {}, "squash"), ("Reshape", {"shape": [1, 16]}, "one_step"),
                ("Function", {"op": "repeat", "args": [{"tensor": 0}, 1, WAVE_STEPS, 1]}, "every_step"),
                ("GRU", {"hidden_size": 32}, "writer"), ("Linear", {"out_features": 1}, "value"))
    g.connect(out, g.add_node("Output"))
    finish(g, "wave_generator", TrainingConfig(dataset="waves", dataset_options={"length": WAVE_STEPS,
                                                                                "mode": "generate"},
                                               loss="mse", lr=0.01, epochs=30, batch_size=32, probe_every=20))


def transformer() -> None:
    g = Graph("Transformer encoder classifier",
              "Each row of a digit becomes a 32-wide token; two Transformer encoder layers (one block, repeat 2, "
              "made of attention, feed-forward, Add and LayerNorm) let every row attend to every other row; the "
              "tokens are flattened and classified.")
    use_builtin(g, "TransformerEncoder")
    out = chain(g, normalized_input(g, [8, 8]), ("Linear", {"out_features": 32}, "tokens"),
                ("TransformerEncoder", {"width": 32, "heads": 4, "feedforward": 64, "dropout": 0.1, "repeat": 2},
                 "encoder"),
                "Flatten", ("Linear", {"out_features": 10}))
    g.connect(out, g.add_node("Output"))
    finish(g, "transformer_classifier", TrainingConfig(dataset_options={"as_sequence": True}, lr=0.002, epochs=30))


def word2vec() -> None:
    vocabulary = len(load_dataset("text", mode="skipgram").class_names)
    g = Graph("word2vec skip-gram",
              "Mikolov et al.'s skip-gram: each word's Embedding row is trained to predict the words around it, "
              "so words used alike end up with similar vectors. The Linear layer scores all "
              f"{vocabulary} words of the bundled text. With the loss set to negative_sampling it trains as "
              "word2vec does: the true neighbour's score and those of a few words drawn at random (negative_samples), "
              "each through a sigmoid, instead of a softmax over every word.")
    out = chain(g, g.add_node("Input", id="word", shape=[1], dtype="int64"),
                ("Embedding", {"num_embeddings": vocabulary, "embedding_dim": 32}, "vectors"), "Flatten",
                ("Linear", {"out_features": vocabulary}, "context"))
    g.connect(out, g.add_node("Output"))
    finish(g, "word2vec_skipgram", TrainingConfig(dataset="text", dataset_options={"mode": "skipgram", "window": 2},
                                                  lr=0.01, epochs=20, batch_size=128))


def style_transfer() -> None:
    g = Graph("Style transfer: VGG-16 features",
              "The first eleven convolutions of VGG-16 (Simonyan and Zisserman), as Gatys et al. used them for "
              "neural style transfer. Open the Style tab of the Training panel: the picture is optimised so that "
              "its relu4_2 maps match the content picture and the Gram matrices of relu1_1 to relu5_1 match the "
              "style picture's. With VGG-16's ImageNet weights (downloaded on request) the result is painterly. "
              "Without them, Train (F5) gives the convolutions learned filters: a small head (average, then 10 "
              "classes) reads 32x32 colour pictures of 20 bundled digits of each class through them; the Style tab "
              "then uses the newest run's weights on pictures of any size.")
    prev = normalized_input(g, [3, 32, 32], "picture")
    stages = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 1))
    for s, (channels, convs) in enumerate(stages, 1):
        for c in range(1, convs + 1):
            prev = chain(g, prev, ("Conv2d", {"out_channels": channels, "kernel_size": 3, "padding": 1},
                                   f"conv{s}_{c}"), ("ReLU", {}, f"relu{s}_{c}"))
        if s < len(stages):
            prev = chain(g, prev, ("MaxPool2d", {"kernel_size": 2}, f"pool{s}"))
    # A head that takes maps of any size, so that the Style tab can feed larger pictures than it trains on.
    prev = chain(g, prev, ("AdaptiveAvgPool2d", {"output_size": 1}, "average"), ("Flatten", {}, "flatten"),
                 ("Linear", {"out_features": 10}, "classes"))
    g.connect(prev, g.add_node("Output", id="scores"))
    g.set_metadata("content_layers", "relu4_2")          # the Style tab's starting choice
    g.set_metadata("style_layers", "relu1_1 relu2_1 relu3_1 relu4_1 relu5_1")
    finish(g, "style_transfer_vgg16", TrainingConfig(dataset_options=COLOR_DIGITS | {"per_class": 20}, lr=0.0001,
                                                     batch_size=32, epochs=10))


VANISHING = {"sigmoid": ("sigmoid", "Ten Linear layers with sigmoids. A sigmoid's slope is at most 1/4, so the "
                         "gradient shrinks by that much or more at every layer on its way back: the first layers "
                         "barely learn."),
             "relu": ("ReLU", "Ten Linear layers with ReLUs: slope 1 where a unit is active, so more of the "
                      "gradient reaches the first layers."),
             "relu_batchnorm": ("ReLU with BatchNorm", "Ten Linear layers, each followed by BatchNorm and a ReLU: "
                                "every layer's input is kept at zero mean and unit variance, so gradients keep "
                                "their size."),
             "residual": ("residual", "A first Linear layer, then nine residual layers: each adds its input to its "
                          "output, so the gradient has a path around every layer back to the first.")}


def vanishing_gradients() -> None:
    """Four 10-layer MLPs on the spiral, trained one after another by an experiment file."""
    folder = OUT / "vanishing_gradients"
    folder.mkdir(exist_ok=True)
    training = TrainingConfig(dataset="spiral", optimizer="sgd", lr=0.05, momentum=0.9, epochs=15, batch_size=64,
                              probe_every=5, log_every=5)
    variants = []
    for kind, (title, description) in VANISHING.items():
        g = Graph(f"10-layer MLP, {title}", description)
        act = "Sigmoid" if kind == "sigmoid" else "ReLU"
        prev = g.add_node("Input", id="points", shape=[2])
        for i in range(1, 11):
            layer = chain(g, prev, ("Linear", {"out_features": 32}, f"fc{i}"),
                          *([("BatchNorm1d", {}, f"bn{i}")] if kind == "relu_batchnorm" else []),
                          (act, {}, f"{act.lower()}{i}"))
            if kind == "residual" and i > 1:
                skip = g.add_node("Add", id=f"skip{i}")
                g.connect(layer, skip)
                g.connect(prev, skip)
                layer = skip
            prev = layer
        out = chain(g, prev, ("Linear", {"out_features": 3}, "classes"))
        g.connect(out, g.add_node("Output", id="scores"))
        g.apply(layout_edit(g))           # a long chain folds into bands that all read left to right
        g.set_training(training.to_dict())
        save_graph(g, folder / f"{kind}.loom")
        variants.append({"name": title, "graph": f"vanishing_gradients/{kind}.loom"})
    write_experiment_file("vanishing_gradients", "Vanishing gradients: four 10-layer MLPs on the spiral",
                     "The same ten-layer network four ways: sigmoid, ReLU, ReLU with BatchNorm, and residual. "
                     "Train > Run Experiment trains them one after another; the Gradients tab then compares the "
                     "gradient each layer received: the sigmoid network's first layer gets orders of magnitude "
                     "less than the residual network's.", variants)


def write_experiment_file(name: str, title: str, description: str, variants: list[dict]) -> None:
    """An experiment file naming graphs already written."""
    (OUT / f"{name}.experiment.json").write_text(json.dumps({
        "format": "netloom.experiment", "format_version": 1, "title": title, "description": description,
        "variants": variants}, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {name}.experiment.json and its {len(variants)} graphs")


MEMORY_STEPS = 50
RNN_VS_LSTM = {
    "rnn": ("RNN", "RNN", {}, "A plain RNN (tanh): at every step back, the gradient is multiplied by the recurrent "
            "weights and the slope of tanh, so it shrinks from step to step and the first step gets almost none."),
    "lstm": ("LSTM", "LSTM", {"lstm_forget_bias": 3.0},
             "An LSTM whose forget gates start open (bias 3, so about 0.95): the cell carries the first value along "
             "and the gradient comes back to it through the cell, scaled only by the forget gates."),
    "lstm_closed": ("LSTM, PyTorch's starting forget gates", "LSTM", {},
                    "The same LSTM with PyTorch's own starting biases: the forget gates start at about 0.5, so the "
                    "cell halves what it holds at every step and, at first, forgets as fast as the RNN."),
    "rnn_clipped": ("RNN, clipped at 0.5", "RNN", {"clip_grad_norm": 0.5},
                    "The plain RNN with gradient clipping: steps whose gradient norm is above 0.5 are scaled down to "
                    "it. Clipping tames the spikes that exploding gradients make, but it cannot bring back a "
                    "gradient that vanished: the first step still gets almost none."),
}


def rnn_vs_lstm() -> None:
    """RNN and LSTM variants remembering the first value of a long sequence, trained one after another."""
    folder = OUT / "rnn_vs_lstm"
    folder.mkdir(exist_ok=True)
    training = TrainingConfig(dataset="long_memory", dataset_options={"length": MEMORY_STEPS}, lr=0.01, epochs=10,
                              batch_size=32, probe_every=10, log_every=10)
    variants = []
    for name, (title, kind, settings, description) in RNN_VS_LSTM.items():
        g = Graph(title, f"{description} The task: sequences of {MEMORY_STEPS} steps whose class is the value at the "
                         "first step (marked), every later value being noise.")
        reader = chain(g, g.add_node("Input", id="sequence", shape=[MEMORY_STEPS, 2]),
                       (kind, {"hidden_size": 32}, "memory"))
        head = g.add_node("Linear", id="classes", out_features=2)
        g.connect(reader, head, src_port="last")
        g.connect(head, g.add_node("Output", id="scores"))
        g.apply(layout_edit(g))
        g.set_training(training.replace(**settings).to_dict())
        save_graph(g, folder / f"{name}.loom")
        variants.append({"name": title, "graph": f"rnn_vs_lstm/{name}.loom"})
    write_experiment_file("rnn_vs_lstm", f"Gradients through time: RNN and LSTM remembering the first of {MEMORY_STEPS} steps",
                     "Four recurrent networks learn to classify a sequence by its first value, 49 noisy steps "
                     "before the end. Train > Run Experiment trains them one after another; the gradient through "
                     "time then shows how much of the loss's gradient reaches each step's hidden state: for the RNN it "
                     "falls by many orders of magnitude on the way back to the first step, for the LSTM with open "
                     "forget gates far less, and that LSTM learns the task within a few epochs while the others stay "
                     "near chance (with other seeds a plain RNN sometimes latches onto the first value after a "
                     "sudden jump of its gradient). The clipped RNN reports how often clipping cut its gradient.",
                     variants)


# ---------------------------------------------------------------------- the lecture notes' numbers
def playground() -> None:
    g = Graph("Features: a Playground network",
              "TensorFlow Playground in NetLoom: the circles data, a Features block (x1, x2, x1², x2², x1·x2, "
              "sin x1, sin x2; x1, x2, x1² and x2² are on) and two small Tanh layers. Switch features in the "
              "inspector: with x1² and x2² even one Linear unit separates the circles, with x1 and x2 alone the "
              "hidden neurons have to bend the boundary themselves. Watch the decision boundary as it trains, "
              "and the Neurons tab: every feature and neuron drawn as a picture over the plane, the weights as "
              "blue (positive) and orange (negative) wires.")
    out = chain(g, g.add_node("Input", id="point", shape=[2]),
                ("Features", {"x1_squared": True, "x2_squared": True}, "features"),
                ("Linear", {"out_features": 4}, "hidden1"), ("Tanh", {}, "tanh1"),
                ("Linear", {"out_features": 2}, "hidden2"), ("Tanh", {}, "tanh2"),
                ("Linear", {"out_features": 2}, "classes"))
    g.connect(out, g.add_node("Output", id="scores"))
    finish(g, "playground_features", TrainingConfig(dataset="circles", dataset_options={"noise": 0.1}, lr=0.03,
                                                    batch_size=10, epochs=20, probe_every=20))


def linear_predictors() -> None:
    """The notes' linear predictors of features: w·[1, x, x²] and w·[1, x, sin 3x]."""
    for name, function, features, title, formula in (
            ("predictor_quadratic", "quadratic", {"x1_squared": True}, "Linear predictor on [1, x, x²]",
             "y = 0.5x² − x + 1"),
            ("predictor_sin3x", "wave", {"sin_x1": True, "frequency": 3.0}, "Linear predictor on [1, x, sin 3x]",
             "y = 0.5 + 0.3x + sin 3x")):
        g = Graph(title, f"The lecture notes' linear predictor of features: a Features block turns each number x into "
                  f"the feature vector, a Linear unit weighs it (its bias is the 1). The data are noisy samples of "
                  f"{formula}, so training finds the formula's coefficients as the unit's weights and bias. The "
                  f"Fit tab draws the fitted curve over the data points; the inspector shows the unit's weights.")
        out = chain(g, g.add_node("Input", id="x", shape=[1]), ("Features", {"x2": False, **features}, "features"),
                    ("Linear", {"out_features": 1}, "predictor"))
        g.connect(out, g.add_node("Output", id="y"))
        finish(g, name, TrainingConfig(dataset="curve", dataset_options={"function": function}, loss="mse", lr=0.05,
                                       batch_size=32, epochs=60))


def surface_regression() -> None:
    g = Graph("Regression surface", "A small MLP learns a function of two numbers, y = sin x1 + sin x2, from noisy "
              "samples: a 2-D regression. The Fit tab draws the predicted surface with the validation points on it "
              "in their true values' colours.")
    out = chain(g, g.add_node("Input", id="point", shape=[2]), ("Linear", {"out_features": 16}, "hidden1"),
                ("Tanh", {}, "tanh1"), ("Linear", {"out_features": 16}, "hidden2"), ("Tanh", {}, "tanh2"),
                ("Linear", {"out_features": 1}, "y"))
    g.connect(out, g.add_node("Output", id="prediction"))
    finish(g, "surface_regression", TrainingConfig(dataset="surface", loss="mse", lr=0.01, batch_size=32, epochs=40,
                                                   probe_every=30))


OVERFIT_DATA = {"n_samples": 60, "noise": 0.4, "val_fraction": 0.6}     # 24 noisy points to learn from
OVERFIT_TRAINING = TrainingConfig(dataset="moons", dataset_options=OVERFIT_DATA, lr=0.01, batch_size=32, epochs=150)


def wide_network(title: str, description: str, dropout: float = 0.0) -> Graph:
    """Two hidden layers of 256 ReLUs for two classes of 2-D points (with dropout after each, if asked)."""
    g = Graph(title, description)
    drop = [("Dropout", {"p": dropout}, f"drop{i}") for i in (1, 2)] if dropout else []
    out = chain(g, g.add_node("Input", id="point", shape=[2]), ("Linear", {"out_features": 256}, "hidden1"),
                ("ReLU", {}, "relu1"), *drop[:1], ("Linear", {"out_features": 256}, "hidden2"), ("ReLU", {}, "relu2"),
                *drop[1:], ("Linear", {"out_features": 2}, "classes"))
    g.connect(out, g.add_node("Output", id="scores"))
    g.apply(layout_edit(g))
    return g


def overfitting() -> None:
    g = wide_network("Overfitting: a wide network on few noisy points",
                     "Two hidden layers of 256 units (66,818 weights) learn two moons from only 24 noisy points. "
                     "The training loss keeps falling towards 0 while the validation loss turns up after about ten "
                     "epochs: the network learns the noise of those 24 points by heart, and its decision boundary "
                     "curls around single points (Boundary > Show validation data: the rings it gets wrong). "
                     "The Regularisation experiment trains the same network with dropout, L2 and L1.")
    g.set_training(OVERFIT_TRAINING.to_dict())
    save_graph(g, OUT / "overfitting.loom")
    print(f"wrote overfitting.loom ({len(g.nodes)} nodes)")


def write_experiment(name: str, title: str, description: str, variants: list[tuple[str, str, Graph]]) -> None:
    """An experiment file and its variants' graphs (in a folder of the experiment's name)."""
    folder = OUT / name
    folder.mkdir(exist_ok=True)
    entries = []
    for variant, stem, g in variants:
        save_graph(g, folder / f"{stem}.loom")
        entries.append({"name": variant, "graph": f"{name}/{stem}.loom"})
    write_experiment_file(name, title, description, entries)


def regularisation() -> None:
    """The overfitting network four ways: plain, with dropout, with L2 and with L1."""
    variants = []
    for stem, name, dropout, changes in (("none", "no regularisation", 0.0, {}), ("dropout", "dropout 0.5", 0.5, {}),
                                         ("l2", "L2 0.01", 0.0, {"weight_decay": 0.01}),
                                         ("l1", "L1 0.001", 0.0, {"l1": 0.001})):
        config = OVERFIT_TRAINING.replace(**changes)
        what = {"none": "no regularisation: it overfits", "dropout": "dropout 0.5 after each hidden layer",
                "l2": "L2 (weight decay 0.01): every weight is pulled towards 0 in proportion to its size",
                "l1": "L1 0.001: a penalty on the sum of |w| pushes weights to exactly 0"}[stem]
        g = wide_network(f"Wide network, {what.split(':')[0]}", f"The overfitting example's network with {what}.",
                         dropout)
        g.set_training(config.to_dict())
        variants.append((name, stem, g))
    write_experiment("regularisation", "Regularisation: dropout, L2 and L1 against overfitting",
                     "The wide network of the overfitting example on its 24 noisy points, four ways: plain, with "
                     "dropout, with L2 (weight decay) and with L1. Train > Run Experiment trains them one after "
                     "another; compare their validation losses: the plain network's rises far above the others'.",
                     variants)


def initialisation() -> None:
    """One six-layer tanh MLP on the moons started four ways."""
    training = TrainingConfig(dataset="moons", optimizer="sgd", lr=0.05, momentum=0.9, epochs=10, batch_size=64,
                              probe_every=5, log_every=5)
    configs, graphs = [], []
    for stem, changes, what in (
            ("normal_small", {"init": "normal", "init_std": 0.01}, "normal, σ 0.01: each layer shrinks the signal "
             "and the gradient a hundredfold, so the first layers get almost nothing and nothing is learned"),
            ("normal_large", {"init": "normal", "init_std": 1.0}, "normal, σ 1: the tanh units start saturated "
             "(flat), so gradients shrink on the way back and it learns slowly"),
            ("xavier", {"init": "xavier"}, "Xavier (Glorot): variance 2/(fan in + fan out) keeps the signal's "
             "size from layer to layer, and every layer gets a gradient of the same size"),
            ("kaiming", {"init": "kaiming"}, "Kaiming (He): variance 2/fan in, made for ReLU; on tanh it starts a "
             "little large and learns fast here")):
        config = training.replace(**changes)
        configs.append(config)
        g = Graph(f"6-layer tanh MLP, {what.split(':')[0]}", f"Six Tanh layers of 64 on the moons, started {what}.")
        prev = g.add_node("Input", id="point", shape=[2])
        for i in range(1, 7):
            prev = chain(g, prev, ("Linear", {"out_features": 64}, f"fc{i}"), ("Tanh", {}, f"tanh{i}"))
        g.connect(chain(g, prev, ("Linear", {"out_features": 2}, "classes")), g.add_node("Output", id="scores"))
        g.apply(layout_edit(g))
        g.set_training(config.to_dict())
        graphs.append((stem, g))
    variants = [(run_name(config, [c for c in configs if c is not config]), stem, g)
                for config, (stem, g) in zip(configs, graphs)]
    write_experiment("initialisation", "Initialisation: one network started four ways",
                     "The same six-layer tanh network on the moons, its weights started from a normal distribution "
                     "with σ 0.01, one with σ 1, Xavier and Kaiming. Train > Run Experiment trains them one after "
                     "another; the Gradients tab compares the gradient each layer got (σ 0.01: a billionth of the "
                     "last layer's reaches the first) and the loss curves show which ones learn.", variants)


def optimizers() -> None:
    """SGD, SGD with momentum and Adam on one small model, recording their paths for one landscape."""
    training = TrainingConfig(dataset="moons", optimizer="sgd", lr=0.1, momentum=0.0, epochs=12, batch_size=32,
                              landscape=True, probe_every=0)
    stems = ("sgd", "momentum", "adam")
    configs = [training, training.replace(momentum=0.9), training.replace(optimizer="adam", lr=0.01)]
    variants = []
    for stem, config in zip(stems, configs):
        name = run_name(config, [c for c in configs if c is not config])
        g = Graph(f"Small MLP, {name}", f"A 2-8-8-2 tanh network on the moons, trained by {name}; every run of "
                  "the experiment starts from the same weights (same graph, same seed).")
        out = chain(g, g.add_node("Input", id="point", shape=[2]), ("Linear", {"out_features": 8}, "hidden1"),
                    ("Tanh", {}, "tanh1"), ("Linear", {"out_features": 8}, "hidden2"), ("Tanh", {}, "tanh2"),
                    ("Linear", {"out_features": 2}, "classes"))
        g.connect(out, g.add_node("Output", id="scores"))
        g.apply(layout_edit(g))
        g.set_training(config.to_dict())
        variants.append((name, stem, g))
    write_experiment("optimizers", "Optimizers on one loss landscape: SGD, momentum and Adam",
                     "One small network trained three ways from the same starting weights: plain SGD, SGD with "
                     "momentum 0.9 and Adam. Each run records its weights (the landscape setting); Train > Run Experiment "
                     "then draws the three paths on one loss landscape in the Landscape tab, centred on the common "
                     "start, along the two directions the paths move most ('python main.py experiment' prints where "
                     "each ends and, with --landscape FILE.json, writes the grid and the paths).", variants)


if __name__ == "__main__":
    builtin_blocks()
    if len(sys.argv) > 1:      # only the examples named: python scripts/make_examples.py resnet18
        for name in sys.argv[1:]:
            if name != "builtin_blocks":
                globals()[name]()
        sys.exit()
    perceptron()
    mlp_spiral()
    lenet_digits()
    lenet_digits_0_4()
    lenet_digits_5_9()
    lenet5()
    cifar_convnet()
    alexnet()
    alexnet_torchvision()
    keras_cnn()
    vgg16()
    resnet18()
    inception()
    resnext()
    unet()
    autoencoder()
    char_lstm()
    gru_classifier()
    sentiment_lstm()
    sine_forecast()
    wave_generator()
    transformer()
    word2vec()
    style_transfer()
    vanishing_gradients()
    playground()
    linear_predictors()
    surface_regression()
    overfitting()
    regularisation()
    initialisation()
    optimizers()
    rnn_vs_lstm()
