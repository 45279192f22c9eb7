"""The window's menus, toolbar, canvas menus, shortcuts and shortcut list, built from the command
declarations (``gui/commands``): one QAction per command, kept enabled, checked and worded as
the document says after each change of it (or of the undo stack, or of training)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QWidget
from shiboken6 import isValid

from . import theme as themes
from .commands import CANVAS_MENU, NODE_MENU, TOOLBAR, WIRE_MENU, Command, Context
from .document import PathChanged, Replaced

MENU_BAR = ("&File", "&Edit", "&View", "&Train", "&Help")
CANVAS_MENUS = (NODE_MENU, WIRE_MENU, CANVAS_MENU)


class CommandActions(QObject):
    def __init__(self, window: QMainWindow, context: Context, commands: Iterable[Command],
                 gestures: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(window)
        self.window, self.context = window, context
        self.commands = list(commands)
        self.gestures = list(gestures)        # (what, how) of the canvas's gestures, for the shortcut list
        self._actions: dict[str, QAction] = {}
        self._menus: dict[str, QMenu] = {}
        self._groups: dict[str, QActionGroup] = {}
        for command in self.commands:
            if any(not p.where.startswith(CANVAS_MENUS) for p in command.places) and not command.choices:
                self._actions[command.id] = self._make_action(command)
        for title in MENU_BAR:
            self._fill(self.menu(title), title)
        self.toolbar = window.addToolBar("Main")
        self.toolbar.setObjectName("Main")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for command in self.commands:
            if command.appears_in(TOOLBAR):
                self.toolbar.addAction(self._actions[command.id])
        context.document.subscribe(self._document_changed)
        context.document.undo_stack.indexChanged.connect(self._undo_changed)
        context.document.undo_stack.cleanChanged.connect(self._undo_changed)
        self.refresh()

    # ------------------------------------------------------------------ what was built
    def action(self, command_id: str) -> QAction:
        return self._actions[command_id]

    def menu(self, path: str) -> QMenu:
        """The menu of the menu bar at ``path`` ("&File", "&File/Open &Recent"), made when first asked."""
        if path not in self._menus:
            parent, _, title = path.rpartition("/")
            menu = QMenu(title, self.window)
            if not parent:
                self.window.menuBar().addMenu(menu)
            self._menus[path] = menu
        return self._menus[path]

    def add_toolbar_widget(self, after: str, widget: QWidget) -> None:
        """A widget on the toolbar right after a command's button (the epochs beside Train)."""
        actions = self.toolbar.actions()
        index = actions.index(self.action(after))
        if index + 1 < len(actions):
            self.toolbar.insertWidget(actions[index + 1], widget)
        else:
            self.toolbar.addWidget(widget)

    def shortcuts(self) -> list[tuple[str, str]]:
        """(command, keys) of every menu command that has keys, in menu order, then the gestures."""
        found: list[tuple[str, str]] = []
        for title in MENU_BAR:
            for command in self._in_menu(title, deep=True):
                keys = _keys(command)
                if not keys.isEmpty() and (command.name, keys.toString(QKeySequence.SequenceFormat.NativeText)) not in found:
                    found.append((command.name, keys.toString(QKeySequence.SequenceFormat.NativeText)))
        return found + self.gestures

    # ------------------------------------------------------------------ canvas menus
    def canvas_menu(self, where: str, context: Context, parent: QWidget | None = None) -> QMenu:
        """The menu of a right-click on a node, a wire or the canvas: the commands placed there that
        apply to what was clicked, worded for it."""
        menu = QMenu(parent)
        self._fill(menu, where, context)
        return menu

    # ------------------------------------------------------------------ building
    def _make_action(self, command: Command) -> QAction:
        action = QAction(command.text, self.window)
        action.setIconText(command.name)          # the toolbar's words stay put when the menu's follow the document
        keys = _keys(command)
        if not keys.isEmpty():
            action.setShortcut(keys)
        if command.icon:
            action.setIcon(themes.icon(command.icon))
        if command.checked is not None:
            action.setCheckable(True)
            if command.group:
                group = self._groups.setdefault(command.group, QActionGroup(self.window))
                group.addAction(action)
        action.triggered.connect(partial(self._run, command, self.context))
        return action

    def _in_menu(self, path: str, deep: bool = False) -> list[Command]:
        """The commands placed directly in ``path`` (or anywhere under it), in menu order."""
        placed = []
        for index, command in enumerate(self.commands):
            for place in command.places:
                if place.where == path or (deep and place.where.startswith(path + "/")):
                    placed.append(((place.section, place.order, index), command))
                    break
        return [command for _, command in sorted(placed, key=lambda entry: entry[0])]

    def _fill(self, menu: QMenu, path: str, context: Context | None = None) -> None:
        """Put in ``menu`` the commands placed at ``path`` and the submenus below it, by section.
        Without ``context``: a menu of the menu bar, with the commands' lasting actions; with one:
        a canvas menu, made afresh for what was clicked, listing only what applies to it."""
        menu.clear()
        entries: list[tuple[tuple[int, int, int], str, Command]] = []
        seen_submenus: set[str] = set()
        for index, command in enumerate(self.commands):
            for place in command.places:
                if place.where == path:
                    entries.append(((place.section, place.order, index), "", command))
                elif place.where.startswith(path + "/"):
                    sub = place.where[len(path) + 1:].split("/")[0]
                    if sub not in seen_submenus:
                        seen_submenus.add(sub)
                        entries.append(((place.section, place.order, index), sub, command))
        section = None
        for (at, _, _), sub, command in sorted(entries, key=lambda entry: entry[0]):
            if context is not None and not sub and not command.choices and not command.enabled(context):
                continue
            if section is not None and at != section and menu.actions() and not menu.actions()[-1].isSeparator():
                menu.addSeparator()          # between sections that show something (a node may have no fixes)
            section = at
            if sub:
                self._add_submenu(menu, f"{path}/{sub}", sub, context)
            elif command.choices is not None:
                self._add_choices(menu, command, context or self.context)
            elif context is None:
                menu.addAction(self._actions[command.id])
            else:
                text = command.context_text(context) if command.context_text else command.name
                menu.addAction(text, partial(self._run, command, context))

    def _add_submenu(self, menu: QMenu, path: str, title: str, context: Context | None) -> None:
        if context is None:
            sub = self.menu(path)
            self._fill(sub, path)
            if sub.menuAction() not in menu.actions():
                menu.addMenu(sub)
            sub.menuAction().setEnabled(not sub.isEmpty())
        else:
            sub = menu.addMenu(title)
            self._fill(sub, path, context)

    def _add_choices(self, menu: QMenu, command: Command, context: Context) -> None:
        assert command.choices is not None
        groups: dict[str, QMenu] = {}
        for choice in command.choices(context):
            target = menu
            if choice.group:
                target = groups.get(choice.group) or groups.setdefault(choice.group, menu.addMenu(choice.group))
            target.addAction(choice.text, partial(self._run, command, context, choice.value))

    # ------------------------------------------------------------------ keeping up
    def _run(self, command: Command, context: Context, *value) -> None:
        command.run(context, *value)
        self.refresh()

    def _document_changed(self, changes) -> None:
        if changes.has(Replaced, PathChanged):       # the recent files, after an open or a save
            for path in [p for p in self._menus if any(c.choices for c in self._in_menu(p))]:
                self._fill(self._menus[path], path)
                self._menus[path].menuAction().setEnabled(not self._menus[path].isEmpty())
        self.refresh()

    def _undo_changed(self, *_) -> None:
        if isValid(self.context.document.undo_stack):       # not the stack emptying itself as the window goes
            self.refresh()

    def refresh(self, *_) -> None:
        """Each action enabled, checked and worded as the document and the window are now."""
        ctx = self.context
        for command in self.commands:
            action = self._actions.get(command.id)
            if action is None:
                continue
            action.setEnabled(command.enabled(ctx))
            if command.label is not None:
                action.setText(command.label(ctx))
            if command.tip is not None:
                action.setToolTip(command.tip(ctx))
            if command.checked is not None:
                action.setChecked(command.checked(ctx))


def _keys(command: Command) -> QKeySequence:
    if command.standard_keys:
        return QKeySequence(getattr(QKeySequence.StandardKey, command.standard_keys))
    return QKeySequence(command.keys)

