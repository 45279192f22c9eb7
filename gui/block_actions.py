"""Blocks in the window: Group into Block (Ctrl+G), Ungroup (Ctrl+Shift+G), and the palette's
Blocks section: the document's own blocks, then the built-in ones (ResNet, VGG, Inception,
Transformer), ready to be dragged in like any layer. Adding a built-in block copies its
definition into the document in the same undo step."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QInputDialog, QLineEdit

import resources
from graphs import GraphError, GraphFileError, load_graph
from graphs.block_edits import group_edit, inline_edit
from graphs.block_library import with_blocks
from graphs.blocks import Library
from graphs.edits import AddNode
from graphs.events import BlockChanged

from .document import Replaced
from .palette import Palette

if TYPE_CHECKING:
    from .main_window import MainWindow


class BlockActions:
    def __init__(self, window: MainWindow, menu, palette: Palette) -> None:
        self.window, self.palette = window, palette
        window.make_action("&Group into Block", self.group, "Ctrl+G", menu)
        window.make_action("U&ngroup Block", self.ungroup, "Ctrl+Shift+G", menu)
        self.builtin = self._load_builtin()
        window.document.subscribe(lambda changes: self.show_blocks(), kinds=(Replaced, BlockChanged))
        self.show_blocks()

    def _load_builtin(self) -> Library:
        try:
            return load_graph(resources.builtin_blocks_file()).blocks
        except GraphFileError as err:         # a damaged installation: the palette goes without them
            self.window.say(f"Built-in blocks not available: {err}")
            return {}

    def show_blocks(self) -> None:
        graph = self.window.document.graph
        own = [(name, body.metadata.get("description", ""), False) for name, body in graph.blocks.items()]
        builtin = [(name, body.metadata.get("description", ""), True) for name, body in self.builtin.items()
                   if name not in graph.blocks]
        self.palette.set_blocks(own + builtin)

    def adding(self, type_name: str, make_edit):
        """The edit that adds a node of ``type_name``, with the built-in definition it needs."""
        return with_blocks(self.window.document.shown, self.builtin, type_name, make_edit)

    def ask_name(self, suggestion: str) -> str | None:
        """The new block's name; a window run by a script takes the suggestion."""
        if not self.window.interactive:
            return suggestion
        name, ok = QInputDialog.getText(self.window, "Group into Block", "Name of the new block:",
                                        QLineEdit.EchoMode.Normal, suggestion)
        return name.strip() if ok and name.strip() else None

    def group(self) -> None:
        document = self.window.document
        chosen = self.window.scene.selected_node_ids()
        if not chosen:
            self.window.say("select the layers to group into a block first")
            return
        taken = set(document.graph.blocks)
        suggestion = next(f"Block{i}" for i in range(1, len(taken) + 2) if f"Block{i}" not in taken)
        name = self.ask_name(suggestion)
        if name is None:
            return
        shapes = {key: (list(info.shape), info.dtype) for key, info in document.shown_report.tensors.items()}
        try:
            edit = group_edit(document.shown, chosen, name, shapes)
        except GraphError as err:
            self.window.say(str(err))
            return
        if document.push(edit):
            self.window.select_node(next(e.node.id for e in edit.edits if isinstance(e, AddNode)))

    def ungroup(self) -> None:
        document = self.window.document
        uses = [n for n in self.window.scene.selected_node_ids() if document.shown.nodes[n].type in document.graph.blocks]
        if not uses:
            self.window.say("select a block to ungroup")
            return
        for use in uses:
            try:
                document.push(inline_edit(document.shown, use))
            except GraphError as err:
                self.window.say(str(err))
                return
