"""`udpscope agent`: serve the agent protocol on stdin/stdout for a coordinator (`matrix`).

Not for people to type: a coordinator starts it through ssh, `kubectl exec -i` or `ip netns exec`
and speaks JSON lines with it. It opens no listening port and exits when stdin closes.
"""

from __future__ import annotations

import argparse

from udpscope.cli.common import run_subcommand

PROG = "udpscope agent"

DESCRIPTION = """\
Serve udpscope's agent protocol (JSON lines) on stdin/stdout, for `udpscope matrix` running on
another host. Opens no listening port; does only what the coordinator asks, within the limits it
sets and this agent's own hard caps; exits when stdin closes (so it dies with its transport).
Exit status: 0 when stdin closes or the coordinator says bye, 2 on bad usage."""


def configure(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    return p


def main(argv: list[str]) -> int:
    return run_subcommand(argv, PROG, DESCRIPTION, configure, run)


def run(ns: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from udpscope.agent.stdio import main as serve_main

    return serve_main()
