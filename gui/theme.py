"""Light and dark: the colours of the canvas and the plots, and the widgets' palette.

The theme follows the system's colour scheme unless View > Theme names one. It is chosen when
the window starts (plots and items take their colours as they are made), so a change in the
menu is kept in the settings and takes effect at the next start.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette

CHOICES = ("system", "light", "dark")


@dataclass(frozen=True)
class Theme:
    name: str
    canvas: str          # the canvas behind the graph
    grid: str
    node_body: str
    node_text: str
    node_muted: str      # a node's parameter lines
    node_border: str
    wire: str
    wire_label: str
    plate: str           # behind a label shown on hover (#AARRGGBB, as Qt reads it)
    plot_background: str
    plot_foreground: str
    bar: str             # the breadcrumb's band over the canvas
    bar_line: str


LIGHT = Theme("light", canvas="#f8fafc", grid="#e2e8f0", node_body="#ffffff", node_text="#0f172a",
              node_muted="#475569", node_border="#334155", wire="#64748b", wire_label="#334155",
              plate="#e6ffffff", plot_background="#ffffff", plot_foreground="#334155",
              bar="#ecfeff", bar_line="#99f6e4")
DARK = Theme("dark", canvas="#0b1220", grid="#1e293b", node_body="#1e293b", node_text="#e2e8f0",
             node_muted="#94a3b8", node_border="#94a3b8", wire="#94a3b8", wire_label="#cbd5e1",
             plate="#e60f172a", plot_background="#0f172a", plot_foreground="#cbd5e1",
             bar="#0b2e33", bar_line="#115e59")

_current = [LIGHT]


def current() -> Theme:
    return _current[0]


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    scheme = getattr(Qt, "ColorScheme", None)
    return scheme is not None and hints.colorScheme() == scheme.Dark


def apply(app, choice: str = "system") -> Theme:
    """Set the theme for what is made from now on: the widgets' palette and pyqtgraph's colours."""
    import pyqtgraph as pg

    dark = choice == "dark" or (choice not in ("light", "dark") and system_is_dark())
    theme = DARK if dark else LIGHT
    _current[0] = theme
    if dark:
        app.setStyle("Fusion")           # the platform styles draw some parts light whatever the palette
        app.setPalette(_dark_palette())
    pg.setConfigOptions(background=theme.plot_background, foreground=theme.plot_foreground)
    return theme


def _dark_palette() -> QPalette:
    palette = QPalette()
    roles = QPalette.ColorRole
    for role, colour in ((roles.Window, "#111827"), (roles.WindowText, "#e5e7eb"), (roles.Base, "#0f172a"),
                         (roles.AlternateBase, "#1e293b"), (roles.Text, "#e5e7eb"), (roles.Button, "#1f2937"),
                         (roles.ButtonText, "#e5e7eb"), (roles.ToolTipBase, "#1f2937"),
                         (roles.ToolTipText, "#e5e7eb"), (roles.Highlight, "#2563eb"),
                         (roles.HighlightedText, "#ffffff"), (roles.PlaceholderText, "#6b7280"),
                         (roles.Link, "#60a5fa")):
        palette.setColor(role, QColor(colour))
    palette.setColor(QPalette.ColorGroup.Disabled, roles.Text, QColor("#6b7280"))
    palette.setColor(QPalette.ColorGroup.Disabled, roles.ButtonText, QColor("#6b7280"))
    palette.setColor(QPalette.ColorGroup.Disabled, roles.WindowText, QColor("#6b7280"))
    return palette
