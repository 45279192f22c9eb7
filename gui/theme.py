"""Light and dark: every colour the window draws with, and the widgets' palette.

Nothing outside this module spells a colour: the canvas, the marks, the plots and the status
texts read their roles from ``current()`` (a test keeps it so). The theme follows the system's
colour scheme unless View > Theme names one. It is chosen when the window starts (plots and
items take their colours as they are made), so a change in the menu is kept in the settings
and takes effect at the next start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette

from graphs import ERROR

CHOICES = ("system", "light", "dark")

# A node's header in its category's colour, alike in both themes: white text reads on each.
CATEGORIES: Mapping[str, str] = MappingProxyType({
    "Inputs and outputs": "#6b7280", "Dense": "#2563eb", "Convolution": "#7c3aed", "Pooling": "#0891b2",
    "Normalization": "#059669", "Regularization": "#65a30d", "Activation": "#d97706", "Shape": "#475569",
    "Merge": "#db2777", "Embedding": "#9333ea", "Recurrent": "#dc2626", "Attention": "#c2410c",
    "Blocks": "#0f766e", "Operations": "#854d0e", "Features": "#4338ca",
})
# A value's sign as TensorFlow Playground shows it (neurons, weights): orange below 0, blue above, in both themes.
NEGATIVE, POSITIVE = "#f08a24", "#2b7bd6"
# Lines drawn over a colour map (a landscape's contours and path): white reads on every colour of viridis.
ON_COLOUR_MAP = "#ffffff"
# One colour per layer or class in the plots, as far apart as ten colours can be.
SERIES = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#475569", "#c2410c")


@dataclass(frozen=True)
class Theme:
    """Colours as Qt reads them: ``#RRGGBB``, or ``#AARRGGBB`` where they are see-through."""
    name: str
    # the canvas
    canvas: str          # behind the graph
    grid: str
    node_body: str
    node_text: str
    node_muted: str      # a node's parameter lines
    node_border: str
    header_text: str     # a node's id, on its category's colour
    selected: str        # a selected node's border, a selected or hovered wire, the wire being drawn
    port_line: str
    port_fill: str
    port_hover: str
    wire: str
    wire_label: str
    far_wire: str        # wires far out (the overview, the minimap): one thin line
    plate: str           # behind a label shown on hover, and the minimap's paper
    view_fill: str       # the minimap's outline of the part in view, filled
    bar: str             # the breadcrumb's band over the canvas
    bar_line: str
    # verdicts, as marks and as text
    error: str
    warning: str         # a warning's mark
    warning_text: str    # a warning in words (the mark's colour is too light to read as text)
    ok: str
    hint: str            # what to do next, in the inspector
    failed_node: str     # the node a failed run names, tinted
    # how a node learns (fine-tuning): frozen nodes hatched, a learning-rate factor or a fresh start as a badge
    frozen_hatch: str    # over a node's body
    frozen_hatch_far: str    # over a zoomed-out node's box in its category's colour
    badge_fill: str      # a badge on a node's header (alike in both themes: the header's colour is)
    badge_text: str
    # gradient health on the canvas while training, from vanishing to exploding
    gradient_bands: tuple[str, str, str, str, str]
    # plots
    plot_background: str
    plot_foreground: str
    training_series: str
    validation_series: str
    step_series: str     # the per-step loss, behind the epochs' points
    rate_series: str     # the learning rate
    compared_series: str     # another run, dashed
    guide: str           # epoch markers, the line a perfect regression sits on
    vanishing_band: str
    exploding_band: str
    tile_label: str      # channel numbers on their tiles
    tile_plate: str
    on_bright: str       # a count on a bright cell of the confusion matrix
    on_dim: str          # ... on a dim one
    point_outline: str   # around points drawn over a coloured map
    chosen_point: str    # the point asked about
    neighbour: str       # an embedding's nearest neighbours of the chosen token
    other_point: str     # the rest of the embedding
    pad_grid: str        # the drawing pad's grid and frame (its paper stays white: it is the model's input)
    pad_frame: str
    pad_frame_off: str
    icon: str            # toolbar and panel buttons' icons
    icon_disabled: str   # ... when they cannot be used
    categories: Mapping[str, str] = field(default_factory=lambda: CATEGORIES)
    other_category: str = "#475569"
    series: tuple[str, ...] = SERIES

    def category(self, category: str) -> str:
        return self.categories.get(category, self.other_category)

    def series_colour(self, index: int) -> str:
        return self.series[index % len(self.series)]

    def severity(self, severity: str | None) -> str | None:
        """The mark of a diagnostic's severity (an error or a warning), None for none."""
        return self.error if severity == ERROR else self.warning if severity else None


LIGHT = Theme(
    "light", canvas="#f8fafc", grid="#e2e8f0", node_body="#ffffff", node_text="#0f172a", node_muted="#475569",
    node_border="#334155", header_text="#ffffff", selected="#2563eb", port_line="#334155", port_fill="#f8fafc",
    port_hover="#93c5fd", wire="#64748b", wire_label="#334155", far_wire="#94a3b8", plate="#e6ffffff",
    view_fill="#1e2563eb", bar="#ecfeff", bar_line="#99f6e4",
    error="#dc2626", warning="#f59e0b", warning_text="#b45309", ok="#16a34a", hint="#64748b", failed_node="#5adc2626",
    frozen_hatch="#a094a3b8", frozen_hatch_far="#c8ffffff", badge_fill="#f8fafc", badge_text="#0f172a",
    gradient_bands=("#3b82f6", "#06b6d4", "#22c55e", "#f59e0b", "#dc2626"),
    plot_background="#ffffff", plot_foreground="#334155", training_series="#2563eb", validation_series="#dc2626",
    step_series="#94a3b8", rate_series="#7c3aed", compared_series="#64748b", guide="#cbd5e1",
    vanishing_band="#3260a5fa", exploding_band="#32dc2626", tile_label="#f8fafc", tile_plate="#960f172a",
    on_bright="#0f172a", on_dim="#f8fafc", point_outline="#78ffffff", chosen_point="#0f172a", neighbour="#ea580c",
    other_point="#93c5fd", pad_grid="#e2e8f0", pad_frame="#64748b", pad_frame_off="#cbd5e1", icon="#334155",
    icon_disabled="#cbd5e1")
DARK = Theme(
    "dark", canvas="#0b1220", grid="#1e293b", node_body="#1e293b", node_text="#e2e8f0", node_muted="#94a3b8",
    node_border="#94a3b8", header_text="#ffffff", selected="#60a5fa", port_line="#334155", port_fill="#f8fafc",
    port_hover="#93c5fd", wire="#94a3b8", wire_label="#cbd5e1", far_wire="#94a3b8", plate="#e60f172a",
    view_fill="#3360a5fa", bar="#0b2e33", bar_line="#115e59",
    error="#ef4444", warning="#f59e0b", warning_text="#fbbf24", ok="#4ade80", hint="#94a3b8", failed_node="#78ef4444",
    frozen_hatch="#dc64748b", frozen_hatch_far="#c8ffffff", badge_fill="#f8fafc", badge_text="#0f172a",
    gradient_bands=("#3b82f6", "#06b6d4", "#22c55e", "#f59e0b", "#ef4444"),
    plot_background="#0f172a", plot_foreground="#cbd5e1", training_series="#60a5fa", validation_series="#f87171",
    step_series="#64748b", rate_series="#a78bfa", compared_series="#94a3b8", guide="#334155",
    vanishing_band="#3260a5fa", exploding_band="#40ef4444", tile_label="#f8fafc", tile_plate="#960f172a",
    on_bright="#0f172a", on_dim="#f8fafc", point_outline="#78ffffff", chosen_point="#f8fafc", neighbour="#fb923c",
    other_point="#475569", pad_grid="#e2e8f0", pad_frame="#94a3b8", pad_frame_off="#475569", icon="#e2e8f0",
    icon_disabled="#475569",
    series=("#60a5fa", "#f87171", "#4ade80", "#fbbf24", "#a78bfa", "#22d3ee", "#f472b6", "#a3e635", "#94a3b8",
            "#fb923c"))

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


def icon(name: str) -> QIcon:
    """An icon of a maintained set (qtawesome's Material Design Icons, ``mdi6.play``: drawn from a
    font that comes with the package, so nothing is fetched) in the theme's icon colour, and faint
    when disabled: toolbar and panel buttons read alike on a light or a dark bar."""
    import qtawesome

    theme = current()
    return qtawesome.icon(name, color=theme.icon, color_disabled=theme.icon_disabled)


def _dark_palette() -> QPalette:
    palette = QPalette()
    roles = QPalette.ColorRole
    for role, value in ((roles.Window, "#111827"), (roles.WindowText, "#e5e7eb"), (roles.Base, "#0f172a"),
                        (roles.AlternateBase, "#1e293b"), (roles.Text, "#e5e7eb"), (roles.Button, "#1f2937"),
                        (roles.ButtonText, "#e5e7eb"), (roles.ToolTipBase, "#1f2937"),
                        (roles.ToolTipText, "#e5e7eb"), (roles.Highlight, "#2563eb"),
                        (roles.HighlightedText, "#ffffff"), (roles.PlaceholderText, "#6b7280"),
                        (roles.Link, "#60a5fa")):
        palette.setColor(role, QColor(value))
    palette.setColor(QPalette.ColorGroup.Disabled, roles.Text, QColor("#6b7280"))
    palette.setColor(QPalette.ColorGroup.Disabled, roles.ButtonText, QColor("#6b7280"))
    palette.setColor(QPalette.ColorGroup.Disabled, roles.WindowText, QColor("#6b7280"))
    return palette
