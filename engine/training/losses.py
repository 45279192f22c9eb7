"""The losses a run minimises, as plain functions of the model's output and the targets, so that
the training loop and the views that need a sample's loss (gradients through time) compute it
alike."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F


class NegativeSampling:
    """word2vec's negative sampling (Mikolov et al. 2013): instead of a softmax over the whole
    vocabulary, the true word's score is pushed up through a sigmoid and the scores of ``k``
    words drawn at random are pushed down:

        L = -log sigmoid(s_true) - sum over k drawn words w of log sigmoid(-s_w)

    Words are drawn from the training targets' counts raised to the power 3/4, as word2vec
    does, from torch's global random state (so a resumed run draws as an uninterrupted one).
    The model still computes every word's score; only the objective is negative sampling's."""

    def __init__(self, targets: torch.Tensor, classes: int, k: int) -> None:
        counts = torch.bincount(targets.reshape(-1), minlength=classes).float()
        self.weights = counts.pow(0.75)
        self.k = k

    def __call__(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        scores, y = out.reshape(-1, out.shape[-1]), y.reshape(-1)
        drawn = torch.multinomial(self.weights, len(y) * self.k, replacement=True).reshape(len(y), self.k)
        true = scores.gather(1, y.unsqueeze(1)).squeeze(1)
        return -(F.logsigmoid(true) + F.logsigmoid(-scores.gather(1, drawn)).sum(dim=1)).mean()


def loss_value(loss: str, out: torch.Tensor, y: torch.Tensor,
               negative_sampling: NegativeSampling | None = None) -> torch.Tensor:
    """The named loss (``config.LOSSES``) of ``out`` against ``y``; class losses read the last
    axis as the classes, so a sequence's every step is a sample."""
    out = out.float()
    fn: Callable[..., torch.Tensor]
    if loss == "negative_sampling":
        if negative_sampling is None:
            raise ValueError("the negative_sampling loss needs the training targets' word counts")
        return negative_sampling(out, y)
    if loss in ("cross_entropy", "nll"):
        fn = F.cross_entropy if loss == "cross_entropy" else F.nll_loss
        return fn(out.reshape(-1, out.shape[-1]), y.reshape(-1))
    if loss == "bce_with_logits":
        return F.binary_cross_entropy_with_logits(out, binary_targets(out, y))
    fn = F.mse_loss if loss == "mse" else F.l1_loss
    return fn(out, y.float())


def sample_objective(loss: str, y: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """The loss of a model's output against the targets ``y`` of a few samples, as the views
    measure it (gradients through time): the run's loss, except that negative sampling, whose
    draws would take from the random state training uses, is measured as the cross-entropy of
    the same scores."""
    name = "cross_entropy" if loss == "negative_sampling" else loss
    return lambda out: loss_value(name, out, y)


def binary_targets(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if y.is_floating_point():
        return y.reshape(out.shape)
    if out.shape[-1] == 1:
        return y.float().reshape(out.shape)
    return F.one_hot(y, out.shape[-1]).float()
