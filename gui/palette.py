"""The palette: every catalog layer grouped by category, searchable, dragged onto the canvas or
added next to the selection with a double-click. Below the layers, every operation a Function
node can call (folded until a search finds one): placing one places a Function node calling it."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from graphs import categories
from graphs.blocks import Library
from graphs.events import BlockChanged
from graphs.operations import OPERATIONS, PALETTE_PREFIX

from .canvas.view import LAYER_MIME
from .document import Document, Replaced
from .theme import current as current_theme

TYPE_ROLE = Qt.ItemDataRole.UserRole + 1
PLACEABLE = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
OPERATIONS_GROUP = "Torch operations (Function nodes)"
COMMON_GROUP = "Common layers"
# What most models are made of, listed first (each is also in its own section below).
COMMON = ("Input", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear", "Dropout", "BatchNorm2d", "Add", "Output")
HOW_TO_PLACE = "Double-click: add after the selected node. Drag: place it anywhere on the canvas."


class LayerTree(QTreeWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QTreeWidget.DragDropMode.DragOnly)
        self._blocks_group: QTreeWidgetItem | None = None
        specs_by_type = {spec.type: spec for specs in categories().values() for spec in specs}
        self.common = QTreeWidgetItem(self, [COMMON_GROUP])
        self.common.setFlags(Qt.ItemFlag.ItemIsEnabled)
        self.common.setToolTip(0, "The layers most models are made of. " + HOW_TO_PLACE)
        for type_name in COMMON:
            _layer_entry(self.common, specs_by_type[type_name])
        for category, specs in categories().items():
            group = QTreeWidgetItem(self, [category])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            for spec in specs:
                _layer_entry(group, spec)
        self.expandAll()
        self.operations = QTreeWidgetItem(self, [OPERATIONS_GROUP])
        self.operations.setFlags(Qt.ItemFlag.ItemIsEnabled)
        self.operations.setToolTip(0, "Functions of torch, each placed as a Function node that calls it "
                                      "(not a layer: it has no weights)")
        for name, (kind, doc) in OPERATIONS.items():
            entry = QTreeWidgetItem(self.operations, [operation_text(name)])
            entry.setData(0, TYPE_ROLE, PALETTE_PREFIX + name)
            entry.setToolTip(0, f"Torch operation {name}, placed as a Function node ({kind.lower()}): {doc}")
            entry.setForeground(0, self.palette().placeholderText())
            entry.setFlags(PLACEABLE)
        self.operations.setExpanded(False)      # 133 entries: shown when a search finds some

    def mimeTypes(self) -> list[str]:
        return [LAYER_MIME]

    def mimeData(self, items) -> QMimeData:
        data = QMimeData()
        types = [i.data(0, TYPE_ROLE) for i in items if i.data(0, TYPE_ROLE)]
        if types:
            data.setData(LAYER_MIME, types[0].encode())
            data.setText(types[0])
        return data

    def set_blocks(self, blocks: list[tuple[str, str, bool]]) -> None:
        """Show blocks, (name, description, built in), in a Blocks section at the top: the
        document's own first, then the built-in ones in italics."""
        group = self._blocks_group
        if group is None:
            group = self._blocks_group = QTreeWidgetItem(["Blocks"])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.insertTopLevelItem(1, group)       # after the common layers
        group.takeChildren()
        for name, description, builtin in blocks:
            item = QTreeWidgetItem(group, [name])
            item.setData(0, TYPE_ROLE, name)
            item.setToolTip(0, (f"Built-in block: {description}" if builtin else description) or f"Block {name}")
            if builtin:
                font = item.font(0)
                font.setItalic(True)
                item.setFont(0, font)
            item.setFlags(PLACEABLE)
        group.setHidden(not blocks)
        group.setExpanded(True)

    def groups(self) -> list[QTreeWidgetItem]:
        """The sections (Blocks, each category, the operations)."""
        return [item for item in map(self.topLevelItem, range(self.topLevelItemCount())) if item is not None]

    def layer_item(self, type_name: str) -> QTreeWidgetItem | None:
        return next((item for group in self.groups() for item in entries(group) if item.data(0, TYPE_ROLE) == type_name),
                    None)


def operation_text(name: str) -> str:
    """How the palette lists an operation: written as the call it is, so that "relu()" (a
    Function node) is not taken for the ReLU layer."""
    return f"{name}()"


def _layer_entry(group: QTreeWidgetItem, spec) -> QTreeWidgetItem:
    item = QTreeWidgetItem(group, [spec.type])
    item.setData(0, TYPE_ROLE, spec.type)
    item.setToolTip(0, f"Layer {spec.type}: {spec.description}\n{HOW_TO_PLACE}")
    item.setFlags(PLACEABLE)
    return item


def entries(group: QTreeWidgetItem) -> list[QTreeWidgetItem]:
    """The layers (or blocks, or operations) of a section of the palette."""
    return [item for item in map(group.child, range(group.childCount())) if item is not None]


class Palette(QWidget):
    """The layers, and the blocks the document can use: its own, then the built-in ones it does
    not define itself (kept up to date as blocks are defined or another graph opens)."""
    add_requested = Signal(str)          # double-click: add this type next to the selection

    def __init__(self, document: Document, builtin: Library, parent=None) -> None:
        super().__init__(parent)
        self.document, self.builtin = document, builtin
        self.search = QLineEdit(placeholderText="Search layers and operations")
        self.search.setToolTip(HOW_TO_PLACE)
        self.search.setClearButtonEnabled(True)
        self.tree = LayerTree()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.how_to = QLabel(HOW_TO_PLACE)          # said where it is needed, not only in the README
        self.how_to.setWordWrap(True)
        self.how_to.setStyleSheet(f"color: {current_theme().hint}")
        layout.addWidget(self.search)
        layout.addWidget(self.how_to)
        layout.addWidget(self.tree)
        self.search.textChanged.connect(self.filter)
        self.tree.itemDoubleClicked.connect(self._double_clicked)
        document.subscribe(lambda changes: self.show_blocks(), kinds=(Replaced, BlockChanged))
        self.show_blocks()

    def show_blocks(self) -> None:
        graph = self.document.graph
        own = [(name, body.metadata.get("description", ""), False) for name, body in graph.blocks.items()]
        builtin = [(name, body.metadata.get("description", ""), True) for name, body in self.builtin.items()
                   if name not in graph.blocks]
        self.set_blocks(own + builtin)

    def filter(self, text: str) -> None:
        """Show layers whose type, category or description contain the text (the common layers'
        section, whose entries are all in their own sections too, only without a search)."""
        needle = text.strip().lower()
        for group in self.tree.groups():
            if group is self.tree.common:
                group.setHidden(bool(needle))
                continue
            shown = 0
            for item in entries(group):
                hay = f"{item.text(0)} {group.text(0)} {item.toolTip(0)}".lower()
                item.setHidden(bool(needle) and needle not in hay)
                shown += not item.isHidden()
            group.setHidden(shown == 0)
            if group is self.tree.operations:
                group.setExpanded(bool(needle))

    def set_blocks(self, blocks: list[tuple[str, str, bool]]) -> None:
        self.tree.set_blocks(blocks)
        self.filter(self.search.text())

    def visible_types(self) -> list[str]:
        """What the palette lists now, as it lists it (operations as calls: "relu()")."""
        return [item.text(0) for group in self.tree.groups() if not group.isHidden()
                for item in entries(group) if not item.isHidden()]

    def _double_clicked(self, item, column) -> None:
        type_name = item.data(0, TYPE_ROLE)
        if type_name:
            self.add_requested.emit(type_name)
