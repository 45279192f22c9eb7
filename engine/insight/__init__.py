"""Looking inside a trained network on request: what a channel responds to, what drove a
prediction, feature spaces, embeddings, attention, style transfer, recurrent layers unrolled over
time; and the numbers the lecture notes compute: convolution and pooling step by step, activation
functions with their slopes. Every function takes a compiled model (``engine.compile_graph``) and
plain tensors, and returns numpy arrays or small dataclasses: the training worker, a background
thread of the window and the tests all call the same code."""

from . import style
from .activations import ACTIVATIONS, ActivationCurve, activation_curve
from .attention import AttentionWeights, attention_weights
from .attribution import grad_cam, grad_cam_layer, occlusion, saliency
from .channels import ChannelImages, maximise_channels
from .conv_steps import (
    AVG,
    CONV,
    KERNEL_PRESETS,
    MAX,
    WORKED_EXAMPLES,
    OutputSize,
    SlidingWindow,
    StepCell,
    WindowSteps,
    WireCheck,
    WorkedExample,
    convolution_steps,
    layer_input,
    layer_kernel,
    layer_window,
    output_sizes,
    parse_grid,
    pooling_steps,
    preset_kernel,
    window_steps,
    wire_check,
)
from .embeddings import EmbeddingVectors, analogy, embedding_vectors, nearest
from .feature_space import MAX_POINTS, Projection, layer_features, pca, separation, tsne
from .landscape import (
    MAX_PARAMETERS,
    PATHS,
    RANDOM,
    Landscape,
    Plane,
    check_size,
    filter_normalised_direction,
    flat_weights,
    grid_around,
    loss_surface,
    path_plane,
    project,
    random_plane,
    thinned,
)
from .layer_values import (
    InsightError,
    Recorder,
    classifier_features,
    feature_layers,
    layer_parameters,
    module_of,
    nodes_of_type,
)
from .plane_views import (
    MAX_UNITS,
    MAX_WIRES,
    NEURON_RESOLUTION,
    InputPlane,
    NeuronLayer,
    input_line,
    input_plane,
    neuron_pictures,
    predictions_over,
)
from .recurrent import GATES, RECURRENT_TYPES, StepGradients, UnrolledSteps, step_gradients, unroll
from .sequences import (
    DRAWING,
    MAX_GENERATED,
    PROMPT,
    TEXT,
    GeneratedToken,
    Tokens,
    class_probabilities,
    generate,
    next_token_probabilities,
    predict_kind,
    tokenize,
)

__all__ = [
    "ACTIVATIONS", "AVG", "CONV", "KERNEL_PRESETS", "MAX", "WORKED_EXAMPLES", "ActivationCurve", "OutputSize",
    "SlidingWindow", "StepCell", "WindowSteps", "WireCheck", "WorkedExample", "activation_curve", "convolution_steps",
    "layer_input", "layer_kernel", "layer_window", "output_sizes", "parse_grid", "pooling_steps", "preset_kernel",
    "window_steps", "wire_check",
    "MAX_PARAMETERS", "MAX_UNITS", "MAX_WIRES", "NEURON_RESOLUTION", "PATHS", "RANDOM", "InputPlane", "Landscape",
    "NeuronLayer", "Plane", "check_size", "filter_normalised_direction", "flat_weights", "grid_around", "input_line",
    "input_plane", "loss_surface", "neuron_pictures", "path_plane", "predictions_over", "project", "random_plane",
    "thinned", "layer_parameters", "module_of",
    "MAX_POINTS", "AttentionWeights", "ChannelImages", "EmbeddingVectors", "InsightError", "Projection", "Recorder",
    "attention_weights", "classifier_features", "embedding_vectors", "feature_layers", "grad_cam", "grad_cam_layer",
    "layer_features", "maximise_channels", "nearest", "nodes_of_type", "occlusion", "pca", "saliency", "separation",
    "style", "tsne",
    "GATES", "RECURRENT_TYPES", "StepGradients", "UnrolledSteps", "step_gradients", "unroll",
    "DRAWING", "MAX_GENERATED", "PROMPT", "TEXT", "GeneratedToken", "Tokens", "analogy", "class_probabilities",
    "generate", "next_token_probabilities", "predict_kind", "tokenize",
]
