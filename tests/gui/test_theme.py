"""Every colour comes from the theme: no module of the window spells one, and the icons of the
toolbar and the panels are drawn in the theme's icon colour, so that they read in both themes."""

import ast
from pathlib import Path

import pytest

import gui
from gui import theme as themes

GUI = Path(gui.__file__).resolve().parent
COLOUR_CALLS = {"QColor", "mkPen", "mkBrush", "mkColor"}


def _spelled_colours(path: Path) -> list[str]:
    """Colour literals in a module: hex colours in any text, and colour makers or ``color=``
    arguments given numbers or names rather than a theme role."""
    import re
    hex_colour = re.compile(r"(?<![&\w])#(?:[0-9a-fA-F]{8}|[0-9a-fA-F]{6}|[0-9a-fA-F]{3})(?![0-9a-fA-F])")
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and hex_colour.search(node.value):
            found.append(f"{path.name}:{node.lineno}: {node.value!r}")
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            given = [*(node.args[:1] if name in COLOUR_CALLS else []),
                     *(k.value for k in node.keywords if k.arg in ("color", "fill", "brush", "pen"))]
            for value in given:
                if isinstance(value, ast.Constant) and value.value is not None or isinstance(value, ast.Tuple):
                    found.append(f"{path.name}:{node.lineno}: {name}({ast.unparse(value)})")
        elif isinstance(node, ast.Attribute) and node.attr in ("white", "black", "red", "green", "blue", "gray",
                                                               "darkGray", "lightGray", "yellow"):
            found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_module_of_the_window_spells_a_colour():
    modules = [p for p in GUI.rglob("*.py") if p.name != "theme.py"]
    assert len(modules) > 30                             # the package was found, wherever the tests run from
    found = [hit for path in modules for hit in _spelled_colours(path)]
    assert found == []


def test_the_light_and_dark_themes_have_every_role():
    for field in themes.Theme.__dataclass_fields__:
        light, dark = getattr(themes.LIGHT, field), getattr(themes.DARK, field)
        assert light not in (None, "") or field == "icon", field
        assert dark not in (None, ""), field


@pytest.mark.parametrize("name", ["light", "dark"])
def test_toolbar_and_panel_icons_read_on_their_theme(qtbot, name):
    """Every icon is drawn in the theme's icon colour: dark on the light bar, light on the dark one,
    faint while its action cannot be used (Pause before a run)."""
    import pyqtgraph as pg
    from PySide6.QtGui import QColor, QIcon

    from gui.main_window import MainWindow

    class App:                                      # what apply() sets, without restyling this process
        def setStyle(self, style):
            pass

        def setPalette(self, palette):
            pass

    def lightness(icon: QIcon, mode=QIcon.Mode.Normal) -> list[int]:
        image = icon.pixmap(24, 24, mode).toImage()
        return [image.pixelColor(x, y).lightness() for x in range(24) for y in range(24)
                if image.pixelColor(x, y).alpha() > 100]
    app = App()
    try:
        theme = themes.apply(app, name)
        window = MainWindow(interactive=False)
        qtbot.addWidget(window)
        dashboard = window.training.dashboard
        icons = [(a.text(), a.icon()) for a in window.commands.toolbar.actions() if not a.icon().isNull()]
        icons += [(b.text(), b.icon()) for b in (dashboard.export_png, dashboard.help_button, dashboard.predict.predict_sample,
                                                  dashboard.filters.find_button, dashboard.style_transfer.run)]
        texts = [text for text, _ in icons]
        assert {"&Train", "&Fit to Window", "&Stop", "&Open...", "?", "Find what they respond to"} <= set(texts)
        wanted = QColor(theme.icon).lightness()
        for text, icon in icons:
            seen = lightness(icon)
            assert seen and abs(sum(seen) / len(seen) - wanted) < 40, text         # the theme's colour
            # which stands out from the bar: dark on the light one, light on the dark one
            assert (sum(seen) / len(seen) < 110) if name == "light" else (sum(seen) / len(seen) > 180), text
        pause = next(a for a in window.commands.toolbar.actions() if a.text() == "&Pause")
        faint = lightness(pause.icon(), QIcon.Mode.Disabled)
        assert not pause.isEnabled() and abs(sum(faint) / len(faint) - QColor(theme.icon_disabled).lightness()) < 40
        window.close()
    finally:
        themes.apply(app, "light")
        pg.setConfigOptions(background="k", foreground="d")
