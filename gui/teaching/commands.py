"""The commands that open the teaching views: from a Conv2d or pooling node's menu (that layer,
its wire, its trained filter), and from Help > Learn (the notes' worked examples on their own)."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from ..commands import NODE_MENU, Command, Context, Place
from ..document import Checked
from .sliding_window_view import SlidingWindowView

STEP_TYPES = {"Conv2d": "Convolution", "MaxPool2d": "Pooling", "AvgPool2d": "Pooling"}
LEARN = "&Help/&Learn"


class TeachingViews(QObject):
    """Opens the views as windows of their own beside the editor; ``opened`` keeps them (the
    newest last) so that several can be compared."""

    def __init__(self, parent: QWidget, dashboard) -> None:
        super().__init__(parent)
        self.parent_widget, self.dashboard = parent, dashboard
        self.opened: list[SlidingWindowView] = []

    def commands(self) -> list[Command]:
        return [
            Command("learn.step_layer", "Step by Step...", self.step_layer, (Place(NODE_MENU, 0, 5),),
                    enabled=lambda ctx: _step_type(ctx) is not None,
                    context_text=lambda ctx: f"{STEP_TYPES[_step_type(ctx) or 'Conv2d']} Step by Step..."),
            Command("learn.step_examples", "&Convolution and Pooling Step by Step...", lambda ctx: self.open(None),
                    (Place(LEARN),)),
        ]

    def step_layer(self, ctx: Context) -> SlidingWindowView:
        document = ctx.document
        record = self.dashboard.record
        if record is not None:
            self.dashboard.run_model.follow(record)      # the run's newest weights, for the layer's filter and input
        view = self.open(ctx.node, document.shown, document.shown_report, document.data)
        # The data set is read in a thread: offer its samples once it is there (each check follows it).
        stop = document.subscribe(lambda changes: view.set_data(document.data), kinds=(Checked,))
        view.destroyed.connect(lambda *_: stop())
        view.finished.connect(lambda *_: stop())
        return view

    def open(self, node_id: str | None, graph=None, report=None, data=None) -> SlidingWindowView:
        view = SlidingWindowView(self.parent_widget, graph, node_id, report,
                                 self.dashboard.run_model if node_id is not None else None, data)
        self.opened.append(view)
        view.finished.connect(lambda _: self.opened.remove(view) if view in self.opened else None)
        view.show()
        return view


def _step_type(ctx: Context) -> str | None:
    node = ctx.document.shown.nodes.get(ctx.node) if ctx.node is not None else None
    return node.type if node is not None and node.type in STEP_TYPES else None
