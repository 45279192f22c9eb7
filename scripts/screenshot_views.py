"""Pictures of every training view, as a person sees them: train an example in the window, then
save the window with each dashboard tab in front; optionally press each view's buttons first
(a prediction, channel images, t-SNE) and open another example afterwards.

    QT_QPA_PLATFORM=offscreen python scripts/screenshot_views.py lenet_digits.loom --epochs 3 \
        --out shots/ --theme dark --ask --then resnet18.loom

Files are named THEME-STEM-TAB.png (and THEME-STEM-then-OTHER-TAB.png for the example opened
after the run)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("example", help="a bundled example's file name, or a path to a .loom file")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--out", default="screenshots")
    parser.add_argument("--theme", choices=("light", "dark"), default="light")
    parser.add_argument("--ask", action="store_true", help="press each view's buttons before its picture")
    parser.add_argument("--then", help="an example to open after the run; every tab is pictured again")
    parser.add_argument("--size", default="1400x900")
    args = parser.parse_args(argv)

    from PySide6.QtWidgets import QApplication

    import resources
    from gui import theme as themes
    from gui.background import wait_for_background_work
    from gui.commands import files
    from gui.main_window import MainWindow

    app = QApplication(sys.argv[:1])
    themes.apply(app, args.theme)
    window = MainWindow(interactive=False)
    width, height = (int(v) for v in args.size.split("x"))
    window.resize(width, height)
    window.show()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def wait(condition, timeout: float = 600.0) -> bool:
        deadline = time.monotonic() + timeout
        while not condition() and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.02)
        return condition()

    def settle(seconds: float = 0.6) -> None:
        wait(lambda: False, seconds)

    def example(name: str) -> Path:
        path = Path(name)
        return path if path.exists() else resources.example(name)

    ui = window.training
    if args.example.endswith(".experiment.json"):      # Train > Run Experiment: every variant
        ui.open_experiment(example(args.example))
        settle()
        ui.run_experiment(args.epochs)
        wait(lambda: not ui.controller.running and not ui._variants_left)
    else:
        files.open_example(window.context, example(args.example))
        settle()
        if not ui.train(args.epochs):
            print(f"no run: {window.statusBar().currentMessage()}", file=sys.stderr)
            return 1
        wait(lambda: not ui.controller.running)
    dashboard = ui.dashboard
    stem = Path(args.example).name.split(".")[0]

    def picture_tabs(prefix: str, ask: bool) -> None:
        for index in range(dashboard.tabs.count()):
            if not dashboard.tabs.isTabVisible(index):
                continue
            dashboard.tabs.setCurrentIndex(index)
            panel = dashboard.tabs.widget(index)
            dashboard.mark_dirty()
            dashboard.redraw()
            settle()
            if ask:
                press(panel)
            dashboard.mark_dirty()
            dashboard.redraw()
            settle()
            name = dashboard.tabs.tabText(index).lower().replace(" ", "_")
            target = out / f"{args.theme}-{prefix}-{name}.png"
            window.grab().save(str(target))
            print(target)

    def press(panel) -> None:
        """What a person would ask of the view: a prediction, channel images, a t-SNE map."""
        model_ready = lambda: dashboard.run_model.model is not None      # noqa: E731
        if panel is dashboard.predict and wait(model_ready, 120):
            panel.sample.setValue(5)
            panel.predict_sample.click()
            settle(3)
        elif panel is dashboard.filters and wait(model_ready, 120):
            panel.find_button.click()
            wait(lambda: panel.find_button.isEnabled(), 300)
        elif panel is dashboard.features and panel.shown is not None:
            panel.method.setCurrentText("t-SNE")
            settle()
            wait(lambda: not panel.busy.working, 300)
        elif panel is dashboard.style_transfer:
            panel.steps.setValue(20)
            panel.run.click()
            wait(lambda: (dashboard.redraw() or True) and panel.job is None, 300)

    picture_tabs(stem, args.ask)
    if args.then:
        files.open_example(window.context, example(args.then))
        settle()
        picture_tabs(f"{stem}-then-{Path(args.then).stem}", False)
    window.training.shutdown()
    window.close()
    wait_for_background_work()
    return 0


if __name__ == "__main__":
    sys.exit(main())
