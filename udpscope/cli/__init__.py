"""Command-line front ends: the TUI launcher and the headless `listen` / `send` / `bench` commands.

Kept apart from the TUI so that scripts, pipes and hosts without a terminal UI get the same
engine and the same input validation without importing Textual.
"""
