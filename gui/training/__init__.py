"""Training from the window: the worker controller, the run records and the dashboard."""
