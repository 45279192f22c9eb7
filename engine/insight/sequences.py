"""Predict for sequences: what a language model expects next after a typed prompt, text it
writes token by token, and what a sequence classifier makes of typed text.

A language model here reads a fixed window of tokens (its Input's sequence length) and scores
the next token at every step; generating text slides that window along what it has written, as
it was trained on windows of the text. Which of these a data set calls for is ``predict_kind``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import fx

from ..data import CLASSIFICATION, DataSet
from ..data.tokens import PAD, UNKNOWN, encode_words, words
from .layer_values import InsightError

PROMPT = "prompt"            # a language model: next-token probabilities and generated text
TEXT = "text"                # a classifier of token sequences: class probabilities of typed text
DRAWING = "drawing"          # a classifier of images: a drawing pad
MAX_GENERATED = 2000         # tokens one generation may write
MAX_TEMPERATURE = 100.0
MAX_PROMPT = 10_000          # characters of typed text read


@dataclass(frozen=True)
class Tokens:
    """Typed text as a model's tokens."""
    codes: tuple[int, ...]
    pieces: tuple[str, ...]          # the characters or words read, one per code (before padding)
    unknown: tuple[str, ...] = ()    # words the vocabulary lacks, read as UNKNOWN (each once, in order)


@dataclass(frozen=True)
class GeneratedToken:
    code: int
    text: str                        # the token as written: a character, or a word
    probability: float               # its probability in the distribution it was drawn from (greedy: the model's)


def predict_kind(data: DataSet) -> str:
    """What Predict offers for a model trained on ``data``: PROMPT, TEXT, DRAWING or "" (only
    validation samples)."""
    if data.task != CLASSIFICATION:
        return ""
    if data.kind == "text" and data.extra.get("unit") in ("chars", "words"):
        return PROMPT if data.target_shape == data.input_shape else TEXT
    return DRAWING if data.kind == "image" else ""


def tokenize(text: str, vocabulary: Sequence[str], unit: str, length: int | None = None) -> Tokens:
    """``text`` as tokens of ``vocabulary`` (characters for ``unit="chars"``, lowercased words for
    ``"words"``). An unknown word is read as UNKNOWN where the vocabulary has it; any other
    unknown character or word is refused by name. ``length``: exactly that many tokens, as the
    data set makes them (the first ``length`` words, PAD in front)."""
    if len(text) > MAX_PROMPT:
        raise InsightError(f"the text is {len(text):,} characters long; at most {MAX_PROMPT:,} are read")
    index = {token: i for i, token in enumerate(vocabulary)}
    if unit == "chars":
        pieces = list(text)
    elif unit == "words":
        pieces = words(text)
    else:
        raise InsightError(f"text is read as chars or words, not {unit!r}")
    unknown = list(dict.fromkeys(p for p in pieces if p not in index))
    if unknown and (unit == "chars" or UNKNOWN not in index):
        shown = ", ".join(repr(p) for p in unknown[:10]) + (" ..." if len(unknown) > 10 else "")
        what = "characters" if unit == "chars" else "words"
        known = f": {''.join(vocabulary)!r}" if unit == "chars" and len(vocabulary) <= 100 else ""
        raise InsightError(f"the model never saw these {what}: {shown}; it knows {len(vocabulary)} {what}{known}")
    if length is None:
        return Tokens(tuple(index.get(p, index.get(UNKNOWN, -1)) for p in pieces), tuple(pieces), tuple(unknown))
    if unit != "words" or PAD not in index:
        raise InsightError("only word tokens are padded to a length (the vocabulary needs <pad> and <unk>)")
    return Tokens(tuple(encode_words(pieces, index, length)), tuple(pieces[:length]), tuple(unknown))


def _scores(model: fx.GraphModule, codes: Sequence[int]) -> torch.Tensor:
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(torch.tensor([list(codes)], dtype=torch.int64, device=device))
    finally:
        model.train(was_training)
    if isinstance(out, tuple):
        out = out[0]
    return out[0].double().cpu()


def next_token_probabilities(model: fx.GraphModule, codes: Sequence[int], window: int) -> np.ndarray:
    """The probability of every token of the vocabulary coming next after ``codes`` (the last
    ``window`` of them are read)."""
    if not codes:
        raise InsightError("type at least one token for the model to go on from")
    scores = _scores(model, list(codes)[-window:])
    if scores.dim() != 2:
        raise InsightError("this model does not score a next token at every step; it is no language model")
    return torch.softmax(scores[-1], dim=0).numpy()


def generate(model: fx.GraphModule, codes: Sequence[int], vocabulary: Sequence[str], length: int,
             temperature: float = 1.0, seed: int = 0, window: int = 32) -> Iterator[GeneratedToken]:
    """Text after the prompt ``codes``, one token at a time: each is drawn from the model's
    next-token probabilities with their scores divided by ``temperature`` (below 1 the likely
    tokens gain, above 1 the distribution flattens; 0 takes the most likely token: greedy
    decoding), from a generator seeded with ``seed``. A generator: stop reading it to stop."""
    if not 1 <= length <= MAX_GENERATED:
        raise InsightError(f"the length must be between 1 and {MAX_GENERATED}, not {length}")
    if not 0 <= temperature <= MAX_TEMPERATURE:
        raise InsightError(f"the temperature must be between 0 and {MAX_TEMPERATURE:g}, not {temperature}")
    if window < 1:
        raise InsightError(f"the window must be at least 1 token, not {window}")
    context = list(codes)
    draw = torch.Generator().manual_seed(seed)
    for _ in range(length):
        probabilities = next_token_probabilities(model, context, window)
        if temperature == 0:
            code = int(np.argmax(probabilities))
            chance = float(probabilities[code])     # how sure the model was, rather than a certain 1
        else:
            scaled = torch.softmax(torch.log(torch.from_numpy(probabilities).clamp_min(1e-300)) / temperature, dim=0)
            code = int(torch.multinomial(scaled, 1, generator=draw))
            chance = float(scaled[code])
        context.append(code)
        yield GeneratedToken(code, vocabulary[code] if code < len(vocabulary) else str(code), chance)


def class_probabilities(model: fx.GraphModule, codes: Sequence[int]) -> np.ndarray:
    """A sequence classifier's probability of each class for one sequence of tokens."""
    scores = _scores(model, codes)
    if scores.dim() != 1:
        raise InsightError("this model gives a score per step, not one per sequence; it is no sequence classifier")
    return torch.softmax(scores, dim=0).numpy()
