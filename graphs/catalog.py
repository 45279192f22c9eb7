"""The built-in catalog of layer types.

Types carry torch's class names and parameters torch's keyword names. Sizes that follow from
the incoming tensor (in_features, in_channels, num_features, input_size, embed_dim, d_model,
normalized_shape) are not parameters: the engine infers them, as Keras does.

A file may name only the types listed here, which is what keeps loading a file from ever
running code.
"""

from __future__ import annotations

import dataclasses
from functools import cache

from .specs import (
    ARGS,
    BOOL,
    CHOICE,
    FLOAT,
    FLOATS,
    INT,
    INTS,
    KWARGS,
    OPERATION,
    SHAPE,
    LayerSpec,
    ParamSpec,
    PortSpec,
)

IMAGE = "channels x height x width"
SIGNAL = "channels x length"
SEQUENCE = "sequence length x features"
VOLUME = "channels x depth (or frames) x height x width"


def _p(name, kind, default, doc="", **kw) -> ParamSpec:
    return ParamSpec(name, kind, default, doc, **kw)


def _bias() -> ParamSpec:
    return _p("bias", BOOL, True, "Learn an additive bias")


def _conv(dims: int, transposed: bool = False) -> tuple[ParamSpec, ...]:
    params = [
        _p("out_channels", INT, 16, "Number of filters (output channels)", minimum=1, maximum=65536),
        _p("kernel_size", INTS, 3, "Filter size", minimum=1, maximum=1024, length=dims),
        _p("stride", INTS, 1, "Step between filter positions", minimum=1, maximum=1024, length=dims),
        _p("padding", INTS, 0, "Zeros added on each side" if transposed else
           "Zeros added on each side, or 'same': as many as keep the size (with stride 1)",
           minimum=0, maximum=1024, length=dims, words=() if transposed else ("same",)),
    ]
    if transposed:
        params.append(_p("output_padding", INTS, 0, "Extra size added to one side of the output",
                         minimum=0, maximum=1024, length=dims))
    params += [
        _p("dilation", INTS, 1, "Spacing between filter taps", minimum=1, maximum=1024, length=dims),
        _p("groups", INT, 1, "Split channels into this many independent groups", minimum=1, maximum=65536),
        _bias(),
    ]
    return tuple(params)


def _pool(dims: int, average: bool = False) -> tuple[ParamSpec, ...]:
    params = [
        _p("kernel_size", INTS, 2, "Window size", minimum=1, maximum=1024, length=dims),
        _p("stride", INTS, None, "Step between windows (empty: the window size)",
           minimum=1, maximum=1024, length=dims, optional=True),
        _p("padding", INTS, 0, "Padding on each side (at most half the window)",
           minimum=0, maximum=512, length=dims),
        _p("ceil_mode", BOOL, False, "Round the output size up instead of down"),
    ]
    if average:
        params.append(_p("count_include_pad", BOOL, True, "Count padded zeros in the average"))
    return tuple(params)


def _recurrent(with_nonlinearity: bool) -> tuple[ParamSpec, ...]:
    params = [_p("hidden_size", INT, 64, "Size of the hidden state", minimum=1, maximum=65536),
              _p("num_layers", INT, 1, "Stacked recurrent layers", minimum=1, maximum=64)]
    if with_nonlinearity:
        params.append(_p("nonlinearity", CHOICE, "tanh", "Activation", choices=("tanh", "relu")))
    params += [_bias(),
               _p("dropout", FLOAT, 0.0, "Dropout between stacked layers", minimum=0.0, maximum=1.0),
               _p("bidirectional", BOOL, False, "Also read the sequence backwards")]
    return tuple(params)


def _transformer_layer() -> tuple[ParamSpec, ...]:
    return (_p("nhead", INT, 4, "Attention heads (must divide the feature size)", minimum=1, maximum=1024),
            _p("dim_feedforward", INT, 256, "Hidden size of the feed-forward block", minimum=1, maximum=1 << 20),
            _p("dropout", FLOAT, 0.1, "Dropout", minimum=0.0, maximum=1.0),
            _p("activation", CHOICE, "relu", "Feed-forward activation", choices=("relu", "gelu")),
            _p("norm_first", BOOL, False, "Normalise before attention (pre-norm)"))


_RECURRENT_OUTPUTS = (PortSpec("seq", "Output at every step: sequence x hidden"),
                      PortSpec("last", "Final hidden state: hidden"))
_NO_INPUT: tuple[PortSpec, ...] = ()
_NO_OUTPUT: tuple[PortSpec, ...] = ()
_MANY = (PortSpec("in", "Two or more tensors", multiple=True, min_wires=2),)
FUNCTION = "Function"
# The Features layer's toggles, in the order its outputs come; with one number x, x1 is x.
FEATURES = (("x1", "x1 (or x) itself"), ("x2", "x2 itself (two-number inputs)"), ("x1_squared", "x1²"),
            ("x2_squared", "x2²"), ("x1_times_x2", "x1·x2"), ("sin_x1", "sin(ω·x1)"), ("sin_x2", "sin(ω·x2)"))
MAX_FUNCTION_OUTPUTS = 64
_NORM_EPS = _p("eps", FLOAT, 1e-5, "Added to the variance for stability", minimum=0.0, maximum=1.0)

_SPECS = [
    # --- inputs and outputs
    LayerSpec("Input", "Inputs and outputs", "A model input; its shape excludes the batch axis",
              (_p("shape", SHAPE, [1, 8, 8], "Shape of one sample, without the batch axis"),
               _p("dtype", CHOICE, "float32", "float32 for values, int64 for token ids",
                  choices=("float32", "int64"))),
              inputs=_NO_INPUT, key_params=("shape",)),
    LayerSpec("Output", "Inputs and outputs", "A model output (what forward returns)",
              outputs=_NO_OUTPUT),
    LayerSpec("Features", "Features", "Hand-made features of each sample's one number x or two numbers x1, x2 "
              "(x1², x1·x2, sin x1 ...), each switched on or off, as in TensorFlow Playground; a Linear layer after "
              "it fits a linear model of them ([1, x, x²] with its bias)",
              (*(_p(name, BOOL, name in ("x1", "x2"), doc) for name, doc in FEATURES),
               _p("frequency", FLOAT, 1.0, "ω of the sines, sin(ωx): 3 gives sin 3x", minimum=0.01, maximum=100.0)),
              input_ranks=(1,), input_words="one number x, or two numbers x1 and x2"),
    LayerSpec("Identity", "Shape", "Passes its input through unchanged"),
    # --- dense
    LayerSpec("Linear", "Dense", "Fully connected layer: y = xW^T + b",
              (_p("out_features", INT, 10, "Number of output units", minimum=1, maximum=1 << 24), _bias()),
              key_params=("out_features",)),
    # --- convolution
    LayerSpec("Conv1d", "Convolution", "1-D convolution over a channels x length signal", _conv(1),
              input_ranks=(2,), input_words=SIGNAL, key_params=("out_channels", "kernel_size")),
    LayerSpec("Conv2d", "Convolution", "2-D convolution over an image", _conv(2),
              input_ranks=(3,), input_words=IMAGE, key_params=("out_channels", "kernel_size", "stride")),
    LayerSpec("ConvTranspose2d", "Convolution", "Transposed 2-D convolution (learned upsampling)",
              _conv(2, transposed=True), input_ranks=(3,), input_words=IMAGE,
              key_params=("out_channels", "kernel_size", "stride")),
    LayerSpec("Conv3d", "Convolution", "3-D convolution over a volume or a video", _conv(3),
              input_ranks=(4,), input_words=VOLUME, key_params=("out_channels", "kernel_size", "stride")),
    LayerSpec("ConvTranspose1d", "Convolution", "Transposed 1-D convolution (learned upsampling of a signal)",
              _conv(1, transposed=True), input_ranks=(2,), input_words=SIGNAL,
              key_params=("out_channels", "kernel_size", "stride")),
    LayerSpec("ConvTranspose3d", "Convolution", "Transposed 3-D convolution (learned upsampling of a volume)",
              _conv(3, transposed=True), input_ranks=(4,), input_words=VOLUME,
              key_params=("out_channels", "kernel_size", "stride")),
    # --- pooling
    LayerSpec("MaxPool1d", "Pooling", "Maximum over sliding windows of a signal", _pool(1),
              input_ranks=(2,), input_words=SIGNAL, key_params=("kernel_size",)),
    LayerSpec("MaxPool2d", "Pooling", "Maximum over sliding windows of an image", _pool(2),
              input_ranks=(3,), input_words=IMAGE, key_params=("kernel_size",)),
    LayerSpec("AvgPool2d", "Pooling", "Average over sliding windows of an image", _pool(2, average=True),
              input_ranks=(3,), input_words=IMAGE, key_params=("kernel_size",)),
    LayerSpec("AdaptiveAvgPool2d", "Pooling", "Average pooling to a fixed output size",
              (_p("output_size", INTS, 1, "Output height and width", minimum=1, maximum=4096, length=2),),
              input_ranks=(3,), input_words=IMAGE, key_params=("output_size",)),
    LayerSpec("MaxPool3d", "Pooling", "Maximum over sliding windows of a volume", _pool(3),
              input_ranks=(4,), input_words=VOLUME, key_params=("kernel_size",)),
    LayerSpec("AvgPool3d", "Pooling", "Average over sliding windows of a volume", _pool(3, average=True),
              input_ranks=(4,), input_words=VOLUME, key_params=("kernel_size",)),
    LayerSpec("AdaptiveAvgPool1d", "Pooling", "Average pooling of a signal to a fixed length",
              (_p("output_size", INTS, 1, "Output length", minimum=1, maximum=1 << 20, length=1),),
              input_ranks=(2,), input_words=SIGNAL, key_params=("output_size",)),
    LayerSpec("AdaptiveAvgPool3d", "Pooling", "Average pooling of a volume to a fixed output size",
              (_p("output_size", INTS, 1, "Output depth, height and width", minimum=1, maximum=4096, length=3),),
              input_ranks=(4,), input_words=VOLUME, key_params=("output_size",)),
    # --- normalisation
    LayerSpec("Normalize", "Normalization",
              "Scales the input as (x - mean) / std, per channel of an image or per feature; training fills in "
              "its data set's statistics, so the model takes raw values wherever it goes",
              (_p("mean", FLOATS, [0.0], "One value, or one per channel (feature)", length=65536),
               _p("std", FLOATS, [1.0], "One value, or one per channel (feature); each above 0", minimum=1e-6,
                  length=65536)),
              key_params=("mean", "std")),
    LayerSpec("BatchNorm1d", "Normalization", "Batch normalisation of features or signals",
              (_NORM_EPS, _p("momentum", FLOAT, 0.1, "Running statistics update rate", minimum=0.0, maximum=1.0),
               _p("affine", BOOL, True, "Learn scale and shift")),
              input_ranks=(1, 2), input_words="features, or channels x length"),
    LayerSpec("BatchNorm2d", "Normalization", "Batch normalisation of image channels",
              (_NORM_EPS, _p("momentum", FLOAT, 0.1, "Running statistics update rate", minimum=0.0, maximum=1.0),
               _p("affine", BOOL, True, "Learn scale and shift")),
              input_ranks=(3,), input_words=IMAGE),
    LayerSpec("BatchNorm3d", "Normalization", "Batch normalisation of volume or video channels",
              (_NORM_EPS, _p("momentum", FLOAT, 0.1, "Running statistics update rate", minimum=0.0, maximum=1.0),
               _p("affine", BOOL, True, "Learn scale and shift")),
              input_ranks=(4,), input_words=VOLUME),
    LayerSpec("LayerNorm", "Normalization", "Normalises each sample over its last axis",
              (_NORM_EPS, _p("elementwise_affine", BOOL, True, "Learn scale and shift"))),
    LayerSpec("GroupNorm", "Normalization", "Normalises groups of channels",
              (_p("num_groups", INT, 4, "Number of channel groups", minimum=1, maximum=65536), _NORM_EPS,
               _p("affine", BOOL, True, "Learn scale and shift")),
              input_ranks=(2, 3, 4), input_words="channels x ...", key_params=("num_groups",)),
    LayerSpec("LocalResponseNorm", "Normalization", "Normalises across neighbouring channels (AlexNet)",
              (_p("size", INT, 5, "Neighbouring channels", minimum=1, maximum=1024),
               _p("alpha", FLOAT, 1e-4, "Scale"), _p("beta", FLOAT, 0.75, "Exponent"),
               _p("k", FLOAT, 1.0, "Additive constant")),
              input_ranks=(2, 3, 4), input_words="channels x ..."),
    # --- regularisation
    LayerSpec("Dropout", "Regularization", "Zeroes random elements while training",
              (_p("p", FLOAT, 0.5, "Probability of zeroing", minimum=0.0, maximum=1.0),), key_params=("p",)),
    LayerSpec("Dropout2d", "Regularization", "Zeroes whole random channels while training",
              (_p("p", FLOAT, 0.5, "Probability of zeroing a channel", minimum=0.0, maximum=1.0),),
              input_ranks=(3,), input_words=IMAGE, key_params=("p",)),
    LayerSpec("StochasticDepth", "Regularization",
              "Drops a residual branch at random while training (identity when evaluating)",
              (_p("p", FLOAT, 0.1, "Probability of dropping", minimum=0.0, maximum=1.0),
               _p("mode", CHOICE, "row", "Drop per sample (row) or the whole batch", choices=("row", "batch"))),
              key_params=("p",)),
    # --- activations
    LayerSpec("ReLU", "Activation", "max(0, x)"),
    LayerSpec("ReLU6", "Activation", "min(max(0, x), 6), as in MobileNet"),
    LayerSpec("LeakyReLU", "Activation", "x, or a small slope times x below zero",
              (_p("negative_slope", FLOAT, 0.01, "Slope below zero", minimum=0.0, maximum=1.0),)),
    LayerSpec("PReLU", "Activation", "LeakyReLU with a learned slope",
              (_p("num_parameters", INT, 1, "1, or one slope per channel", minimum=1, maximum=65536),
               _p("init", FLOAT, 0.25, "Initial slope"))),
    LayerSpec("ELU", "Activation", "Exponential linear unit",
              (_p("alpha", FLOAT, 1.0, "Saturation value below zero", minimum=0.0),)),
    LayerSpec("GELU", "Activation", "Gaussian error linear unit (Transformers)",
              (_p("approximate", CHOICE, "none", "Exact or tanh approximation", choices=("none", "tanh")),)),
    LayerSpec("SiLU", "Activation", "x * sigmoid(x), also called swish"),
    LayerSpec("Sigmoid", "Activation", "1 / (1 + exp(-x)), squashes to (0, 1)"),
    LayerSpec("Tanh", "Activation", "Hyperbolic tangent, squashes to (-1, 1)"),
    LayerSpec("Hardswish", "Activation", "x * relu6(x + 3) / 6, a cheap swish (MobileNetV3)"),
    LayerSpec("Hardsigmoid", "Activation", "relu6(x + 3) / 6, a cheap sigmoid (MobileNetV3)"),
    LayerSpec("Mish", "Activation", "x * tanh(softplus(x))"),
    LayerSpec("Softmax", "Activation", "Turns scores into probabilities along an axis",
              (_p("dim", INT, -1, "Axis, counting the batch axis as 0", minimum=-8, maximum=8),)),
    LayerSpec("LogSoftmax", "Activation", "Logarithm of Softmax (pair it with the NLL loss)",
              (_p("dim", INT, -1, "Axis, counting the batch axis as 0", minimum=-8, maximum=8),)),
    # --- shape
    LayerSpec("Flatten", "Shape", "Joins axes into one, e.g. a feature map into a vector",
              (_p("start_dim", INT, 1, "First axis to join, counting the batch axis as 0", minimum=-8, maximum=8),
               _p("end_dim", INT, -1, "Last axis to join", minimum=-8, maximum=8))),
    LayerSpec("Reshape", "Shape", "Gives each sample a new shape with the same number of values",
              (_p("shape", SHAPE, [-1], "New shape of one sample; one size may be -1",
                  allow_minus_one=True),), key_params=("shape",)),
    LayerSpec("Permute", "Shape", "Reorders the axes of each sample (0 = first axis after the batch)",
              (_p("dims", SHAPE, [1, 0], "New order of the sample's axes", minimum=0),),
              key_params=("dims",)),
    LayerSpec("Upsample", "Shape", "Enlarges an image by a scale factor",
              (_p("scale_factor", FLOAT, 2.0, "Size multiplier", minimum=0.01, maximum=64.0),
               _p("mode", CHOICE, "nearest", "Interpolation", choices=("nearest", "bilinear"))),
              input_ranks=(3,), input_words=IMAGE, key_params=("scale_factor",)),
    # --- merging branches
    LayerSpec("Add", "Merge", "Element-wise sum of its inputs (skip connections)", inputs=_MANY),
    LayerSpec("Multiply", "Merge", "Element-wise product of its inputs (gating)", inputs=_MANY),
    LayerSpec("Concat", "Merge", "Joins its inputs along an axis (inception, U-Net; DenseNet's first layer "
              "joins one)", (_p("dim", INT, 1, "Axis, counting the batch axis as 0 (1 = channels)",
                                minimum=-8, maximum=8),),
              inputs=(PortSpec("in", "One or more tensors", multiple=True),), key_params=("dim",)),
    # --- general operations
    LayerSpec(FUNCTION, "Operations", "One call of a torch function or tensor method, with literal arguments; "
              "x0, x1 ... are its input wires in order",
              (_p("op", OPERATION, "mul", "The operation"),
               _p("args", ARGS, [{"tensor": 0}, 2.0], "Arguments in order: numbers, lists, null, slices, "
                  "x0, x1 ... for the input wires, batch for the batch size"),
               _p("kwargs", KWARGS, {}, "Named arguments"),
               _p("outputs", INT, 1, "How many tensors the call returns (chunk, split, unbind)",
                  minimum=1, maximum=MAX_FUNCTION_OUTPUTS)),
              inputs=(PortSpec("in", "Tensors, numbered x0, x1 ... in wire order", multiple=True),),
              key_params=("op",)),
    LayerSpec("Parameter", "Operations", "A learned tensor of its own (a class token, a position embedding, "
              "a layer scale); it has no batch axis",
              (_p("shape", SHAPE, [1, 16], "Its whole shape"),
               _p("init", CHOICE, "normal", "Starting values: zeros, all 'value', or normal with std 'value'",
                  choices=("zeros", "constant", "normal")),
               _p("value", FLOAT, 0.02, "The constant, or the normal's standard deviation")),
              inputs=_NO_INPUT, key_params=("shape",)),
    LayerSpec("Constant", "Operations", "A fixed tensor (a buffer: saved with the weights, never learned); it has "
              "no batch axis",
              (_p("shape", SHAPE, [1, 16], "Its whole shape"),
               _p("dtype", CHOICE, "float32", "float32 for values, int64 for indices", choices=("float32", "int64")),
               _p("value", FLOAT, 0.0, "Every element's value until weights are loaded")),
              inputs=_NO_INPUT, key_params=("shape",)),
    # --- sequences
    LayerSpec("Embedding", "Embedding", "Looks up a learned vector for each integer token",
              (_p("num_embeddings", INT, 1000, "Vocabulary size", minimum=1, maximum=1 << 26),
               _p("embedding_dim", INT, 64, "Size of each vector", minimum=1, maximum=65536),
               _p("padding_idx", INT, None, "Token whose vector stays zero", minimum=0, optional=True)),
              key_params=("num_embeddings", "embedding_dim")),
    LayerSpec("RNN", "Recurrent", "Simple recurrent layer (batch first)", _recurrent(True),
              outputs=_RECURRENT_OUTPUTS, input_ranks=(2,), input_words=SEQUENCE, key_params=("hidden_size",)),
    LayerSpec("LSTM", "Recurrent", "Long short-term memory layer (batch first)", _recurrent(False),
              outputs=_RECURRENT_OUTPUTS, input_ranks=(2,), input_words=SEQUENCE, key_params=("hidden_size",)),
    LayerSpec("GRU", "Recurrent", "Gated recurrent unit layer (batch first)", _recurrent(False),
              outputs=_RECURRENT_OUTPUTS, input_ranks=(2,), input_words=SEQUENCE, key_params=("hidden_size",)),
    # --- attention
    LayerSpec("MultiheadAttention", "Attention", "Self-attention: every step attends to every step",
              (_p("num_heads", INT, 4, "Attention heads (must divide the feature size)", minimum=1, maximum=1024),
               _p("dropout", FLOAT, 0.0, "Dropout on attention weights", minimum=0.0, maximum=1.0), _bias()),
              input_ranks=(2,), input_words=SEQUENCE, key_params=("num_heads",)),
    LayerSpec("TransformerEncoderLayer", "Attention", "Self-attention and a feed-forward block, with residuals",
              _transformer_layer(), input_ranks=(2,), input_words=SEQUENCE, key_params=("nhead", "dim_feedforward")),
    LayerSpec("TransformerDecoderLayer", "Attention",
              "Self-attention, attention to a memory (an encoder's output) and a feed-forward block, with residuals",
              _transformer_layer(),
              inputs=(PortSpec("in", "The target sequence: sequence length x features"),
                      PortSpec("memory", "The sequence it attends to: memory length x the same features")),
              input_ranks=(2,), input_words=SEQUENCE, key_params=("nhead", "dim_feedforward")),
]

CATALOG: dict[str, LayerSpec] = {spec.type: spec for spec in _SPECS}

def spec_of(type_name: str) -> LayerSpec:
    """The spec of a catalog type; KeyError with the known types listed if there is none."""
    try:
        return CATALOG[type_name]
    except KeyError:
        raise KeyError(f"unknown layer type '{type_name}'") from None


@cache
def function_spec(outputs: int) -> LayerSpec:
    """A Function node's spec: ``out``, or ``out1`` ... ``outN`` for a call that returns N tensors."""
    outputs = min(max(outputs, 1), MAX_FUNCTION_OUTPUTS)
    ports = (PortSpec("out"),) if outputs == 1 else tuple(PortSpec(f"out{i + 1}") for i in range(outputs))
    return dataclasses.replace(CATALOG[FUNCTION], outputs=ports)


def feature_labels(params: dict, numbers: int) -> list[str]:
    """What each output of a Features node is, in order: ``["x", "x²", "sin 3x"]`` for one number
    in, ``["x1", "x2", "x1·x2"]`` for two."""
    w = params.get("frequency", 1.0)
    omega = "" if w == 1 else f"{w:g}"
    names = {"x1": "x1", "x2": "x2", "x1_squared": "x1²", "x2_squared": "x2²", "x1_times_x2": "x1·x2",
             "sin_x1": f"sin {omega}x1", "sin_x2": f"sin {omega}x2"}
    labels = [names[name] for name, _ in FEATURES if params.get(name, name in ("x1", "x2"))]
    return [label.replace("x1", "x") for label in labels] if numbers == 1 else labels


def categories() -> dict[str, list[LayerSpec]]:
    """Catalog types grouped by category, in catalog order (for the palette)."""
    groups: dict[str, list[LayerSpec]] = {}
    for spec in _SPECS:
        groups.setdefault(spec.category, []).append(spec)
    return groups
