"""The command line: ``python main.py check|train|export ...`` on top of the engine."""
