"""Widgets of the main screen; each owns one pane and pulls its data on the app's tick."""
