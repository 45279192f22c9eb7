"""Starting the editor: ``python main.py [FILE] [--screenshot PNG]``."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from . import theme as themes
from .background import wait_for_background_work
from .commands import files
from .main_window import MainWindow
from .platform_check import window_problem


def run_app(path: str | None, default_example: Path, screenshot: str | None = None,
            train_epochs: int | None = None, theme: str | None = None) -> int:
    problem = None if QApplication.instance() else window_problem()
    if problem is not None:          # said before Qt would abort with one line about a plugin
        print(f"error: {problem}", file=sys.stderr)
        return 2
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("NetLoom")
    app.setOrganizationName("NetLoom")
    chosen = theme or str(QSettings("NetLoom", "NetLoom").value("theme", "system"))
    themes.apply(app, chosen if chosen in themes.CHOICES else "system")   # before anything is drawn
    window = MainWindow(interactive=screenshot is None)
    if path is not None:
        if not files.open_file(window.context, path) and screenshot is not None:
            print(f"error: {window.statusBar().currentMessage()}", file=sys.stderr)
            return 2
    elif not (screenshot is None and window.autosave.offer_recovery()):
        files.open_example(window.context, default_example)
    window.show()
    QTimer.singleShot(0, window.view.fit_all)     # once the window has its real size
    if train_epochs is not None:
        # Train in the window, then (with --screenshot) picture it with the dashboard showing.
        def after_run(record):
            if screenshot is not None:
                QTimer.singleShot(300, lambda: _screenshot_when_idle(app, window, screenshot))

        def train() -> None:
            if not window.training.train(train_epochs) and screenshot is not None:
                _screenshot_when_idle(app, window, screenshot)      # no run: picture why (the problems)
        window.training.controller.ended.connect(after_run)
        QTimer.singleShot(0, train)
    elif screenshot is not None:
        QTimer.singleShot(0, lambda: _screenshot_when_idle(app, window, screenshot))
    code = app.exec()
    wait_for_background_work()
    return code


def _screenshot_when_idle(app: QApplication, window: MainWindow, target: str) -> None:
    """Lay out missing positions, fit, let every pending paint and check finish, then grab."""
    for _ in range(5):
        app.processEvents()
    window.view.fit_all()
    window.document.check_now()
    window.training.dashboard.mark_dirty()
    window.training.dashboard.redraw()
    app.processEvents()
    ok = window.grab().save(target)
    if not ok:
        print(f"error: cannot write the screenshot {target}", file=sys.stderr)
    app.exit(0 if ok else 1)
