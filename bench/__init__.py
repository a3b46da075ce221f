"""udpscope's developer benchmark harness: the engine next to Node and C, and the app under load.

Why it lives beside the package and not in it: users get `udpscope bench` (the engine's own
receive and send rates, nothing needed but the wheel); developers and CI also want the same
numbers next to Node's dgram and a C recvmmsg counter, and the real TUI fed by a flood with its
keys timed. Those need Node, a C compiler and JavaScript and C sources, which the wheel must not
carry. This package reuses the wheel's runner and workers (`udpscope.benchkit`) and adds its
peers and scenarios. Run it from a source checkout: `python -m bench --help`; `udpscope bench
--compare/--c-ceiling/--tui` hands over to it when it finds the checkout.
"""

# Nothing imported here: the TUI worker imports this package first and measures its own memory.
