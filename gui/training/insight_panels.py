"""Dashboard panels for the feature space of a layer, an Embedding layer's vectors and the
attention weights of each head. What they draw is computed in the training worker each epoch
(or probe); t-SNE, asked for here, runs in a background thread."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from engine.insight import nearest, separation, tsne
from engine.training import feature_space

from ..background import BackgroundJob
from ..theme import current as current_theme
from .busy import Busy
from .panels import LayerPicker, image_view
from .run_record import RunRecord
from .words_panel import AnalogyBox

WAITING = "Each epoch projects the chosen layer's view of the validation set here."
MAX_TOKEN_LABELS = 300      # more labels than this are an unreadable blot: every point names its token on hover


def _plot(title: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(title=title)
    plot.setBackground(current_theme().plot_background)
    plot.showGrid(x=True, y=True, alpha=0.15)
    return plot


def sample_picture(data, index: int) -> np.ndarray | None:
    """A validation image as H x W (grey) or H x W x 3, 0..1; None for data that is not images."""
    if data is None or data.kind != "image" or not 0 <= index < len(data.x_val):
        return None
    x = data.x_val[index].float().numpy()
    picture = x[0] if x.shape[0] == 1 else np.moveaxis(x[:3], 0, -1)
    return (picture - picture.min()) / (np.ptp(picture) + 1e-9)


class FeatureSpacePanel(QWidget):
    """A layer's view of the validation samples in 2-D, coloured by class; a click on a point
    shows its sample. A layer chosen here is projected at once from the run's newest weights,
    and by a run going on at each epoch from then on."""
    layer_chosen = Signal(str)

    def __init__(self, run_model=None, parent=None) -> None:
        super().__init__(parent)
        self.run_model = run_model
        self.layer = LayerPicker(self._layer_changed, "layer")
        self.method = QComboBox()
        self.method.addItems(["PCA", "t-SNE"])
        self.method.setToolTip("PCA: the two directions of largest variance (each epoch). t-SNE: keeps "
                               "neighbours together (a few seconds); distances between clusters mean little")
        self.plot = _plot("Feature space")
        self.plot.setAspectLocked(False)
        self.points = pg.ScatterPlotItem(size=7, pen=pg.mkPen(QColor(current_theme().point_outline), width=0.5),
                                         hoverable=True)
        self.plot.addItem(self.points)
        self.key = QLabel("")                 # the classes' colours, in a row under the map
        self.key.setWordWrap(True)
        self.chosen_plot, self.chosen_image = image_view("Click a point")
        self.chosen_image.setLookupTable(None)
        self.caption = QLabel(WAITING)
        self.caption.setWordWrap(True)
        self.busy = Busy()
        row = self.layer.row()
        row.addWidget(QLabel("projection"))
        row.addWidget(self.method)
        plots = QHBoxLayout()
        plots.addWidget(self.plot, 3)
        plots.addWidget(self.chosen_plot, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addLayout(plots, 1)
        layout.addWidget(self.key)
        layout.addWidget(self.busy)
        layout.addWidget(self.caption)
        self.method.currentTextChanged.connect(lambda _: self.refresh())
        self.points.sigClicked.connect(self._clicked)
        self.record: RunRecord | None = None
        self.data = None
        self.shown = None                     # the FeatureSpace message drawn
        self.mapped: np.ndarray | None = None  # the points drawn (PCA or t-SNE)
        self._tsne: tuple | None = None       # (the message, its t-SNE map, its separation)
        self._tsne_asked = None               # the message whose t-SNE map is being worked out
        self._legend_classes: tuple = ()

    def reset(self) -> None:
        self.record, self.shown, self.mapped, self._tsne, self._tsne_asked = None, None, None, None, None
        self.points.setData([])
        self.key.setText("")
        self._legend_classes = ()
        self.chosen_image.clear()
        self.chosen_plot.setTitle("Click a point")
        self.plot.setTitle("Feature space")
        self.busy.stop()
        self.caption.setText(WAITING)

    def set_layers(self, layers: list[str]) -> None:
        self.layer.set_layers(layers)

    def _layer_changed(self) -> None:
        layer = self.layer.currentText()
        if layer and (self.shown is None or layer != self.shown.layer):
            self.layer_chosen.emit(layer)          # a run going on projects it from the next epoch
            self.project_now(layer)

    def project_now(self, layer: str) -> bool:
        """Project ``layer`` at once with the run's newest weights, in a background thread."""
        run_model = self.run_model
        model = run_model.copy() if run_model is not None else None
        graph = run_model.graph if run_model is not None else None
        record, data = self.record, self.data
        if model is None or graph is None or record is None or data is None or run_model.epoch is None:
            self.caption.setText(f"{layer} is projected from the next epoch on.")
            return False
        epoch = run_model.epoch
        self.busy.start(f"Projecting {layer} with {run_model.weights_from()}...")

        def done(found, error) -> None:
            if self.record is not record:     # another run is shown by now
                return
            self.busy.stop()
            if error is not None or found is None:
                self.caption.setText(f"{layer} cannot be projected: {error or 'it gives no features per sample'}")
            elif self.layer.currentText() == layer:
                record.latest["FeatureSpace"] = found
                self.refresh()
        # The worker's own probe, run here on the newest weights: one way of projecting a layer.
        BackgroundJob(lambda: feature_space(epoch, model, graph, data.x_val, data.y_val, layer), done, self,
                      name="netloom-feature-space").start()
        return True

    def show_record(self, record: RunRecord) -> None:
        self.record = record
        self.refresh()

    def refresh(self) -> None:
        record = self.record
        found = record.latest.get("FeatureSpace") if record else None
        if found is None or record is None:
            return
        if self.layer.findText(found.layer) < 0:
            self.layer.set_layers([found.layer] + [self.layer.itemText(i) for i in range(self.layer.count())])
        if self.layer.currentText() != found.layer and self.shown is None:
            self.layer.blockSignals(True)
            self.layer.setCurrentText(found.layer)
            self.layer.blockSignals(False)
        self.shown = found
        if self.method.currentText() == "t-SNE":
            if self._tsne is None or self._tsne[0] is not found:
                self._start_tsne(found)
                return
            _, mapped, value = self._tsne
            how = "t-SNE"
        else:
            mapped, value = found.points, found.separation
            how = (f"PCA: the axes hold {found.explained[0]:.0%} and {found.explained[1]:.0%} of the variance")
        self._draw(found, mapped)
        score = "" if value is None else f"; class separation (silhouette in this map) {value:.2f}"
        self.plot.setTitle(f"{found.layer} as it sees the validation samples, {record.when(epoch=found.epoch)}")
        self.caption.setText(f"{found.layer} after epoch {found.epoch}, {len(found.labels)} validation samples. "
                             f"{how}{score}. Click a point to see its sample.")

    def _start_tsne(self, found) -> None:
        if self._tsne_asked is found:         # already being worked out
            return
        self._tsne_asked = found
        self.busy.start(f"Working out the t-SNE map of {found.layer} for {len(found.labels)} samples...")
        record = self.record

        def work():
            mapped = tsne(found.components)
            return mapped, separation(mapped, found.labels)

        def done(result, error) -> None:
            if self.record is not record:     # another run is shown by now
                return
            self.busy.stop()
            self._tsne_asked = None
            if error is not None:
                self.caption.setText(f"t-SNE failed: {error}")
                return
            self._tsne = (found, *result)
            if self.shown is found:
                self.refresh()
        BackgroundJob(work, done, self, name="netloom-tsne").start()

    def _draw(self, found, mapped: np.ndarray) -> None:
        self.mapped = mapped
        names: list[str] = list(self.data.class_names) if self.data is not None else []
        classes = tuple(int(c) for c in np.unique(found.labels))
        theme = current_theme()
        brushes = [pg.mkBrush(theme.series_colour(int(c))) for c in found.labels]
        self.points.setData(x=mapped[:, 0], y=mapped[:, 1], brush=brushes, data=list(found.indices))
        if classes != self._legend_classes:
            self.key.setText("classes: " + " &nbsp; ".join(
                f"<span style='color:{theme.series_colour(c)}'>&#9679;</span>&nbsp;"
                f"{names[c] if c < len(names) else c}" for c in classes))
            self._legend_classes = classes
        self.plot.autoRange()

    def _clicked(self, item, points, event=None) -> None:
        if len(points):
            self.show_sample(int(points[0].data()))

    def show_sample(self, index: int) -> None:
        """The validation sample ``index`` beside the map, with its class, marked in the map."""
        picture = sample_picture(self.data, index)
        names: list[str] = list(self.data.class_names) if self.data is not None else []
        label = int(self.data.y_val[index]) if self.data is not None else -1
        title = f"Sample {index}: {names[label] if 0 <= label < len(names) else label}"
        if picture is not None:
            self.chosen_image.setImage(picture if picture.ndim == 3 else np.repeat(picture[..., None], 3, 2),
                                       autoLevels=False, levels=(0, 1))
        self.chosen_plot.setTitle(title)
        if self.mapped is not None and self.shown is not None:
            where = np.flatnonzero(self.shown.indices == index)
            sizes = np.full(len(self.mapped), 7.0)
            sizes[where] = 16
            self.points.setSize(sizes)


class EmbeddingPanel(QWidget):
    """An Embedding layer's vectors in 2-D with their tokens, and the tokens nearest a chosen one."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.layer = LayerPicker(self.refresh, "embedding")
        self.token = QLineEdit()
        self.token.setPlaceholderText("a token, e.g. a word of the text")
        self.plot = _plot("Embedding vectors (PCA)")
        self.points = pg.ScatterPlotItem(size=6, brush=pg.mkBrush(current_theme().training_series), pen=None, hoverable=True,
                                         tip=lambda x, y, data: str(data))
        self.plot.addItem(self.points)
        self.labels: list[pg.TextItem] = []
        self.neighbours = QLabel("Type a token to see its nearest neighbours (cosine similarity).")
        self.neighbours.setWordWrap(True)
        self.neighbours.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.neighbours.setMinimumWidth(220)
        self.analogy = AnalogyBox(self.tokens)
        row = self.layer.row(QLabel("nearest to"), self.token)
        plots = QHBoxLayout()
        plots.addWidget(self.plot, 3)
        beside = QVBoxLayout()
        beside.addWidget(self.neighbours, 1)
        beside.addWidget(self.analogy)
        plots.addLayout(beside, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addLayout(plots, 1)
        self.token.textChanged.connect(lambda _: self.show_neighbours())
        self.record: RunRecord | None = None
        self.data = None
        self.shown = None

    def reset(self) -> None:
        self.record, self.shown = None, None
        self.layer.set_layers([])
        self.points.setData([])
        for item in self.labels:
            self.plot.removeItem(item)
        self.labels = []
        self.plot.setTitle("Embedding vectors (PCA)")
        self.neighbours.setText("Type a token to see its nearest neighbours (cosine similarity).")
        self.analogy.set_vectors(None)

    def tokens(self, count: int) -> list[str]:
        """The data set's names for the rows (its vocabulary), else their numbers."""
        names: list[str] = list(self.data.class_names) if self.data is not None else []
        vocabulary = self.data.extra.get("vocabulary") if self.data is not None else None
        if vocabulary is not None and len(vocabulary) >= count:
            names = list(vocabulary)
        return [str(names[i]) if i < len(names) else str(i) for i in range(count)]

    def show_record(self, record: RunRecord) -> None:
        self.record = record
        self.layer.set_layers(list(record.latest.get("embeddings", {})))
        self.refresh()

    def refresh(self) -> None:
        found = (self.record.latest.get("embeddings", {}) if self.record else {}).get(self.layer.currentText())
        if found is None or found is self.shown:
            return
        self.shown = found
        tokens = self.tokens(len(found.points))
        self.points.setData(found.points[:, 0], found.points[:, 1], data=tokens)
        for item in self.labels:
            self.plot.removeItem(item)
        self.labels = []
        for (x, y), token in list(zip(found.points, tokens))[:MAX_TOKEN_LABELS]:
            item = pg.TextItem(token, color=current_theme().plot_foreground, anchor=(0, 0.5))
            item.setPos(float(x), float(y))
            self.plot.addItem(item)
            self.labels.append(item)
        more = "" if found.total_tokens <= len(tokens) else f" (the first {len(tokens):,} of {found.total_tokens:,})"
        when = self.record.when(epoch=found.epoch) if self.record is not None else f"epoch {found.epoch}"
        self.plot.setTitle(f"{found.layer}: {len(tokens)} token vectors{more} (PCA), {when}")
        self.show_neighbours()
        self.analogy.set_vectors(found.vectors)

    def show_neighbours(self) -> list[tuple[str, float]]:
        """The nearest tokens of the one typed, listed beside the map; [] when it is unknown."""
        found, text = self.shown, self.token.text().strip()
        if found is None or not text:
            return []
        tokens = self.tokens(len(found.vectors))
        if text not in tokens:
            self.neighbours.setText(f"'{text}' is not a token of this embedding.")
            return []
        chosen = tokens.index(text)
        close = nearest(found.vectors, chosen, 10)
        pairs = [(tokens[i], s) for i, s in close]
        if len(found.points) == len(tokens):       # the token red, its neighbours orange, on the map
            theme = current_theme()
            brushes = [pg.mkBrush(theme.other_point)] * len(tokens)
            sizes = [5.0] * len(tokens)
            for i, _ in close:
                brushes[i], sizes[i] = pg.mkBrush(theme.neighbour), 9.0
            brushes[chosen], sizes[chosen] = pg.mkBrush(theme.validation_series), 12.0
            self.points.setBrush(brushes)
            self.points.setSize(sizes)
        rows = "".join(f"<tr><td>{t}</td><td align='right'>&nbsp;{s:.2f}</td></tr>" for t, s in pairs)
        self.neighbours.setText(f"<b>Nearest to '{text}'</b> (cosine similarity):<table>{rows}</table>")
        return pairs


class AttentionPanel(QWidget):
    """The attention weights of the chosen validation sample, one heat map per head: row i is
    where position i looks (each row sums to 1)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.layer = LayerPicker(self.refresh, "attention")
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(current_theme().plot_background)
        self.caption = QLabel("Attention weights appear with the run's probes.")
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(self.layer.row())
        layout.addWidget(self.view, 1)
        layout.addWidget(self.caption)
        self.record: RunRecord | None = None
        self.shown = None
        self.images: list[pg.ImageItem] = []
        self.plots: list[pg.PlotItem] = []

    def reset(self) -> None:
        self.record, self.shown = None, None
        self.layer.set_layers([])
        self.view.clear()
        self.images, self.plots = [], []
        self.caption.setText("Attention weights appear with the run's probes.")

    def show_record(self, record: RunRecord) -> None:
        self.record = record
        self.layer.set_layers(list(record.latest.get("attention", {})))
        self.refresh()

    def refresh(self) -> None:
        found = (self.record.latest.get("attention", {}) if self.record else {}).get(self.layer.currentText())
        if found is None or found is self.shown:
            return
        self.shown = found
        heads = found.weights.shape[0]
        if len(self.images) != heads:
            self.view.clear()
            self.images = []
            columns = min(heads, 4)        # the dock is wide and short: heads side by side
            self.plots = []
            for h in range(heads):
                plot = self.view.addPlot(row=h // columns, col=h % columns, title=f"head {h + 1}")
                plot.invertY(True)
                plot.setMouseEnabled(False, False)
                plot.setLabel("left", "query")
                plot.setLabel("bottom", "key")
                self.plots.append(plot)
                image = pg.ImageItem(axisOrder="row-major")
                image.setLookupTable(pg.colormap.get("viridis").getLookupTable())
                plot.addItem(image)
                self.images.append(image)
        queries, keys = found.weights.shape[1:]
        low, high = float(found.weights.min()), float(found.weights.max())
        for plot, image, weights in zip(self.plots, self.images, found.weights):
            image.setImage(weights, autoLevels=False, levels=(low, max(high, low + 1e-6)))
            image.setRect(-0.5, -0.5, keys, queries)      # pixel i centred on position i
            plot.setRange(xRange=(-0.5, keys - 0.5), yRange=(-0.5, queries - 0.5), padding=0)
        when = self.record.when(step=found.step) if self.record is not None else f"step {found.step}"
        self.caption.setText(f"{found.layer}: {heads} heads, {queries} queries x {keys} keys, validation sample "
                             f"{found.sample}, {when}. Row i: how much position i attends to each "
                             f"position (each row sums to 1). One colour scale for all heads: dark {low:.3f} to "
                             f"bright {high:.3f} (uniform attention would be {1 / keys:.3f} everywhere).")
