"""The window's own commands, bound to its widgets: fitting and zooming the canvas, the minimap,
the theme, Find, Quit, and Help (the keyboard shortcuts, About)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PySide6.QtWidgets import QMessageBox, QWidget

import resources

from . import theme as themes
from .canvas.find_bar import FindBar
from .canvas.minimap import Minimap
from .canvas.view import GraphView
from .commands import CANVAS_MENU, TOOLBAR, Command, Context, Place

VIEW, EDIT, FILE, HELP = "&View", "&Edit", "&File", "&Help"


def window_commands(view: GraphView, minimap: Minimap, find_bar: FindBar, close: Callable[[], object]) -> list[Command]:
    return [
        Command("view.fit", "&Fit to Window", lambda ctx: view.fit_all(), (Place(VIEW), Place(TOOLBAR), Place(CANVAS_MENU, 1)),
                keys="Ctrl+0", icon="mdi6.fit-to-screen-outline"),
        Command("view.zoom_in", "Zoom &In", lambda ctx: view.set_zoom(view.zoom * 1.25), (Place(VIEW),),
                standard_keys="ZoomIn"),
        Command("view.zoom_out", "Zoom &Out", lambda ctx: view.set_zoom(view.zoom / 1.25), (Place(VIEW),),
                standard_keys="ZoomOut"),
        Command("view.minimap", "&Minimap", lambda ctx: minimap.set_enabled(not minimap.enabled), (Place(VIEW),),
                keys="Ctrl+Shift+M", checked=lambda ctx: minimap.enabled),
        *(_theme_command(choice) for choice in themes.CHOICES),
        Command("edit.find", "&Find...", lambda ctx: find_bar.open(), (Place(EDIT, 4),), standard_keys="Find"),
        Command("edit.find_next", "Find &Next", lambda ctx: find_bar.next(), (Place(EDIT, 4),), keys="F3"),
        Command("edit.find_previous", "Find Pre&vious", lambda ctx: find_bar.previous(), (Place(EDIT, 4),),
                keys="Shift+F3"),
        Command("file.quit", "&Quit", lambda ctx: close(), (Place(FILE, 1),), standard_keys="Quit"),
    ]


def help_commands(parent: QWidget, shortcuts: Callable[[], list[tuple[str, str]]], interactive: bool) -> list[Command]:
    def show_shortcuts(ctx: Context) -> None:
        rows = "".join(f"<tr><td>{name}</td><td style='padding-left:16px'><b>{keys}</b></td></tr>"
                       for name, keys in shortcuts())
        box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard shortcuts", f"<table>{rows}</table>", parent=parent)
        if interactive:
            box.exec()

    def show_about(ctx: Context) -> None:
        if interactive:
            QMessageBox.about(parent, "About NetLoom", f"NetLoom {resources.version()}: design, train and inspect "
                                                       "neural networks visually.")
    return [Command("help.shortcuts", "&Keyboard Shortcuts", show_shortcuts, (Place(HELP),), standard_keys="HelpContents"),
            Command("help.about", "&About NetLoom", show_about, (Place(HELP),))]


def _theme_command(choice: str) -> Command:
    return Command(f"view.theme.{choice}", choice.capitalize(), partial(choose_theme, choice=choice),
                   (Place(VIEW + "/&Theme"),), checked=lambda ctx: ctx.window.setting("theme", "system") == choice,
                   group="theme")


def choose_theme(ctx: Context, choice: str) -> None:
    """Kept for the next start: plots and canvas take their colours as they are made."""
    ctx.window.keep_setting("theme", choice)
    now = themes.current().name
    wanted = "dark" if choice == "dark" or (choice == "system" and themes.system_is_dark()) else "light"
    ctx.window.say(f"The {wanted} theme applies when NetLoom next starts" if wanted != now else f"Theme: {choice}")
