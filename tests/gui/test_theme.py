"""Every colour comes from the theme: no module of the window spells one, and the dark theme's
toolbar draws its plain icons light, so that Train and Fit read on it."""

import ast
from pathlib import Path

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


def test_the_dark_toolbar_draws_train_and_fit_light(qtbot):
    import pyqtgraph as pg

    from gui.main_window import MainWindow

    class App:                                      # what apply() sets, without restyling this process
        def setStyle(self, style):
            pass

        def setPalette(self, palette):
            pass
    app = App()
    try:
        themes.apply(app, "dark")
        window = MainWindow(interactive=False)
        qtbot.addWidget(window)
        for text in ("&Train", "&Fit to Window", "&Stop"):
            action = next(a for a in window.commands.toolbar.actions() if a.text() == text)
            image = action.icon().pixmap(24, 24).toImage()
            opaque = [image.pixelColor(x, y) for x in range(24) for y in range(24) if image.pixelColor(x, y).alpha() > 100]
            assert opaque and min(c.lightness() for c in opaque) > 180, text       # light on the dark bar
        colourful = next(a for a in window.commands.toolbar.actions() if a.text() == "&Open...").icon().pixmap(24, 24).toImage()
        hues = {colourful.pixelColor(x, y).hue() for x in range(24) for y in range(24)
                if colourful.pixelColor(x, y).alpha() > 100}
        assert len(hues) > 1                          # a coloured icon keeps its colours
        window.close()
    finally:
        themes.apply(app, "light")
        pg.setConfigOptions(background="k", foreground="d")
