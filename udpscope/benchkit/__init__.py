"""The `udpscope bench` harness: peers, workers and the process plumbing that runs them.

Why a package of its own: a benchmark that users run on their machines must not need anything
they do not have (no compiler, no /work/shared), must never leave a flood running, and must keep
each measured process apart (fresh interpreter, pinned CPU) so the numbers mean something. Every
peer here is bounded in time and count and refuses any destination but 127.0.0.1 / ::1.
"""

LOOPBACK = ("127.0.0.1", "::1")
