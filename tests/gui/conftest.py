import gc
import os
import tempfile

import pytest

# Settings, recent files and the recovery file of the tests stay out of the user's home.
_home = tempfile.mkdtemp(prefix="netloom-gui-tests-")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_home, "config")
os.environ["XDG_DATA_HOME"] = os.path.join(_home, "data")


@pytest.fixture
def window(qtbot):
    from gui.main_window import MainWindow
    win = MainWindow(interactive=False)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.document.undo_stack.setClean()
    # Windows of earlier tests must not linger: their many Python objects would make the garbage
    # collector's pauses longer in later tests that time the window's responsiveness.
    win.close()
    win.deleteLater()
    qtbot.wait(1)
    gc.collect()


@pytest.fixture
def on_graph(qtbot):
    """``on_graph(graph)``: a context for commands (a document showing ``graph`` and a stand-in
    window), no MainWindow."""
    from PySide6.QtWidgets import QWidget

    from tests.gui.stand_in import context
    owner = QWidget()
    qtbot.addWidget(owner)
    return lambda graph: context(graph, owner)
