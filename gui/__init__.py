"""The editor and the training dashboard: the only package that imports Qt."""
