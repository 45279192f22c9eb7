"""Help > Getting Started and the canvas's concepts (ports and wires, layers and operations,
blocks, problems and fixes), each a short page in one help window that links to the others.
What the training tabs show is said by their own help."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QDialog, QTextBrowser, QVBoxLayout, QWidget

# id -> (menu text with its mnemonic, title, page); the pages link to each other as "topic:id".
TOPICS: dict[str, tuple[str, str, str]] = {
    "start": ("&Getting Started", "Getting started", """
<p>NetLoom builds a neural network as a graph: data comes in at an <b>Input</b>, flows left to right through
layers along <b>wires</b>, and leaves at an <b>Output</b>. What to do first:</p>
<ol>
<li><b>File &gt; New</b> gives an Input wired to an Output, with the Input selected. The page over the empty
canvas offers the examples too: open one to see a finished model (LeNet-5 is a good first one).</li>
<li><b>Set the Input's shape</b> in the Inspector on the right, without the batch: 1x28x28 is one 28x28 grey
image; 3x32x32 a colour one; 4 a row of four numbers.</li>
<li><b>Double-click a layer</b> in the Layers palette (the common ones are at the top): it is added after the
selected node and wired in, and becomes the selected node, so the next double-click adds after it. Drag a
layer instead to drop it anywhere.</li>
<li><b>Set each layer's numbers</b> in the Inspector (hover a label for the name torch gives it). A value a field
cannot take stays in the field in red, with the reason under it.</li>
<li><b>Watch Problems</b> (bottom): it lists what does not fit yet, on the node it is about; a button such as
<i>Insert Flatten</i> mends it in one click. Every wire shows the shape of the tensor it carries.</li>
<li><b>Train</b> (F5) once the status bar says <i>checks pass</i>; Train &gt; Training Settings chooses the data
set. The Training panel shows the curves and looks inside the model as it learns.</li>
</ol>
<p>More: <a href="topic:wires">Ports and wires</a> · <a href="topic:layers">Layers and operations</a> ·
<a href="topic:blocks">Blocks</a> · <a href="topic:problems">Problems and fixes</a></p>"""),
    "wires": ("&Ports and Wires", "Ports and wires", """
<p>Each node has <b>input ports</b> on its left edge and <b>output ports</b> on its right. A <b>wire</b> runs
from an output to an input and carries one tensor; an arrowhead shows which way it flows, and its label the
tensor's shape without the batch (<i>6x28x28</i>: six maps of 28 by 28).</p>
<ul>
<li><b>Draw a wire</b>: press on an output port and release on an input port (Esc cancels).</li>
<li><b>Delete a wire</b>: click it and press Delete, or use its right-click menu, which can also insert a layer
on it.</li>
<li>An input port takes one wire; a merge (Add, Concat) takes several. A wire that would make a loop is
refused, and the status bar says why.</li>
<li>Zoomed out, nodes become boxes that keep their type and key numbers; zoom in (wheel) for the rest.</li>
</ul>"""),
    "layers": ("&Layers and Operations", "Layers and operations", """
<p>The palette lists <b>layers</b> (Conv2d, ReLU, Linear ...), grouped by kind, the common ones first. A
layer is what torch.nn calls a module: most have weights that training learns.</p>
<p>Below them are <b>torch operations</b>, written as calls: <i>relu()</i>, <i>cat()</i>. Placing one places a
<b>Function node</b> that calls it on its input wires; it has no weights. Search finds both: the layer
<i>ReLU</i> and the operation <i>relu()</i> do the same sum, the layer is the usual choice.</p>"""),
    "blocks": ("&Blocks", "Blocks", """
<p>A <b>block</b> is a graph used as one node, like a module made of modules: ResNet's BasicBlock, VGG's
stage. Its box on the canvas shows its name and how many times it repeats (<i>x2</i>).</p>
<ul>
<li><b>Open a block</b> with a double-click (the breadcrumb above the canvas leads back out).</li>
<li><b>Make a block</b>: select a chain of nodes, then Edit &gt; Group into Block (Ctrl+G). Every use of it
changes when it changes; its parameters let each use give its own numbers.</li>
<li>The palette's Blocks section lists this graph's blocks and the built-in ones (in italics).</li>
</ul>"""),
    "problems": ("Problems and &Fixes", "Problems and fixes", """
<p>The graph is checked as you edit. <b>Errors</b> (red) stop training: a wire into the wrong shape, a missing
Output. <b>Warnings</b> (amber) train but are likely mistakes. Each is marked on its node and listed in the
Problems panel; click one to go to its node.</p>
<p>Many carry a <b>fix</b>, a button that makes the change in one undoable step: <i>Insert Flatten</i> puts a
Flatten into the flow before a Linear that gets a map (what follows moves along to make room), a <i>Set
padding</i> fix gives a layer the number that fits. Undo (Ctrl+Z) takes any fix back.</p>"""),
}


class HelpWindow(QDialog):
    """One window for the help pages; a link to another topic turns the page."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("help_window")
        self.resize(620, 520)
        self.page = QTextBrowser()
        self.page.setOpenLinks(False)
        self.page.anchorClicked.connect(self._follow)
        layout = QVBoxLayout(self)
        layout.addWidget(self.page)
        self.topic = ""

    def show_topic(self, topic: str) -> None:
        _, title, text = TOPICS[topic]
        self.topic = topic
        self.setWindowTitle(f"NetLoom help: {title}")
        self.page.setHtml(f"<h3>{title}</h3>{text}")
        self.show()
        self.raise_()

    def _follow(self, url: QUrl) -> None:
        target = url.toString().removeprefix("topic:")
        if target in TOPICS:
            self.show_topic(target)
