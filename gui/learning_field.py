"""How one node of the model learns, in the inspector: its learning-rate factor (the run's rate
times it; 0 freezes it) and whether it starts fresh (left out of the start weights). A change is
one undoable edit, as the Train menu's commands make."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QHBoxLayout, QWidget

from graphs.editing import learning_rate_edit, start_fresh_edit
from graphs.values import MAX_LR_FACTOR

from .document import Document


class LearningField(QWidget):
    def __init__(self, document: Document, node_id: str) -> None:
        super().__init__()
        self.document, self.node_id = document, node_id
        self.factor = QDoubleSpinBox()
        self.factor.setObjectName("lr_factor")
        self.factor.setRange(0.0, MAX_LR_FACTOR)
        self.factor.setDecimals(3)
        self.factor.setSingleStep(0.1)
        self.factor.setPrefix("\u00d7")
        self.factor.setSpecialValueText("frozen")
        self.factor.setKeyboardTracking(False)      # on Enter or leaving the field, not on every digit
        self.factor.setToolTip("The run's learning rate times this for this node; 0 freezes it (lr_factor)")
        self.fresh = QCheckBox("fresh weights")
        self.fresh.setObjectName("fresh")
        self.fresh.setToolTip("Leave this node out of the start weights: it starts from new random weights (fresh)")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.factor, 1)
        row.addWidget(self.fresh)
        self.show_values()
        self.factor.valueChanged.connect(self._set_factor)
        self.fresh.toggled.connect(self._set_fresh)

    def show_values(self) -> None:
        node = self.document.graph.nodes.get(self.node_id)
        if node is None:
            return
        if not self.factor.hasFocus():          # not while a factor is being typed
            self.factor.blockSignals(True)
            self.factor.setValue(node.lr_factor)
            self.factor.blockSignals(False)
        self.fresh.blockSignals(True)
        self.fresh.setChecked(node.fresh)
        self.fresh.blockSignals(False)

    def _set_factor(self, factor: float) -> None:
        node = self.document.graph.nodes.get(self.node_id)
        if node is not None and node.lr_factor != factor:
            self.document.try_edit(lambda: learning_rate_edit(self.document.graph, [self.node_id], factor))

    def _set_fresh(self, fresh: bool) -> None:
        node = self.document.graph.nodes.get(self.node_id)
        if node is not None and node.fresh != fresh:
            self.document.try_edit(lambda: start_fresh_edit(self.document.graph, self.node_id, fresh))
