"""The file commands: New, New from Example, Open, Open Recent, Save, Save As; each asks before
unsaved work is dropped. The questions and the file dialogs are the window port's."""

from __future__ import annotations

import functools
from pathlib import Path

import resources
from engine.interop import moved_start_entry
from graphs import Graph, GraphFileError, load_graph, loads_graph, save_graph
from graphs.edits import SetTraining, SetView

from .base import TOOLBAR, Choice, Command, Context, Place

EXAMPLES = resources.examples_folder()
MAX_RECENT = 8
GRAPHS = "NetLoom graphs (*.loom)"


def new_document(ctx: Context) -> bool:
    if not maybe_save(ctx):
        return False
    ctx.document.replace(Graph(name="untitled"), None)
    return True


def open_example(ctx: Context, path: Path) -> bool:
    """An example opens as a new untitled document, so saving never overwrites it; False when
    the person kept the document they had, or the example cannot be read."""
    if not maybe_save(ctx):
        return False
    graph = _load(ctx, path, "This example cannot be opened")
    if graph is None:
        return False
    ctx.document.replace(graph, None)
    ctx.window.fit_view()
    return True


def open_file(ctx: Context, path: str | Path | None = None) -> bool:
    """Open a graph file (asked for when not given), in the view it was saved with."""
    if not maybe_save(ctx):
        return False
    if path is None:
        path = ctx.window.choose_open_path("Open graph", GRAPHS)
        if not path:
            return False
    graph = _load(ctx, path, "The file cannot be opened")
    if graph is None:
        return False
    resolved = Path(path).resolve()
    _remember(ctx, resolved)
    ctx.document.replace(graph, resolved)
    if not (graph.view and ctx.window.restore_view(graph.view)):
        ctx.window.fit_view()
    return True


def _load(ctx: Context, path: str | Path, title: str) -> Graph | None:
    """A graph file, or None after showing the loader's message (the document stays as it was)."""
    try:
        return load_graph(path)
    except GraphFileError as err:
        ctx.window.show_error(title, str(err))
        return None


def save(ctx: Context) -> bool:
    if ctx.document.path is None:
        return save_as(ctx)
    return _save_to(ctx, ctx.document.path)


def save_as(ctx: Context) -> bool:
    start = str(ctx.document.path or f"{ctx.document.graph.name}.loom")
    path = ctx.window.choose_save_path("Save graph", start, GRAPHS)
    if not path:
        return False
    return _save_to(ctx, Path(path if path.endswith(".loom") else path + ".loom"))


def _save_to(ctx: Context, path: Path) -> bool:
    document = ctx.document
    if not document.levels:        # the view of an opened block is not the model's
        document.apply_quietly(SetView(ctx.window.view_state()))
    moved = _move_start_weights(ctx, path)
    try:
        save_graph(document.graph, path)
    except GraphFileError as err:
        if moved is not None:
            document.graph.revert(moved)       # still the old file's: named from its place
        ctx.window.show_error("The file cannot be saved", str(err))
        return False
    _remember(ctx, path.resolve())
    document.set_path(path.resolve())
    ctx.window.say(f"Saved {path}")
    return True


def _move_start_weights(ctx: Context, path: Path) -> SetTraining | None:
    """Saved in another place: the start weights stay the same file, named relative to the new
    place (an untitled graph's full path becomes relative to its first file)."""
    document = ctx.document
    entry = document.graph.training.get("start_from")
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or not entry["path"]:
        return None
    moved = moved_start_entry(entry, document.path, path)
    if moved == entry:
        return None
    edit = SetTraining(document.graph.training | {"start_from": moved})
    document.apply_quietly(edit)
    return edit


def maybe_save(ctx: Context) -> bool:
    """True when it is fine to drop the current document (saved, or the person agreed)."""
    if not ctx.document.modified:
        return True
    answer = ctx.window.ask_save_changes(ctx.document.graph.name)
    if answer == "save":
        return save(ctx)
    return answer == "discard"


# ---------------------------------------------------------------------- recent files and examples


def recent_files(ctx: Context) -> list[str]:
    value = ctx.window.setting("recent", [])
    return [str(p) for p in value] if isinstance(value, list) else []


def _remember(ctx: Context, path: Path) -> None:
    recent = [p for p in recent_files(ctx) if p != str(path)]
    ctx.window.keep_setting("recent", [str(path)] + recent[: MAX_RECENT - 1])


@functools.cache
def example_titles() -> tuple[tuple[str, Path], ...]:
    """(title, file) of each bundled example, read once."""
    found = []
    for path in sorted(EXAMPLES.glob("*.loom")):
        try:
            title = loads_graph(path.read_text(encoding="utf-8"), path).name
        except (GraphFileError, OSError):
            title = path.stem
        found.append((title, path))
    return tuple(found)


FILE = "&File"
COMMANDS = [
    Command("file.new", "&New", new_document, (Place(FILE), Place(TOOLBAR)), standard_keys="New", icon="mdi6.file-outline"),
    Command("file.example", "Example", open_example, (Place(FILE + "/New from &Example"),),
            choices=lambda ctx: [Choice(title, path) for title, path in example_titles()]),
    Command("file.open", "&Open...", lambda ctx: open_file(ctx), (Place(FILE), Place(TOOLBAR)), standard_keys="Open",
            icon="mdi6.folder-open-outline"),
    Command("file.recent", "Recent", open_file, (Place(FILE + "/Open &Recent"),),
            choices=lambda ctx: [Choice(p, p) for p in recent_files(ctx)]),
    Command("file.save", "&Save", save, (Place(FILE), Place(TOOLBAR)), standard_keys="Save",
            icon="mdi6.content-save-outline"),
    Command("file.save_as", "Save &As...", save_as, (Place(FILE),), standard_keys="SaveAs"),
]
