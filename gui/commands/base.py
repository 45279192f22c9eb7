"""What a command is: an action of the window declared once, as data.

A ``Command`` names itself (``id``), says how it reads (``text``, with its mnemonic), what it
does (``run``, a function of a ``Context``: the document with its selection, and a narrow
``WindowPort`` for what only a window can do), when it can be used (``enabled``), its keys and
where it appears (``places``: a menu of the menu bar and its section, the toolbar, the menus of
a node, a wire or the empty canvas). ``gui/actions.py`` builds the menus, the toolbar, the
canvas menus, the shortcuts and the Help > Keyboard Shortcuts list from these declarations, so
each of them is written in one place; tests run commands with a document and a stand-in port,
without a window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from graphs import Edge

if TYPE_CHECKING:
    from ..document import Document
    from ..selection import Selection

# Where canvas menus are: a right-click on a node, on a wire, on the empty canvas.
NODE_MENU, WIRE_MENU, CANVAS_MENU = "node", "wire", "canvas"
TOOLBAR = "toolbar"


class WindowPort(Protocol):
    """What only a window can do, as the commands need it: tell, ask, choose a path, the
    clipboard, and the canvas's view. A window without a person (a script, a screenshot, the
    tests' windows) answers its questions itself: it keeps no unsaved work, restores what it
    is offered, and names a new block as suggested."""

    def say(self, text: str) -> None:
        """A line in the status bar."""

    def show_error(self, title: str, text: str) -> None:
        """Something went wrong that the person must read (said in the status bar as well)."""

    def ask_save_changes(self, name: str) -> str:
        """Before unsaved changes to ``name`` are dropped: "save", "discard" or "cancel"."""

    def confirm(self, title: str, text: str, unattended: bool) -> bool:
        """A yes-or-no question; ``unattended``: the answer when nobody is there to give one."""

    def ask_text(self, title: str, label: str, suggestion: str) -> str | None:
        """A line of text (a block's name), None when the person cancels."""

    def choose_open_path(self, title: str, pattern: str) -> str:
        """A file to open ("" when none was chosen)."""

    def choose_save_path(self, title: str, start: str, pattern: str) -> str:
        """A file to write ("" when none was chosen)."""

    def choose_folder(self, title: str) -> str:
        """A folder ("" when none was chosen)."""

    def clipboard_text(self) -> str: ...

    def set_clipboard_text(self, text: str) -> None: ...

    def canvas_centre(self) -> tuple[float, float]:
        """The point of the graph at the middle of the visible canvas."""

    def canvas_size(self) -> tuple[int, int]:
        """The visible canvas in pixels (what Auto Layout lays a graph out for)."""

    def view_state(self) -> dict:
        """How the canvas is zoomed and scrolled, as a graph file keeps it."""

    def restore_view(self, state: dict) -> bool:
        """Zoom and scroll as ``state`` says; False when it cannot be read."""

    def fit_view(self) -> None:
        """Zoom the canvas to show every node."""

    def keep_view(self) -> None:
        """Remember how the canvas shows this level, to show it so when it is back (a block is
        opened: closing it returns to the view it was opened from)."""

    def show_node(self, node_id: str, centre: bool) -> None:
        """Scroll a node into view: centred, or only as far as needed (a node just added stays
        where it was dropped)."""

    def focus_rename(self) -> None:
        """Put the cursor in the selected node's name field, ready to type a new one."""

    def show_panel(self, name: str, height_share: float | None = None) -> None:
        """Bring a panel of the window to the front ("Problems", "Training"), as tall as that
        share of the window when one is given."""

    def setting(self, key: str, default: Any) -> Any:
        """A preference kept between sessions (recent files, the theme)."""

    def keep_setting(self, key: str, value: Any) -> None: ...


@dataclass
class Context:
    """What a command acts on: the document (and its selection), the window's port, and for a
    canvas menu what was right-clicked (``node``, ``wire``) and where (``point``, in the
    canvas's coordinates)."""
    document: Document
    window: WindowPort
    node: str | None = None
    wire: Edge | None = None
    point: tuple[float, float] | None = None

    @property
    def selection(self) -> Selection:
        return self.document.selection

    def at(self, **where: Any) -> Context:
        """This context for a canvas menu: what was clicked, and where."""
        return replace(self, **where)


@dataclass(frozen=True)
class Place:
    """Where a command appears: a menu of the menu bar as a path of titles ("&File/Open
    &Recent"), ``TOOLBAR``, or a canvas menu (``NODE_MENU`` ..., optionally with a submenu:
    "node/Add Layer After"). Sections of a menu are divided by separators; within a section,
    entries come by ``order``, then as they are declared."""
    where: str
    section: int = 0
    order: int = 0


@dataclass(frozen=True)
class Choice:
    """One entry of a command that offers several (a recent file, a layer type); ``group`` puts
    it in a submenu of that name (the layer's category)."""
    text: str
    value: Any
    group: str = ""


def always(ctx: Context) -> bool:
    return True


@dataclass(frozen=True)
class Command:
    id: str
    text: str                      # as menus show it, "&" before its mnemonic
    run: Callable[..., Any]        # run(ctx), or run(ctx, value) for a command with choices
    places: tuple[Place, ...] = ()
    keys: str = ""                 # "Ctrl+D", "F3", "Alt+Down"
    standard_keys: str = ""        # or the platform's keys for a standard action: "Save", "Undo"
    enabled: Callable[[Context], bool] = always
    context_text: Callable[[Context], str] | None = None   # its words in a canvas menu ("Delete (3)")
    label: Callable[[Context], str] | None = None          # menu words that follow the document ("Undo Move")
    tip: Callable[[Context], str] | None = None
    checked: Callable[[Context], bool] | None = None       # a toggle, and whether it is on
    group: str = ""                # toggles of one group exclude each other (the themes)
    choices: Callable[[Context], list[Choice]] | None = None
    icon: str = ""                 # a qtawesome icon, "mdi6.play" (gui.theme.icon draws it)

    @property
    def name(self) -> str:
        """The words without mnemonic or ellipsis: "Save As"."""
        return plain(self.text)

    def appears_in(self, where: str) -> Place | None:
        return next((p for p in self.places if p.where == where or p.where.startswith(where + "/")), None)


def plain(text: str) -> str:
    return text.replace("&", "").removesuffix("...")


def counted(words: str) -> Callable[[Context], str]:
    """A node menu's words for a command on the selection: "Delete (3)" when it acts on several."""
    return lambda ctx: f"{words} ({len(ctx.selection.nodes)})" if len(ctx.selection.nodes) > 1 else words
