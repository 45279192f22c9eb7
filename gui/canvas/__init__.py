"""The node editor canvas."""
