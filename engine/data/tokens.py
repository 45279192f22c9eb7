"""Text as tokens, one way for every word-level data set and view: words are runs of letters and
apostrophes, lowercased; skip-gram pairs are every word with each word at most ``window`` words
away on either side, in text order."""

from __future__ import annotations

import re

import torch

PAD = "<pad>"               # fills a sentence up to the sequence length; token 0
UNKNOWN = "<unk>"           # a word the vocabulary does not hold; token 1
_WORD = re.compile(r"[a-z']+")


def words(text: str) -> list[str]:
    """'The wide road shimmered in the hot sun.' -> ['the', 'wide', 'road', 'shimmered', ...]"""
    return _WORD.findall(text.lower())


def skipgram_positions(count: int, window: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Positions (centre, context) of the skip-gram pairs of ``count`` words: for each word in
    order, the words from ``window`` before it to ``window`` after it, itself left out, in order.
    word2vec's window is the number of words on each side."""
    reach = max(0, min(window, count - 1))
    offsets = torch.cat([torch.arange(-reach, 0), torch.arange(1, reach + 1)])
    centre = torch.arange(count).unsqueeze(1).expand(-1, len(offsets))
    context = centre + offsets
    inside = (context >= 0) & (context < count)
    return centre[inside], context[inside]


def skipgram_pairs(text: str, window: int) -> list[tuple[str, str]]:
    """The (centre, context) word pairs of a sentence as the skip-gram data set makes them."""
    found = words(text)
    centre, context = skipgram_positions(len(found), window)
    return [(found[i], found[j]) for i, j in zip(centre.tolist(), context.tolist())]


def encode_words(found: list[str], index: dict[str, int], length: int) -> list[int]:
    """A sentence's words as ``length`` tokens: its first ``length`` words, unknown ones as
    UNKNOWN, padded with PAD in front, so that its last word is the last step a recurrent layer
    reads (its final state then follows the words, not the padding)."""
    codes = [index.get(w, index[UNKNOWN]) for w in found[:length]]
    return [index[PAD]] * (length - len(codes)) + codes
