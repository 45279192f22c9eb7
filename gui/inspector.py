"""The inspector: the selected node's parameters (the document's selection, when one node is
selected) as a form generated from its layer spec.

Each field only accepts what the spec allows (spin box ranges, choices), so a bad value is
refused where it is typed; an accepted change is one undoable edit."""

from __future__ import annotations

import html
from functools import partial

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine import format_shape
from graphs import Changes, ParamError, ParamSpec
from graphs.block_edits import parameter_link_edit
from graphs.blocks import REPEAT, ref_name
from graphs.edits import Rename
from graphs.events import LearningChanged, NodeAdded, NodeRemoved, NodeRenamed, ParamsChanged
from graphs.graph import id_problem
from graphs.operations import OPERATIONS, arguments_text, parse_arguments
from graphs.specs import ARGS, BOOL, CHOICE, FLOAT, FLOATS, INT, KWARGS, OPERATION, SHAPE

from .canvas.learning_marks import describe as learning_words
from .document import Checked, Document, Opened, Replaced
from .labels import human_label, named_tooltip
from .learning_field import LearningField
from .selection import SelectionChanged
from .teaching.layer_insight import LayerInsight
from .theme import current as current_theme

INT_LIMIT = 2**31 - 1


class Inspector(QWidget):
    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.node_id: str | None = None
        self.fields: dict[str, QWidget] = {}
        self.learning: LearningField | None = None      # how a node of the model learns
        self.title = QLabel("")
        self.title.setWordWrap(True)
        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        self.shapes = QLabel("")
        self.shapes.setWordWrap(True)
        self.shapes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.form_host)
        layout.addWidget(self.shapes)
        self.insight = LayerInsight()           # an activation's plot, a trained layer's weights
        layout.addWidget(self.insight)
        layout.addStretch(1)
        document.subscribe(self._on_changes, kinds=(Replaced, Opened, Checked, NodeRenamed, NodeRemoved, NodeAdded,
                                                    ParamsChanged, LearningChanged, SelectionChanged))
        self._show_summary()

    def show_node(self, node_id: str | None) -> None:
        self.node_id = node_id if node_id in self.document.shown.nodes else None
        self._build()

    def _on_changes(self, changes: Changes) -> None:
        for event in changes.of(NodeRenamed):
            if event.old == self.node_id:          # keep showing the node under its new name
                self.node_id = event.new
        chosen = self.document.selection.node       # one node selected: its settings
        if changes.has(Replaced, Opened) or (changes.has(SelectionChanged) and chosen != self.node_id):
            self.show_node(chosen)
        elif changes.has(NodeRenamed, NodeRemoved, NodeAdded, ParamsChanged):
            self.refresh()
        elif changes.has(LearningChanged):
            if self.learning is not None:
                self.learning.show_values()
            self._show_shapes()
        elif changes.has(Checked):
            self._show_shapes()

    def refresh(self, *_) -> None:
        """Follow the document (undo, rename, delete) without losing the field being typed in."""
        graph = self.document.shown
        if self.node_id is not None and self.node_id not in graph.nodes:
            self.node_id = None
            self._build()
            return
        if self.node_id is None:
            return
        node = graph.nodes[self.node_id]
        for name, widget in self.fields.items():
            if name == "__id__":
                if isinstance(widget, QLineEdit) and not widget.hasFocus():
                    widget.setText(node.id)
            elif (ref_name(node.params[name]) is not None) != isinstance(widget, _BlockParameter):
                self._build()           # a value became the block's parameter, or the other way
                return
            elif not widget.hasFocus() and (holder := self._holder(widget)) is not None and holder.message.isHidden():
                _set_value(widget, node.spec.param(name), node.params[name])
        self.insight.show_node(node)              # a changed slope changes the plot
        self._show_shapes()

    def _build(self) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.fields, self.learning = {}, None
        self.insight.show_node(self.document.shown.nodes.get(self.node_id) if self.node_id is not None else None)
        if self.node_id is None:
            self._show_summary()
            return
        node = self.document.shown.nodes[self.node_id]
        self.title.setText(f"<b>{node.type}</b>: {node.spec.description}")
        name = QLineEdit(node.id)
        name.setObjectName("name")
        name.editingFinished.connect(lambda: self._rename(name))
        self.form.addRow("Name", name)
        self.fields["__id__"] = name
        if not self.document.levels and node.type not in ("Input", "Output"):     # a block's layers learn as its use
            self.learning = LearningField(self.document, node.id)
            self.form.addRow("Learning rate", self.learning)
        for spec in node.spec.params:
            ref = ref_name(node.params[spec.name])
            if ref is not None:         # inside a block: the value each use gives
                widget: QWidget = _BlockParameter(ref, self.document.bound_value(node.id, spec.name),
                                         lambda s=spec: self._unlink(s))
                self.form.addRow(self._label(spec), widget)
                self.fields[spec.name] = widget
                continue
            widget = _editor_for(spec)
            widget.setObjectName(spec.name)
            widget.setToolTip(named_tooltip(spec.name, spec.doc))
            _set_value(widget, spec, node.params[spec.name])
            _on_change(widget, spec, lambda value, s=spec, w=widget: self._set_param(s, value, w),
                       lambda message, s=spec, w=widget: self._refuse(s, w, message))
            inside_block = self.document.shown.declared() is not None and spec.name != REPEAT
            field = self._with_link_menu(widget, spec) if inside_block else widget
            self.form.addRow(self._label(spec), _RefusableField(field, spec.name))
            self.fields[spec.name] = widget
        self._show_shapes()

    def _with_link_menu(self, widget: QWidget, spec: ParamSpec) -> QWidget:
        """Inside a block, a field with a menu to make it one of the block's parameters, so that
        each use gives its own value (a new parameter, or one the block declares already)."""
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(widget, 1)
        button = QToolButton()
        button.setText("⋯")
        button.setObjectName(f"link_{spec.name}")
        button.setToolTip("Make this value a parameter of the block, given by each use")
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(button)
        menu.addAction(f"New block parameter '{spec.name}'", partial(self._link, spec, None))
        for name, default in self.document.shown.parameters.items():
            try:
                spec.validate(default)
            except ValueError:
                continue            # a parameter this field could not take (a choice, a shape)
            menu.addAction(f"Take block parameter '{name}'", partial(self._link, spec, name))
        button.setMenu(menu)
        layout.addWidget(button)
        return row

    def _link(self, spec: ParamSpec, parameter: str | None) -> None:
        node_id, shown = self.node_id, self.document.shown
        if node_id is None:
            return
        self.document.try_edit(lambda: parameter_link_edit(self.document.graph, shown, node_id, spec.name, parameter))
        self._build()

    def focus_name(self) -> None:
        """Rename (from a node's menu): the name field, selected, ready to type over."""
        field = self.fields.get("__id__")
        if isinstance(field, QLineEdit):
            field.setFocus()
            field.selectAll()

    def _show_summary(self) -> None:
        """With nothing selected: what is shown (the model, or the open block), its description
        ("Press Train ..." in the examples), its size and its check, and what to do next."""
        document, shown = self.document, self.document.shown
        report = document.shown_report
        title = shown.name or "Untitled"
        self.title.setText(f"<b>{html.escape(title)}</b>" + (" (block)" if document.levels else ""))
        layers = sum(1 for n in shown.nodes.values() if n.type not in ("Input", "Output"))
        lines = [html.escape(shown.metadata.get("description") or "")]
        lines.append(f"{layers} layer{'s' if layers != 1 else ''}, {report.total_params:,} parameters, "
                     f"{report.total_macs:,} multiply-adds per sample")
        if report.frozen_params:
            lines.append(f"{report.trainable_params:,} trainable and {report.frozen_params:,} frozen parameters")
        if not document.levels:
            data = document.graph.training.get("dataset")
            if isinstance(data, str):
                lines.append(f"Trains on <b>{html.escape(data)}</b> (Train > Training Settings)")
        theme = current_theme()
        if report.errors:
            lines.append(f"<span style='color:{theme.error}'>{len(report.errors)} problem(s) to fix: see Problems</span>")
        elif report.warnings:
            lines.append(f"<span style='color:{theme.warning_text}'>{len(report.warnings)} warning(s): see Problems</span>")
        else:
            lines.append(f"<span style='color:{theme.ok}'>Checks pass.</span>")
        lines.append(f"<span style='color:{theme.hint}'>Select a node to see and edit its settings.</span>")
        self.shapes.setText("<br><br>".join(line for line in lines if line))

    def _show_shapes(self, *_) -> None:
        if self.node_id is None:
            self._show_summary()
            return
        if self.node_id not in self.document.shown.nodes:
            return
        graph, report = self.document.shown, self.document.shown_report
        ins = [f"{'' if e.dst_port == 'in' else e.dst_port + ' '}&larr; {e.src}: {report.wire_tensor(e) or '?'}"
               for e in graph.in_edges(self.node_id)]
        node = graph.nodes[self.node_id]
        outs = [f"{p.name}: {report.tensors.get((self.node_id, p.name)) or '?'}" for p in node.spec.outputs]
        lines = [f"<b>in</b> {x}" for x in ins] + [f"<b>out</b> {x}" for x in outs]
        if self.node_id in report.params:
            lines.append(f"{report.params[self.node_id]:,} parameters, {report.macs[self.node_id]:,} multiply-adds")
        learning = learning_words(node.lr_factor, node.fresh) if not self.document.levels else ""
        if learning:
            lines.append(f"{learning[0].upper()}{learning[1:]}.")
        lines += [f"<span style='color:{current_theme().error}'>{d.message}</span>" for d in report.for_node(self.node_id)]
        self.shapes.setText("<br>".join(lines))

    @staticmethod
    def _label(spec: ParamSpec) -> QLabel:
        """A human label; the tooltip says the name torch and the file use."""
        label = QLabel(human_label(spec.name))
        label.setToolTip(named_tooltip(spec.name, spec.doc))
        return label

    def refusal(self, name: str) -> str:
        """What the field of parameter ``name`` says about the text it refused ("" when none)."""
        holder = self._holder(self.fields.get(name))
        return holder.message.text() if holder is not None and not holder.message.isHidden() else ""

    def _holder(self, widget: QWidget | None) -> _RefusableField | None:
        while widget is not None and not isinstance(widget, _RefusableField):
            widget = widget.parentWidget()
        return widget

    def _set_param(self, spec: ParamSpec, value, widget: QWidget | None = None) -> None:
        holder = self._holder(widget)
        if holder is not None:
            holder.accept()
        if self.node_id is None:
            return
        if self.document.shown.nodes[self.node_id].params.get(spec.name) == value:
            return
        node_id = self.node_id
        self.document.try_edit(lambda: self.document.shown.set_params_edit(node_id, **{spec.name: value}))

    def _unlink(self, spec: ParamSpec) -> None:
        """A layer inside a block stops taking the block's parameter: it keeps the value the
        opened use gives (or the parameter's default) as a number of its own."""
        node_id, shown = self.node_id, self.document.shown
        if node_id is None:
            return
        ref = ref_name(shown.nodes[node_id].params[spec.name]) or ""
        value = self.document.bound_value(node_id, spec.name)
        if value is None:
            value = shown.parameters.get(ref, spec.default)
        self.document.try_edit(lambda: shown.set_params_edit(node_id, **{spec.name: value}),
                               f"{node_id}.{spec.name} no longer takes {ref}")

    def _refuse(self, spec: ParamSpec, widget: QWidget, message: str) -> None:
        """A value the spec does not allow: said under the field, which keeps the refused text
        marked until it is corrected (the graph keeps its value); a field without a place for
        the message gets the node's value back."""
        self.document.message.emit(f"{self.node_id}: {message}")
        holder = self._holder(widget)
        if holder is not None:
            holder.refuse(message)
            return
        node = self.document.shown.nodes.get(self.node_id or "")
        if node is not None:
            _set_value(widget, spec, node.params[spec.name])

    def _rename(self, field: QLineEdit) -> None:
        new = field.text().strip()
        if self.node_id is None or new == self.node_id:
            return
        problem = id_problem(new) or (f"a node named '{new}' already exists" if new in self.document.shown.nodes else None)
        if problem:
            self.document.message.emit(problem)
            field.setText(self.node_id)
            return
        old, self.node_id = self.node_id, new
        self.document.push(Rename(old, new))


class _RefusableField(QWidget):
    """A field with a line under it that says why the text typed was refused (hidden while
    the field holds a value the node took)."""

    def __init__(self, field: QWidget, name: str) -> None:
        super().__init__()
        self.field = field
        self.message = QLabel("")
        self.message.setObjectName(f"refused_{name}")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {current_theme().error}")
        self.message.hide()
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(1)
        column.addWidget(field)
        column.addWidget(self.message)

    def refuse(self, message: str) -> None:
        self.message.setText(message)
        self.message.show()
        self.field.setStyleSheet(f"border: 1px solid {current_theme().error}")

    def accept(self) -> None:
        if not self.message.isHidden():
            self.message.hide()
            self.field.setStyleSheet("")


class _BlockParameter(QWidget):
    """A value a layer inside a block takes from the block's parameter: named, not editable
    here (each use gives its own), with a button to give the layer a number of its own."""

    def __init__(self, ref: str, value, unlink) -> None:
        super().__init__()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        here = "" if value is None else f" = {format_shape(value) if isinstance(value, list) else value}"
        label = QLabel(f"<b>{ref}</b>{here}")
        label.setToolTip(f"The block's parameter '{ref}': each use of the block gives its own value")
        button = QPushButton("Own value")
        button.setToolTip("Give this layer a value of its own, the same for every use of the block")
        button.clicked.connect(lambda: unlink())       # not with the button's checked flag
        row.addWidget(label, 1)
        row.addWidget(button)


class _RefusedKeys(QObject):
    """Says what a number box refuses: Qt's own validator drops a letter without a word, and the
    person is left wondering why "abc" did nothing."""

    def __init__(self, box: QSpinBox | QDoubleSpinBox, refuse) -> None:
        super().__init__(box)
        self.refuse = refuse
        self.extra = "+-" if isinstance(box, QSpinBox) else "+-.,eE"
        box.installEventFilter(self)

    def eventFilter(self, box, event) -> bool:
        if event.type() == QEvent.Type.KeyPress:
            typed = event.text()
            if typed and typed.isprintable() and not (typed.isdigit() or typed in self.extra):
                if isinstance(box, QSpinBox):
                    self.refuse(f"{typed!r} is not a digit: this takes a whole number from {box.minimum():,} to "
                                f"{box.maximum():,}")
                else:
                    self.refuse(f"{typed!r} is not part of a number: this takes a number from {box.minimum():g} to "
                                f"{box.maximum():g}")
        return False            # the box handles the key as it would


def _editor_for(spec: ParamSpec) -> QWidget:
    if spec.kind == INT and not spec.optional:
        box = QSpinBox()
        box.setRange(int(spec.minimum if spec.minimum is not None else -INT_LIMIT),
                     int(min(spec.maximum, INT_LIMIT) if spec.maximum is not None else INT_LIMIT))
        box.setKeyboardTracking(False)     # commit on Enter or focus change, not on every digit
        return box
    if spec.kind == FLOAT:
        real = QDoubleSpinBox()
        real.setDecimals(6)
        real.setRange(spec.minimum if spec.minimum is not None else -1e9,
                      spec.maximum if spec.maximum is not None else 1e9)
        real.setSingleStep(0.01 if (spec.maximum or 10) <= 1 else 0.1)
        real.setKeyboardTracking(False)
        return real
    if spec.kind == BOOL:
        return QCheckBox()
    if spec.kind == CHOICE:
        combo = QComboBox()
        combo.addItems(list(spec.choices))
        return combo
    if spec.kind == OPERATION:
        return _operation_picker()
    if spec.kind in (ARGS, KWARGS):
        edit = QLineEdit()
        edit.setPlaceholderText("e.g. x0, [2, 3]" if spec.kind == ARGS else "e.g. keepdim=True")
        edit.setToolTip("x0, x1 ... are the input wires in order; batch is the batch size; "
                        "slices are written slice(start, stop, step)")
        return edit
    if spec.kind == FLOATS:
        numbers = QLineEdit()
        numbers.setPlaceholderText("e.g. 0.5 or 0.485, 0.456, 0.406")
        return numbers
    # INTS, SHAPE and optional ints: typed as text, judged on commit (no keystroke is swallowed:
    # text that is no value stays in the field and the field says why)
    edit = QLineEdit()
    edit.setPlaceholderText("empty: default" if spec.optional else
                            "e.g. 3 or 3x5" + "".join(f" or {w}" for w in spec.words))
    return edit


def _operation_picker() -> QComboBox:
    """The operations, grouped as the palette lists them, each with what it does; type to
    find one by any part of its name."""
    combo = QComboBox()
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    for name, (group, doc) in OPERATIONS.items():
        combo.addItem(name)
        combo.setItemData(combo.count() - 1, f"{group}: {doc}", Qt.ItemDataRole.ToolTipRole)
    completer = combo.completer()
    if completer is not None:
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
    return combo


def _parse(spec: ParamSpec, text: str):
    if spec.kind in (ARGS, KWARGS):
        try:
            return parse_arguments(text, spec.kind == KWARGS)
        except ValueError as err:
            raise ParamError(f"'{spec.name}' {err}") from None
    if spec.kind == FLOATS:
        try:
            return [float(p) for p in text.replace(",", " ").split()]
        except ValueError:
            raise ParamError(f"'{spec.name}' must be numbers separated by commas, not {text.strip()!r}") from None
    if text.strip() in spec.words:
        return text.strip()
    if spec.words and text.strip().isalpha():
        return text.strip()             # a word the spec does not take: it says so
    parts = [p for p in text.replace("x", " ").replace(",", " ").split() if p]
    if not parts:
        return None
    if not all(p.lstrip("-").isdigit() for p in parts):
        example = "1x28x28" if spec.kind == SHAPE else "3 or 3x5"
        words = "".join(f" or {w}" for w in spec.words)
        raise ParamError(f"'{text.strip()}' is not a value: type whole numbers such as {example}{words}")
    numbers = [int(p) for p in parts]
    if spec.kind == SHAPE:
        return numbers
    return numbers[0] if len(numbers) == 1 else numbers


def _set_value(widget: QWidget, spec: ParamSpec, value) -> None:
    widget.blockSignals(True)
    if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
        widget.setValue(value)
    elif isinstance(widget, QCheckBox):
        widget.setChecked(bool(value))
    elif isinstance(widget, QComboBox):
        widget.setCurrentText(value)
    elif isinstance(widget, QLineEdit) and spec.kind in (ARGS, KWARGS):
        widget.setText(arguments_text(value, spec.kind == KWARGS))
    elif isinstance(widget, QLineEdit) and spec.kind == FLOATS:
        widget.setText(", ".join(f"{v:g}" for v in value) if isinstance(value, list) else str(value))
    elif isinstance(widget, QLineEdit):
        widget.setText("" if value is None else (format_shape(value) if isinstance(value, list) else str(value)))
    widget.blockSignals(False)


def _on_change(widget: QWidget, spec: ParamSpec, commit, refuse) -> None:
    """Call ``commit(value)`` when the field holds a new valid value, ``refuse(message)`` if not."""
    if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
        widget.valueChanged.connect(commit)
        _RefusedKeys(widget, refuse)
    elif isinstance(widget, QCheckBox):
        widget.toggled.connect(commit)
    elif isinstance(widget, QComboBox) and widget.isEditable():
        # typing filters the list; a choice (or Enter on a whole name) commits
        def commit_operation():
            try:
                commit(spec.validate(widget.currentText().strip()))
            except ValueError as err:
                refuse(str(err))
        widget.activated.connect(lambda _index: commit_operation())
        typed = widget.lineEdit()
        if typed is not None:
            typed.editingFinished.connect(commit_operation)
    elif isinstance(widget, QComboBox):
        widget.currentTextChanged.connect(commit)
    elif isinstance(widget, QLineEdit):
        def commit_text():
            try:
                value = spec.validate(_parse(spec, widget.text()))
            except ValueError as err:
                refuse(str(err))
                return
            commit(value)
        widget.editingFinished.connect(commit_text)
