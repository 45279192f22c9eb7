"""Looking inside a trained network on request: what a channel responds to, what drove a
prediction, feature spaces, embeddings, attention, style transfer, recurrent layers unrolled over
time. Every function takes a compiled model (``engine.compile_graph``) and plain tensors, and
returns numpy arrays or small dataclasses: the training worker, a background thread of the
window and the tests all call the same code."""

from . import style
from .attention import AttentionWeights, attention_weights
from .attribution import grad_cam, grad_cam_layer, occlusion, saliency
from .channels import ChannelImages, maximise_channels
from .embeddings import EmbeddingVectors, analogy, embedding_vectors, nearest
from .feature_space import MAX_POINTS, Projection, layer_features, pca, separation, tsne
from .layer_values import InsightError, Recorder, classifier_features, feature_layers, nodes_of_type
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
    "MAX_POINTS", "AttentionWeights", "ChannelImages", "EmbeddingVectors", "InsightError", "Projection", "Recorder",
    "attention_weights", "classifier_features", "embedding_vectors", "feature_layers", "grad_cam", "grad_cam_layer",
    "layer_features", "maximise_channels", "nearest", "nodes_of_type", "occlusion", "pca", "saliency", "separation",
    "style", "tsne",
    "GATES", "RECURRENT_TYPES", "StepGradients", "UnrolledSteps", "step_gradients", "unroll",
    "DRAWING", "MAX_GENERATED", "PROMPT", "TEXT", "GeneratedToken", "Tokens", "analogy", "class_probabilities",
    "generate", "next_token_probabilities", "predict_kind", "tokenize",
]
