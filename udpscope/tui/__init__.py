"""The terminal UI: Textual widgets over the capture layer (which never imports Textual).

Textual draws a frame on its screen-update timer, which ticks at TEXTUAL_FPS (default 60): a
key's frame waited up to 16.7 ms for the next tick, a third of the key-to-frame budget under a
flood. Frames are still drawn only when something changed, so a faster tick costs nothing when
nothing does. Set before Textual is imported (it reads the variable once); a user's own
TEXTUAL_FPS wins.
"""

import os

FRAME_RATE = 120
os.environ.setdefault("TEXTUAL_FPS", str(FRAME_RATE))
