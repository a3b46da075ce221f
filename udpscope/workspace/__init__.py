"""Workspaces: a debugging setup (sockets, options, joins, responders, saved payloads) in TOML.

`schema` reads, validates and writes the file (one `WorkspaceError` naming file, line and key for
anything wrong, before anything starts); `apply` opens a workspace's sockets through the capture
layer and reads a running session back into a `Workspace` for saving.
"""

from udpscope.workspace.schema import (
    JoinSpec,
    PayloadSpec,
    SocketSpec,
    Workspace,
    WorkspaceError,
    dump_workspace,
    load_workspace,
    parse_workspace,
    save_workspace,
)

__all__ = [
    "JoinSpec",
    "PayloadSpec",
    "SocketSpec",
    "Workspace",
    "WorkspaceError",
    "dump_workspace",
    "load_workspace",
    "parse_workspace",
    "save_workspace",
]
