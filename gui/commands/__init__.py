"""The window's commands, declared once as functions of the document and its selection (see
``base``): editing, blocks, files, how nodes learn and the checks' fixes here; the window's own (view, help) and training's where
their widgets are. ``gui/actions.py`` makes menus, toolbar and shortcuts of them."""

from . import blocks, editing, files, fixes, learning
from .base import CANVAS_MENU, NODE_MENU, TOOLBAR, WIRE_MENU, Choice, Command, Context, Place, WindowPort, plain

__all__ = ["CANVAS_MENU", "NODE_MENU", "TOOLBAR", "WIRE_MENU", "Choice", "Command", "Context", "Place", "WindowPort",
           "blocks", "editing", "files", "fixes", "learning", "plain"]
