"""Screens: the main work screen, full-screen views (stats, multicast) and modal dialogs."""
