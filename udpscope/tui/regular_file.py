"""Reading and writing files the user named, without ever blocking the event loop on them.

The composer's "as file" and the theme folder read paths a person (or another program) chose. A
FIFO, a character device or a socket there would make a plain `open()` wait for a writer forever
— inside the app's event loop, so capture, keys and ctrl+q would all stop. Here a path is opened
with O_NONBLOCK (which never waits), checked to be a regular file, and read up to a limit.

Saving (the log as pcapng, a workspace) goes the other way: `check_output_path` says before
anything is written whether a path is a new file, a file to replace (the dialog asks first) or
something that must not be written to (a folder, a FIFO, a device), and `replace_file` writes
through a temporary file renamed over the target when complete, so a failed save leaves the old
file whole and the target itself is never opened (a FIFO put there meanwhile cannot block).
No Textual here: the TUI and its tests use it alike.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from udpscope.textsafe import safe_text

__all__ = ["FileReadError", "OutputTarget", "check_output_path", "read_regular_file",
           "replace_file", "write_new_file"]

T = TypeVar("T")

_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a directory"),
)


class FileReadError(ValueError):
    """A path that cannot be read as a file; ``str(err)`` says why in plain words.

    Attributes:
        size: the file's size when it was too large, else None.
    """

    def __init__(self, message: str, size: int | None = None) -> None:
        super().__init__(message)
        self.size = size


def _what(mode: int) -> str:
    for test, words in _KINDS:
        if test(mode):
            return words
    return "not a regular file"


def read_regular_file(path: str | os.PathLike[str], limit: int) -> bytes:
    """The file's bytes, at most ``limit`` of them.

    Args:
        path: The file to read.
        limit: Largest size accepted, in bytes.

    Returns:
        The whole content.

    Raises:
        FileReadError: not found, not permitted, not a regular file (FIFO, device, socket,
            directory), larger than ``limit``, or any other OS error, with the path shown safely.
    """
    try:
        shown = safe_text(os.fspath(path), 200)
    except TypeError:
        raise FileReadError("the path must be text") from None
    if not shown:
        raise FileReadError("no path given")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    flags |= getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise FileReadError(f"not found: {shown}") from None
    except PermissionError:
        raise FileReadError(f"permission denied: {shown}") from None
    except OSError as exc:
        raise FileReadError(f"cannot open {shown}: {safe_text(exc.strerror or str(exc), 200)}") from None
    except ValueError as exc:  # an embedded NUL
        raise FileReadError(f"cannot open {shown}: {safe_text(str(exc), 200)}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileReadError(f"{shown} is {_what(st.st_mode)}, not a regular file")
        if st.st_size > limit:
            raise FileReadError(f"{shown} is {st.st_size} bytes, more than {limit}", st.st_size)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise FileReadError(f"cannot read {shown}: {safe_text(exc.strerror or str(exc), 200)}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:  # it grew while being read
        raise FileReadError(f"{shown} is more than {limit} bytes", len(data))
    return data


def write_new_file(path: str | os.PathLike[str], data: bytes) -> str:
    """Write ``data`` to a file that must not exist yet (nothing is ever overwritten).

    Returns:
        The absolute path written.

    Raises:
        FileReadError: exists already, folder missing, not permitted, disk full..., in plain words.
    """
    try:
        shown = safe_text(os.fspath(path), 200)
    except TypeError:
        raise FileReadError("the path must be text") from None
    if not shown.strip():
        raise FileReadError("no file name given")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    flags |= getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags, 0o644)
    except FileExistsError:
        raise FileReadError(f"{shown} exists already: choose another name") from None
    except FileNotFoundError:
        raise FileReadError(f"the folder of {shown} does not exist") from None
    except PermissionError:
        raise FileReadError(f"permission denied: {shown}") from None
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise FileReadError(f"cannot create {shown}: {safe_text(reason, 200)}") from None
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    except OSError as exc:
        raise FileReadError(f"cannot write {shown}: {safe_text(exc.strerror or str(exc), 200)}") from None
    finally:
        os.close(fd)
    return os.path.abspath(path)


@dataclass(frozen=True)
class OutputTarget:
    """A path a save may write to, checked.

    Attributes:
        path: The absolute path (``~`` expanded).
        shown: The path as the user typed it, made safe to show.
        exists: A regular file is there already: replacing it needs the user's yes.
        size: That file's size in bytes (None when it does not exist).
    """

    path: str
    shown: str
    exists: bool
    size: int | None = None


def check_output_path(text: str) -> OutputTarget:
    """Where a save may go: a new file in an existing, writable folder, or an existing regular
    file (which the caller asks about before replacing it). Nothing is opened or created.

    Raises:
        FileReadError: no path, a folder, a FIFO, a device or a socket, a missing or read-only
            folder, or any other OS error, in plain words.
    """
    typed = text.strip()
    shown = safe_text(typed, 200)
    if not typed:
        raise FileReadError("no file name given")
    try:
        path = os.path.abspath(os.path.expanduser(typed))
    except ValueError as exc:  # an embedded NUL
        raise FileReadError(f"cannot use {shown}: {safe_text(str(exc), 200)}") from None
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except PermissionError:
        raise FileReadError(f"permission denied: {shown}") from None
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise FileReadError(f"cannot use {shown}: {safe_text(reason, 200)}") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise FileReadError(f"{shown} is a folder: add a file name to it")
        if not stat.S_ISREG(st.st_mode):
            raise FileReadError(f"{shown} is {_what(st.st_mode)}: a capture or workspace is saved "
                                "to a regular file only")
    folder = os.path.dirname(path)
    if not os.path.isdir(folder):
        raise FileReadError(f"the folder of {shown} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise FileReadError(f"permission denied: cannot create files in the folder of {shown}")
    return OutputTarget(path, shown, st is not None, st.st_size if st is not None else None)


def _umask() -> int:
    """The process's umask, read without changing it (Linux reports it in /proc)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def replace_file(path: str, write: Callable[[str], T]) -> T:
    """Have ``write(temporary_path)`` write a new file, then rename it over ``path``.

    The temporary file sits in the same folder (so the rename is atomic) and gets the mode a new
    file would (0666 less the umask). If ``write`` raises, the temporary file is removed and
    ``path`` is left as it was. Blocking: call from a worker thread for large files.

    Returns:
        What ``write`` returned.

    Raises:
        OSError: the folder is gone or read-only, the disk is full...; and whatever ``write``
            raises.
    """
    import tempfile  # here: this module is on the start-up path (themes), saving is not

    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".udpscope-", suffix=".part", dir=folder)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        result = write(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return result
