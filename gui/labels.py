"""Human labels for the settings a form shows: "Output channels" for ``out_channels``, "Learning
rate" for ``lr``. The form says the label; the tooltip keeps the name torch (and the file) uses, so
that a person who knows torch can still find the argument they mean."""

from __future__ import annotations

import html

# Names whose words alone do not say what they are (abbreviations, torch's own terms).
LABELS = {
    "out_channels": "Output channels", "in_channels": "Input channels", "out_features": "Output features",
    "in_features": "Input features", "kernel_size": "Kernel size", "ceil_mode": "Round sizes up",
    "count_include_pad": "Count padding in the mean", "start_dim": "First axis", "end_dim": "Last axis",
    "dim": "Axis", "dims": "Axes", "dtype": "Number type", "p": "Drop probability", "eps": "Epsilon",
    "num_features": "Features", "num_groups": "Groups", "num_channels": "Channels", "num_heads": "Attention heads",
    "nhead": "Attention heads", "embed_dim": "Embedding size", "dim_feedforward": "Feed-forward size",
    "num_layers": "Layers", "hidden_size": "Hidden size", "input_size": "Input size", "batch_first": "Batch first",
    "num_embeddings": "Vocabulary size", "embedding_dim": "Embedding size", "negative_slope": "Negative slope",
    "num_parameters": "Parameters", "op": "Operation", "args": "Arguments", "kwargs": "Keyword arguments",
    "scale_factor": "Scale factor", "output_size": "Output size", "elementwise_affine": "Learned scale and shift",
    "affine": "Learned scale and shift", "track_running_stats": "Keep running statistics", "alpha": "Alpha",
    "beta": "Beta", "k": "k", "size": "Size", "bidirectional": "Both directions", "repeat": "Repeat",
    # training settings
    "dataset": "Data set", "dataset_options": "Data set options", "batch_size": "Batch size",
    "reconstruct": "Reconstruct the input", "lr": "Learning rate", "clip_grad_norm": "Clip gradient norm at",
    "weight_decay": "Weight decay", "early_stopping": "Stop early after (epochs)", "step_size": "Decay every (epochs)",
    "gamma": "Decay factor", "amp": "Mixed precision", "compile": "Compile the model",
    "checkpoint_dir": "Checkpoint folder", "checkpoint_every": "Checkpoint every (epochs)", "probes": "Record probes",
    "log_every": "Loss point every (steps)", "probe_every": "Probe every (steps)", "probe_sample": "Sample shown",
    "init_std": "Initial weights' spread", "init": "Initial weights", "l1": "L1 penalty",
    "lstm_forget_bias": "LSTM forget-gate bias", "truncate_bptt": "Truncate backpropagation at (steps)",
    "negative_samples": "Negative samples", "update_frozen_batchnorm": "Update frozen batch norms",
    "start_from": "Start from weights", "normalize": "Normalise inputs", "augment": "Augmentation",
    "landscape": "Loss landscape",
}


def human_label(name: str) -> str:
    """What a form calls a setting: its entry above, else its words ("max_norm" -> "Max norm")."""
    if name in LABELS:
        return LABELS[name]
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else name


def named_tooltip(name: str, text: str) -> str:
    """A field's tooltip: what it does, and the name torch and the graph file use."""
    said = f"Name in torch and in the file: <code>{html.escape(name)}</code>"
    return f"{html.escape(text, quote=False)}<br>{said}" if text else said
