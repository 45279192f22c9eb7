"""Right-click menus on the canvas: on a node (open a block, rename, delete, group, make unique),
on a wire (insert a layer on it, disconnect) and on the empty canvas (add a layer there, paste,
select all, lay out, fit). Each entry runs the same command as the menu bar or the palette, so
a right-click does nothing the rest of the window would do differently."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QMenu

from graphs import Edge, categories
from graphs.edits import Disconnect

from .items import EdgeItem, NodeItem

if TYPE_CHECKING:
    from ..main_window import MainWindow


def canvas_menu(window: MainWindow, scene_pos: QPointF, item) -> QMenu:
    """The menu for a right-click at ``scene_pos`` on ``item`` (a node, a wire, or None)."""
    menu = QMenu(window.view)
    if isinstance(item, NodeItem):
        _node_entries(window, menu, item.node_id)
    elif isinstance(item, EdgeItem):
        _wire_entries(window, menu, item.edge)
    else:
        _layers_menu(menu.addMenu("Add Layer Here"), lambda t: window.add_at(t, scene_pos.x(), scene_pos.y()))
        menu.addAction("Paste", window.paste)
        menu.addSeparator()
        menu.addAction("Select All", window.select_all)
        menu.addAction("Auto Layout", window.auto_layout)
        menu.addAction("Fit to Window", window.view.fit_all)
        if window.document.levels:
            menu.addAction("Close Block", lambda: window.go_up(len(window.document.levels) - 1))
    return menu


def _node_entries(window: MainWindow, menu: QMenu, node_id: str) -> None:
    document = window.document
    if node_id not in window.scene.selected_node_ids():      # act on what was clicked
        window.select_node(node_id)
    chosen = window.scene.selected_node_ids()
    node = document.shown.nodes[node_id]
    if node.type in document.graph.blocks:
        menu.addAction(f"Open {node.type}", lambda: window.open_block(node_id))
        if document.uses_of(node.type) > 1:
            menu.addAction("Make Block Unique", lambda: document.make_unique(node_id))
        menu.addAction("Ungroup Block", window.blocks.ungroup)
        menu.addSeparator()
    _layers_menu(menu.addMenu("Add Layer After"), lambda t: window.add_after_selection(t))
    menu.addAction("Rename", lambda: window.inspector.focus_name())
    if len(chosen) > 1 or node.type not in ("Input", "Output"):
        menu.addAction(f"Group into Block ({len(chosen)})" if len(chosen) > 1 else "Group into Block", window.blocks.group)
    menu.addSeparator()
    menu.addAction("Copy", window.copy)
    menu.addAction("Duplicate", window.duplicate)
    menu.addAction(f"Delete ({len(chosen)})" if len(chosen) > 1 else "Delete", window.delete_selection)


def _wire_entries(window: MainWindow, menu: QMenu, edge: Edge) -> None:
    document = window.document

    def insert(type_name: str) -> None:
        edit = window.blocks.adding(type_name, lambda: document.shown.insert_between_edit(edge, type_name))
        document.push(edit)

    _layers_menu(menu.addMenu("Insert Layer"), insert)
    menu.addAction("Disconnect", lambda: document.push(Disconnect(edge)))


def _layers_menu(menu: QMenu, chosen) -> None:
    """Every layer type, by category, as the palette lists them."""
    for category, specs in categories().items():
        sub = menu.addMenu(category)
        for spec in specs:
            sub.addAction(spec.type, partial(chosen, spec.type))
