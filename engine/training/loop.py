"""``train(graph, config, control)``: a plain generator of training messages.

The data set lives on the training device and is batched by indexing. The step itself never
waits for the device: losses are kept on device and read every ``log_every`` steps, probes run
every ``probe_every`` steps. Faults end the run with a ``Failed`` message, never an exception:
a NaN loss, or one that grew by orders of magnitude (``divergence.py``), names its step and
leaves the checkpoints as they were.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Iterator

import torch
from torch import nn

from graphs import Graph, dumps_graph, loads_graph

from ..checking import check
from ..compiling import compile_graph
from ..data import (
    CLASSIFICATION,
    REGRESSION,
    DataError,
    DataSet,
    describe_statistics,
    input_normalizer,
    load_dataset,
    statistics_edit,
)
from ..data.normalization import pixel_statistics
from ..insight import InsightError, check_size, flat_weights
from ..interop import WeightsError, load_start_weights, read_start_weights
from ..words import first_line
from . import probes
from .checkpoint import CheckpointError, check_state_schema, ensure_writable, load_checkpoint, save_checkpoint
from .config import ConfigError, TrainingConfig
from .control import Control
from .data_view import (
    SHOWN,
    describe,
    epoch_order,
    input_statistics,
    pictures,
    prepared_data,
    run_augmentation,
    statistics_source,
)
from .devices import describe_device, resolve_device
from .distributed import Distributed
from .divergence import DivergenceWatch
from .faults import locate_failure
from .freezing import GROUP_FACTOR, describe_layout, freeze, group_layout, parameter_groups
from .initialisation import initialise, l1_penalty, layer_weights
from .losses import NegativeSampling, binary_targets, loss_value
from .messages import (
    CheckpointSaved,
    ConfusionMatrix,
    EpochMetrics,
    Failed,
    Finished,
    GradientClipping,
    RunStarted,
    StartWeights,
    StepMetrics,
    TrainingBatch,
)
from .path import WeightRecorder
from .recurrent import open_forget_gates, truncate_recurrent
from .resume import apply_learning_rate, resume_changes, settings_since

PROBE_BATCH = 256
LANDSCAPE_SAMPLES = 512        # training samples a loss landscape is measured on
# Learning rates each optimizer commonly trains with (torch's defaults, SGD's usual one), for advice.
TYPICAL_LR = {"sgd": 0.01, "adam": 0.001, "adamw": 0.001, "rmsprop": 0.01, "adagrad": 0.01, "adadelta": 1.0}
RECONSTRUCTIONS_SHOWN, PREDICTIONS_SHOWN = 8, 500     # validation samples the dashboard shows


class _Stop(Exception):
    """Ends the run early with its final messages."""

    def __init__(self, *messages) -> None:
        self.messages = messages


def train(graph: Graph, config: TrainingConfig | None = None, control: Control | None = None,
          dataset: DataSet | None = None, resume: str | None = None, allow_download: bool = False,
          graph_folder: str | None = None) -> Iterator:
    """Train ``graph``; yields messages (see ``messages.py``) and ends with Finished or Failed.
    ``allow_download``: the person agreed that a data set the settings mark ``download`` may be
    fetched into the folder they name. ``graph_folder``: the folder of the graph's file, which
    the start weights' path is relative to (None: the current folder)."""
    try:
        dist = Distributed.from_environment()
    except Exception as err:     # torchrun's environment names a group that cannot be joined
        yield Failed(f"could not join the other training processes: {type(err).__name__}: {first_line(err)}")
        return
    outcome = _set_up(graph, config, control, dataset, resume, allow_download, graph_folder, dist)
    own = None if isinstance(outcome, _Run) else outcome[-1].reason
    # Under torchrun every process learns whether any could not start, before the first collective
    # (DDP's weight broadcast) would leave the others waiting on one that has gone.
    failure = dist.first_failure(own)
    if isinstance(outcome, _Run):
        if failure is None:
            yield from outcome.messages()
            return
        rank, reason = failure      # ready here, but another process is not
        outcome = [Failed(f"training process {rank} could not start, so none does: {reason}")]
    yield from outcome
    dist.finish()


def _set_up(graph, config, control, dataset, resume, allow_download, graph_folder, dist) -> _Run | list:
    """The run, ready to start; or the messages, ending with Failed, that say why it cannot."""
    try:
        config = config or TrainingConfig.from_file(graph.training)
        return _Run(graph, config, control or Control(), dataset, resume, allow_download, graph_folder, dist)
    except _Stop as stop:
        return list(stop.messages)
    except WeightsError as err:
        return [Failed(f"cannot start from the weights the settings name: {err}")]
    except (ConfigError, DataError, CheckpointError) as err:
        return [Failed(str(err))]
    except torch.OutOfMemoryError:
        return [Failed("out of memory while setting up the run (the data set and model do not fit on the "
                       "device): try device cpu or a smaller model")]
    except Exception as err:   # whatever else breaks while setting up: a message, never a crash
        return [Failed(f"training could not start: {type(err).__name__}: {first_line(err)}")]


class _Run:
    def __init__(self, graph, config, control, dataset, resume, allow_download, graph_folder, dist) -> None:
        """Everything that may fail on one process alone, with no collective: the processes agree
        on whether all could set up before DDP's first broadcast (``_spread``)."""
        self.config, self.control, self.dist = config, control, dist
        report = check(graph)
        if not report.ok:
            raise _Stop(Failed(f"the graph has errors; fix them before training: {report.errors[0].message}",
                               node=report.errors[0].node, diagnostics=tuple(d.message for d in report.errors)))
        data = dataset if dataset is not None else load_dataset(config.dataset, allow_download,
                                                                 **config.dataset_options)
        self.graph = graph = self._scaled_inputs(graph, data)
        report = check(graph, data, config.loss, config.reconstruct)
        if not report.ok:
            raise _Stop(Failed(f"the graph does not fit the {data.name} data set: {report.errors[0].message}",
                               node=report.errors[0].node, diagnostics=tuple(d.message for d in report.errors)))
        self.device = self.dist.device_for(resolve_device(config.device))
        torch.manual_seed(config.seed)
        model = compile_graph(graph, report)
        self.frozen_parameters = freeze(model, graph, config.update_frozen_batchnorm)
        initialise(model, config.init, config.init_std)     # the start weights then replace what they hold
        if config.lstm_forget_bias:
            open_forget_gates(model, config.lstm_forget_bias)
        # A resumed run's weights come from its checkpoint; a new one's from the start weights, if any.
        self.start = self._start_weights(model, graph_folder) if config.start_from and not resume else None
        if config.truncate_bptt:
            truncate_recurrent(model, config.truncate_bptt)
        self.model = model.to(self.device)
        self.data = prepared_data(data, config, graph).to(self.device)
        self.augmentation = run_augmentation(self.data, config)
        self.pixel_statistics = pixel_statistics(self.data)
        self.negative_sampling = (NegativeSampling(self.data.y_train, data.num_classes, config.negative_samples)
                                  if config.loss == "negative_sampling" else None)
        self.clip_norms: list[torch.Tensor] = []      # gradient norms before clipping, since the last report
        self.cuda = self.device.type == "cuda"
        if self.cuda and data.kind == "image":
            self.model = self.model.to(memory_format=torch.channels_last)
        self.forward_model: nn.Module = self.model
        self.optimizer = _optimizer(self.model, graph, config)
        n_train = len(self.dist.shard(torch.arange(len(data.x_train)), equal=True))
        self.steps_per_epoch = math.ceil(n_train / config.batch_size)
        self.scheduler = _scheduler(self.optimizer, config, self.steps_per_epoch)
        self.scaler = torch.amp.GradScaler("cuda", enabled=config.amp and self.cuda)
        self.augment_generator = torch.Generator(device=self.device).manual_seed(config.seed + 1)
        self.weighted_layers = probes.layers_with_weights(self.model)
        self.l1_weights = [w for _, _, w in layer_weights(self.model)] if config.l1 else []
        self.epoch_penalty = [0.0, 0]          # the L1 terms reported this epoch: sum, reports
        self.epoch = self.step = self.batch_in_epoch = 0
        self.epoch_sums = [0.0, 0.0, 0.0]      # loss sum, correct, samples of the epoch so far
        self.best_val_loss, self.bad_epochs = float("inf"), 0
        self.divergence = DivergenceWatch()      # from the first loss this process sees (a resume starts afresh)
        self.last_val: tuple[float | None, float | None] = (None, None)
        self.run_id = uuid.uuid4().hex[:12]
        self.started = time.perf_counter()      # set again when the first message goes out
        self.notes: tuple[str, ...] = ()
        if config.checkpoint_dir and self.dist.is_main:
            ensure_writable(config.checkpoint_dir)
        if resume:
            self._restore(load_checkpoint(resume))
        self.path: WeightRecorder | None = None
        if config.landscape:
            try:
                check_size(self.model)
                self.path = WeightRecorder(max(1, config.log_every))
            except InsightError as err:
                self.notes += (f"no loss landscape: {err}",)

    def _scaled_inputs(self, graph: Graph, data: DataSet) -> Graph:
        """The graph to train: a graph that normalises its input itself gets the statistics the
        settings choose in its Normalize node (a copy: the caller's graph is left as it was; the
        window has made the same edit already). Says how the inputs are scaled."""
        found, node = input_statistics(data, self.config), input_normalizer(graph)
        self.input_scaling = ""
        if node is None:
            if found is not None:
                self.input_scaling = (f"the inputs are normalised with {statistics_source(data, self.config)} before "
                                      "the model, so the trained model expects normalised inputs (a Normalize step "
                                      "after the Input would carry the statistics into it)")
            return graph
        if found is None:
            return graph
        self.input_scaling = describe_statistics(node, found, statistics_source(data, self.config))
        edit = statistics_edit(graph, found)
        if edit is None:
            return graph
        graph = loads_graph(dumps_graph(graph), "<training>")     # a copy: the caller's graph stays as it was
        graph.apply(edit)
        return graph

    def _start_weights(self, model: nn.Module, graph_folder: str | None) -> StartWeights:
        weights = read_start_weights(self.config.start_from, graph_folder)
        fit = load_start_weights(model, self.graph, weights)
        return StartWeights(str(weights.path), self.config.start_from.get("source", ""), len(fit.loaded), fit.replaced,
                            tuple(str(m) for m in fit.mismatches), fit.summary())

    def _spread(self) -> None:
        """The model every step calls: wrapped by DDP across processes, compiled where asked."""
        if self.dist.active:
            from torch.nn.parallel import DistributedDataParallel
            ids = [self.device.index] if self.cuda else None
            self.forward_model = DistributedDataParallel(self.model, device_ids=ids)
        if self.config.compile and self.cuda:
            self.forward_model = torch.compile(self.forward_model)  # type: ignore[assignment]

    # ------------------------------------------------------------------ the run
    def messages(self) -> Iterator:
        config, data = self.config, self.data
        try:
            self._spread()
            self.started = time.perf_counter()      # the run's one clock: every message's elapsed_s counts from here
            yield RunStarted(describe_device(self.device), sum(p.numel() for p in self.model.parameters()),
                             len(data.x_train), len(data.x_val), self.steps_per_epoch, config.epochs, data.name,
                             tuple(data.class_names), self.epoch, self.dist.world_size, self.run_id, self.notes,
                             self.frozen_parameters, input_scaling=self.input_scaling)
            if self.start is not None:
                yield self.start
            if self.path is not None:
                self.path.record(self.step, flat_weights(self.model))
            while self.epoch < config.epochs:
                yield from self._train_epoch()
                self.epoch += 1
                self.batch_in_epoch = 0
                val_loss, val_acc, confusion = self._validate()
                train_loss, correct, seen = self.epoch_sums
                self.epoch_sums = [0.0, 0.0, 0.0]
                penalty = self.epoch_penalty[0] / self.epoch_penalty[1] if self.epoch_penalty[1] else None
                self.epoch_penalty = [0.0, 0]
                self.last_val = (val_loss, val_acc)
                yield EpochMetrics(self.epoch, self.step, train_loss / max(seen, 1),
                                   correct / seen if self._has_accuracy and seen else None, val_loss, val_acc,
                                   self._elapsed(), penalty)
                if confusion is not None:
                    yield ConfusionMatrix(self.epoch, confusion, tuple(data.class_names))
                if config.probes:
                    yield from self._epoch_probes()
                if self.path is not None and self.dist.is_main:     # asked for by its own setting
                    x, y = self._landscape_data()
                    yield probes.loss_landscape(self.epoch, self.model, x, y, self._loss, self.path.points, config.seed)
                self._schedule_epoch(val_loss)
                improved = val_loss < self.best_val_loss
                if improved:
                    self.best_val_loss, self.bad_epochs = val_loss, 0
                else:
                    self.bad_epochs += 1
                if config.checkpoint_dir and self.epoch % config.checkpoint_every == 0:
                    yield self._save("last")
                if config.checkpoint_dir and improved:
                    yield self._save("best")
                if config.early_stopping and self.bad_epochs >= config.early_stopping:
                    yield from self._ending("early stopping")
                    return
            yield from self._ending("completed")
        except _Stop as stop:
            yield from stop.messages
        except CheckpointError as err:
            yield Failed(f"{err}. Training stopped at step {self.step}.", step=self.step)
        except probes.NonFiniteWeights as err:
            yield Failed(f"the weights of {err.layer} became NaN or infinite by step {self.step} (epoch "
                         f"{self.epoch + 1}): training diverged. Try a lower learning rate (now {self.config.lr:g}) "
                         "or gradient clipping. Checkpoints were left as they were.", node=err.layer, step=self.step)
        except torch.OutOfMemoryError:
            smaller = max(1, config.batch_size // 2)
            yield Failed(f"out of memory on {self.device.type} with batch size {config.batch_size} at step "
                         f"{self.step}: try a smaller batch size such as {smaller}", step=self.step)
        except Exception as err:   # any other failure ends the run with a message, not a crash
            yield self._failure(err)
        finally:
            self.forward_model = self.model      # the DDP wrapper goes before the process group (see finish)
            self.dist.finish()

    def _train_epoch(self) -> Iterator:
        config, data = self.config, self.data
        order = self.dist.shard(epoch_order(len(data.x_train), config.seed, self.epoch), equal=True)
        batches = order.split(config.batch_size)
        self.forward_model.train()
        window: list[torch.Tensor] = []
        window_penalty: list[torch.Tensor] = []
        window_correct: list[torch.Tensor] = []
        window_sizes: list[int] = []
        window_start = time.perf_counter()
        for i in range(self.batch_in_epoch, len(batches)):
            self._obey_control()
            index = batches[i].to(self.device, non_blocking=True)
            x, y = self._batch(index)
            if i == 0 and config.probes and data.kind == "image" and self.dist.is_main:
                yield self._seen(x, index)
            probe_now = config.probes and config.probe_every and (self.step + 1) % config.probe_every == 0
            loss, penalty, correct = self._step(x, y, gradient_probe=probe_now)
            window.append(loss)
            if penalty is not None:
                window_penalty.append(penalty)
            if correct is not None:
                window_correct.append(correct)
            window_sizes.append(len(index))
            self.step += 1
            self.batch_in_epoch = i + 1
            if self.path is not None and self.step % self.path.every == 0:
                self.path.record(self.step, flat_weights(self.model))
            if probe_now:
                yield from (m for m in (self._gradients, self._histograms) if m is not None)
            if len(window) == config.log_every or i == len(batches) - 1:
                yield self._report(window, window_penalty, window_correct, window_sizes,
                                   time.perf_counter() - window_start)
                window, window_penalty, window_correct, window_sizes = [], [], [], []
                window_start = time.perf_counter()
                if self.clip_norms:
                    yield self._clipping()
            if probe_now:
                yield from self._inside_probes()

    def _step(self, x: torch.Tensor, y: torch.Tensor, gradient_probe: bool):
        self._gradients = self._histograms = None
        with torch.autocast(self.device.type, enabled=self.config.amp and self.cuda):
            out = self.forward_model(x)
            loss = self._loss(out, y)
        penalty = self.config.l1 * l1_penalty(self.l1_weights) if self.l1_weights else None
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss if penalty is None else loss + penalty).backward()
        if gradient_probe:
            self.scaler.unscale_(self.optimizer)
            self._gradients = probes.gradient_flow(self.step + 1, self.weighted_layers)
            self._histograms = probes.histograms(self.step + 1, self.weighted_layers)
        if self.config.clip_grad_norm:
            if not gradient_probe:
                self.scaler.unscale_(self.optimizer)
            norm = nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip_grad_norm)
            self.clip_norms.append(norm.detach())
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.config.schedule == "one_cycle":
            self.scheduler.step()
        correct = self._correct(out.detach(), y) if self._has_accuracy else None
        return loss.detach().float(), (penalty.detach().float() if penalty is not None else None), correct

    def _report(self, window, window_penalty, window_correct, sizes, elapsed) -> StepMetrics:
        losses = torch.stack(window + window_penalty)      # the penalties ride along: one transfer
        if self.dist.active:
            losses = self.dist.sum(losses.clone()) / self.dist.world_size
        values = losses.tolist()          # the one host sync of the window
        penalties, values = values[len(window):], values[:len(window)]
        penalty = sum(penalties) / len(penalties) if penalties else None
        if penalty is not None:
            self.epoch_penalty = [self.epoch_penalty[0] + penalty, self.epoch_penalty[1] + 1]
        for offset, value in enumerate(values):
            if not math.isfinite(value):
                bad_step = self.step - len(values) + offset + 1
                raise _Stop(Failed(f"the loss became {'NaN' if value != value else 'infinite'} at step {bad_step} "
                                   f"(epoch {self.epoch + 1}): training diverged. Try a lower learning rate "
                                   f"(now {self.config.lr:g}) or gradient clipping. Checkpoints were left as they were.",
                                   step=bad_step))
        if self.divergence.diverged(values):
            raise _Stop(Failed(f"{self.divergence.words(sum(values) / len(values))} by step {self.step} (epoch "
                               f"{self.epoch + 1}): training diverged. Try a lower learning rate (now "
                               f"{self.config.lr:g}; {self.config.optimizer} usually trains with about "
                               f"{TYPICAL_LR[self.config.optimizer]:g}) or gradient clipping. Checkpoints were left as "
                               "they were.", step=self.step))
        samples = sum(sizes)
        self.epoch_sums[0] += sum(v * n for v, n in zip(values, sizes))
        self.epoch_sums[2] += samples
        if window_correct:
            self.epoch_sums[1] += float(torch.stack(window_correct).sum())
        group = self.optimizer.param_groups[0]        # its rate is the run's times its factor
        return StepMetrics(self.step, self.epoch, sum(values) / len(values), group["lr"] / group.get(GROUP_FACTOR, 1.0),
                           samples * self.dist.world_size / max(elapsed, 1e-9), penalty, self._elapsed())

    def _clipping(self) -> GradientClipping:
        """How often and how hard clipping cut the gradient since the last report (read with it)."""
        norms = torch.stack(self.clip_norms).float().cpu()
        self.clip_norms = []
        threshold = self.config.clip_grad_norm
        return GradientClipping(self.step, threshold, int((norms > threshold).sum()), len(norms), float(norms.mean()),
                                float(norms.max()))

    # ------------------------------------------------------------------ data and loss
    def _batch(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        data = self.data
        x, y = data.x_train[index], data.y_train[index]
        if self.augmentation.active:
            x = self.augmentation.apply(x, self.augment_generator, self.pixel_statistics)
        if self.cuda and data.kind == "image":
            x = x.contiguous(memory_format=torch.channels_last)
        return x, (x if self.config.reconstruct else y)

    def _seen(self, x: torch.Tensor, index: torch.Tensor) -> TrainingBatch:
        """The start of the epoch's first batch, as the model sees it (for the window's Data tab)."""
        y = self.data.y_train[index[:SHOWN]]
        labels = tuple(int(v) for v in y.tolist()) if y.dim() == 1 and not y.is_floating_point() else ()
        return TrainingBatch(self.epoch + 1, self.step, pictures(x[:SHOWN], self.data), labels,
                             tuple(self.data.class_names), describe(self.data, self.config, self.augmentation, self.graph))

    @property
    def _has_accuracy(self) -> bool:
        return self.data.task == CLASSIFICATION and not self.config.reconstruct

    def _loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return loss_value(self.config.loss, out, y, self.negative_sampling)

    def _correct(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.config.loss == "bce_with_logits":
            return ((out > 0) == (binary_targets(out, y) > 0.5)).float().mean(dim=-1).sum()
        return (out.argmax(dim=-1) == y).float().mean(dim=tuple(range(1, y.dim()))).sum() if y.dim() > 1 \
            else (out.argmax(dim=-1) == y).sum().float()

    def _validate(self):
        data, model = self.data, self.forward_model
        index = self.dist.shard(torch.arange(len(data.x_val)), equal=False).to(self.device)
        sums = torch.zeros(3, device=self.device)
        classes = data.num_classes
        confusion = torch.zeros(classes * classes, device=self.device) if self._has_accuracy else None
        model.eval()
        with torch.no_grad(), torch.autocast(self.device.type, enabled=self.config.amp and self.cuda):
            for chunk in index.split(max(self.config.batch_size, 512)):
                x, y = data.x_val[chunk], data.y_val[chunk]
                if self.cuda and data.kind == "image":
                    x = x.contiguous(memory_format=torch.channels_last)
                target = x if self.config.reconstruct else y
                out = model(x).float()
                sums[0] += self._loss(out, target) * len(chunk)
                sums[2] += len(chunk)
                if confusion is not None:
                    sums[1] += self._correct(out, y)
                    if self.config.loss != "bce_with_logits":
                        pairs = y.reshape(-1) * classes + out.argmax(dim=-1).reshape(-1)
                        confusion += torch.bincount(pairs, minlength=classes * classes).float()
        model.train()
        self.dist.sum(sums)
        loss, correct, count = sums.tolist()
        if not math.isfinite(loss):
            raise _Stop(Failed(f"the validation loss is not finite after epoch {self.epoch}: training diverged; "
                               f"try a lower learning rate", step=self.step))
        matrix = None
        if confusion is not None and self.config.loss != "bce_with_logits":
            matrix = self.dist.sum(confusion).reshape(classes, classes).long().cpu().numpy()
        return loss / count, (correct / count if confusion is not None else None), matrix

    # ------------------------------------------------------------------ probes
    def _probe_batch(self) -> torch.Tensor:
        return self.data.x_val[:PROBE_BATCH]

    def _inside_probes(self) -> Iterator:
        if not self.dist.is_main:
            return
        sample = self.control.probe_sample if self.control.probe_sample is not None else self.config.probe_sample
        if self._on_plane:
            pictures = probes.neuron_pictures(self.step, self.model, self.graph, self.data.x_train)
            if pictures is not None:
                yield pictures
        yield from probes.filters(self.step, self.model)
        yield from probes.inside_look(self.step, self.model, self.graph, self._probe_batch(), sample,
                                      self.control.probe_layers)
        yield from probes.attention_maps(self.step, self.model, self._probe_batch(), sample)
        batch = self._probe_batch()
        targets = batch if self.config.reconstruct else self.data.y_val[:PROBE_BATCH]
        yield from probes.recurrent_steps(self.step, self.model, self.graph, batch, targets, sample, self.config.loss,
                                          self.config.truncate_bptt)

    def _epoch_probes(self) -> Iterator:
        if not self.dist.is_main:
            return
        data = self.data
        if self._on_plane and self._has_accuracy:
            yield probes.decision_boundary(self.epoch, self.model, data.x_train, val_points=data.x_val,
                                           val_labels=data.y_val)
        if self.config.reconstruct:            # inputs beside their reconstructions
            yield probes.sample_outputs(self.epoch, self.model, data.x_val, data.x_val, RECONSTRUCTIONS_SHOWN)
        elif data.task == REGRESSION:           # predictions against targets
            yield probes.sample_outputs(self.epoch, self.model, data.x_val, data.y_val, PREDICTIONS_SHOWN)
            if data.kind == "points" and data.input_shape == (1,):
                yield probes.fitted_curve(self.epoch, self.model, data.x_train, data.x_val, data.y_val)
            elif self._on_plane:
                yield probes.predicted_surface(self.epoch, self.model, data.x_train, data.x_val, data.y_val)
        if self._has_accuracy:
            found = probes.feature_space(self.epoch, self.model, self.graph, data.x_val, data.y_val,
                                         self.control.feature_layer)
            if found is not None:
                yield found
        yield from probes.embedding_spaces(self.epoch, self.model, self.graph)
        if not self.config.probe_every:
            yield from self._inside_probes()

    @property
    def _on_plane(self) -> bool:
        """2-D points: views over the input plane apply."""
        return self.data.kind == "points" and self.data.input_shape == (2,)

    def _landscape_data(self) -> tuple[torch.Tensor, torch.Tensor]:
        """What a landscape's height is measured on: the first LANDSCAPE_SAMPLES training samples."""
        x = self.data.x_train[:LANDSCAPE_SAMPLES]
        return x, (x if self.config.reconstruct else self.data.y_train[:LANDSCAPE_SAMPLES])

    # ------------------------------------------------------------------ control, schedule, end
    def _obey_control(self) -> None:
        while self.control.paused and not self.control.stop_requested:
            time.sleep(0.02)
        if self.control.stop_requested:
            messages = [self._save("last")] if self.config.checkpoint_dir else []
            raise _Stop(*messages, *self._ending("stopped"))

    def _schedule_epoch(self, val_loss: float) -> None:
        if self.config.schedule == "plateau":
            self.scheduler.step(val_loss)
        elif self.config.schedule in ("step", "cosine"):
            self.scheduler.step()

    def _finish(self, reason: str) -> Finished:
        return Finished(reason, self.epoch, self.step, *self.last_val, elapsed_s=self._elapsed())

    def _elapsed(self) -> float:
        return time.perf_counter() - self.started

    def _ending(self, reason: str) -> list:
        """The last messages: the weights' path (when recorded), then Finished."""
        ending: list = []
        if self.path is not None and self.dist.is_main:
            if self.path.points[-1][0] != self.step:
                self.path.record(self.step, flat_weights(self.model), force=True)
            ending.append(probes.weight_path(self.path.points))
        return ending + [self._finish(reason)]

    def _failure(self, err: Exception) -> Failed:
        failure = None
        try:
            failure = locate_failure(self.model, self._batch(torch.arange(min(8, len(self.data.x_train)),
                                                                           device=self.device))[0])
        except Exception:
            pass
        if failure is not None:
            return Failed(f"{failure.node} failed during training: {first_line(failure.error)}", node=failure.node,
                          step=self.step)
        return Failed(f"training failed at step {self.step}: {type(err).__name__}: {first_line(err)}", step=self.step)

    # ------------------------------------------------------------------ checkpoints
    def _state(self) -> dict:
        """Everything besides the weights that an exact resume needs."""
        state = {
            "step": self.step, "epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch,
            "epoch_sums": list(self.epoch_sums), "best_val_loss": self.best_val_loss, "bad_epochs": self.bad_epochs,
            "optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(), "rng": torch.get_rng_state(),
            "augment_rng": self.augment_generator.get_state(),
            "config": self.config.to_dict(), "graph": dumps_graph(self.graph),
        }
        if self.cuda:
            state["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        return state

    def _save(self, name: str) -> CheckpointSaved:
        if not self.dist.is_main:
            return CheckpointSaved("", self.epoch, self.step)
        path = save_checkpoint(self.config.checkpoint_dir, name, self.model.state_dict(), self._state(), self.run_id)
        return CheckpointSaved(str(path), self.epoch, self.step)

    def _restore(self, checkpoint) -> None:
        state, path = checkpoint.state, checkpoint.path
        self._check_learning_rates(state, path)       # first: a layer frozen since changes the state's shape
        if isinstance(state.get("config"), dict):
            state["config"] = settings_since(state["config"], self.config, path)
        check_state_schema(self._state(), state, path)
        self.notes, new_lr = resume_changes(state["config"], self.config, path)
        try:
            self.model.load_state_dict(checkpoint.weights)
        except RuntimeError as err:
            raise CheckpointError(f"{path}: the checkpoint does not fit this graph: {first_line(err)}") from None
        self._check_counters(state, path)
        self._check_optimizer_state(state["optimizer"], path)
        try:
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            self.scaler.load_state_dict(state["scaler"])
            torch.set_rng_state(state["rng"])
            self.augment_generator.set_state(state["augment_rng"])
            if self.cuda and "cuda_rng" in state:
                torch.cuda.set_rng_state(state["cuda_rng"], self.device)
        except (ValueError, KeyError, TypeError, RuntimeError) as err:
            raise CheckpointError(f"{path}: the saved optimizer or random state does not fit this run "
                                  f"({first_line(err)})") from None
        self.step, self.epoch, self.batch_in_epoch = state["step"], state["epoch"], state["batch_in_epoch"]
        self.epoch_sums = [float(v) for v in state["epoch_sums"]]
        self.best_val_loss, self.bad_epochs = float(state["best_val_loss"]), state["bad_epochs"]
        self.run_id = checkpoint.run_id or self.run_id
        if new_lr is not None:
            apply_learning_rate(self.optimizer, self.scheduler, new_lr)
        if self.epoch >= self.config.epochs:
            raise CheckpointError(f"{path}: the checkpoint is at epoch {self.epoch} and the run has "
                                  f"{self.config.epochs} epochs, so nothing is left to train; ask for more "
                                  f"epochs (--epochs)")

    def _check_counters(self, state: dict, path) -> None:
        for name in ("step", "epoch", "batch_in_epoch", "bad_epochs"):
            if state[name] < 0:
                raise CheckpointError(f"{path}: {name}: must not be negative, not {state[name]}")
        if state["batch_in_epoch"] >= self.steps_per_epoch:
            raise CheckpointError(f"{path}: batch_in_epoch: {state['batch_in_epoch']} is past the end of an "
                                  f"epoch of {self.steps_per_epoch} batches")
        expected = state["epoch"] * self.steps_per_epoch + state["batch_in_epoch"]
        if state["step"] != expected:
            raise CheckpointError(f"{path}: step: {state['step']} does not follow from epoch {state['epoch']} and "
                                  f"batch {state['batch_in_epoch']} ({expected} with {self.steps_per_epoch} "
                                  f"batches an epoch)")
        if not all(math.isfinite(v) for v in state["epoch_sums"]):
            raise CheckpointError(f"{path}: epoch_sums: must be finite numbers")

    def _check_learning_rates(self, state: dict, path) -> None:
        saved = state.get("optimizer")
        before = group_layout(saved.get("param_groups")) if isinstance(saved, dict) else None
        now = group_layout(self.optimizer.param_groups) or []
        if before is not None and before != now:      # an unreadable state is the schema check's to name
            raise CheckpointError(f"{path}: the checkpoint's run trained at learning-rate factors "
                                  f"{describe_layout(before)}; this graph trains {describe_layout(now)}: a layer was "
                                  "frozen or given another factor since. Set them back to resume, or start a new run")

    def _check_optimizer_state(self, saved: dict, path) -> None:
        params = [p for group in self.optimizer.param_groups for p in group["params"]]
        per_param = saved.get("state")
        if not isinstance(per_param, dict):
            raise CheckpointError(f"{path}: optimizer.state: must be an object")
        for index, values in per_param.items():
            if not isinstance(index, int) or not 0 <= index < len(params) or not isinstance(values, dict):
                raise CheckpointError(f"{path}: optimizer.state: entry {index!r} belongs to no parameter of "
                                      "this graph")
            for key, value in values.items():
                if isinstance(value, torch.Tensor) and value.dim() and value.shape != params[index].shape:
                    raise CheckpointError(f"{path}: optimizer.state.{index}.{key}: shape {list(value.shape)} "
                                          f"does not fit its parameter {list(params[index].shape)}")


def _optimizer(model: nn.Module, graph: Graph, c: TrainingConfig) -> torch.optim.Optimizer:
    params = parameter_groups(model, graph, c.lr)       # one group per learning-rate factor; frozen ones left out
    if c.optimizer == "sgd":
        return torch.optim.SGD(params, lr=c.lr, momentum=c.momentum, nesterov=c.nesterov, weight_decay=c.weight_decay)
    if c.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay)
    cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "adagrad": torch.optim.Adagrad,
           "adadelta": torch.optim.Adadelta}[c.optimizer]
    return cls(params, lr=c.lr, weight_decay=c.weight_decay)


def _scheduler(optimizer, c: TrainingConfig, steps_per_epoch: int):
    s = torch.optim.lr_scheduler
    if c.schedule == "step":
        return s.StepLR(optimizer, step_size=c.step_size, gamma=c.gamma)
    if c.schedule == "cosine":
        return s.CosineAnnealingLR(optimizer, T_max=c.epochs)
    if c.schedule == "one_cycle":
        return s.OneCycleLR(optimizer, max_lr=[g["lr"] for g in optimizer.param_groups],
                            total_steps=c.epochs * steps_per_epoch)
    if c.schedule == "plateau":
        return s.ReduceLROnPlateau(optimizer, factor=c.gamma, patience=2)
    return s.LambdaLR(optimizer, lambda epoch: 1.0)
