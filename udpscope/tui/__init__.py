"""The terminal UI: Textual widgets over the capture layer (which never imports Textual)."""
