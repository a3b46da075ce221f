"""Reading a file the user named, without ever blocking the event loop on it.

The composer's "as file" and the theme folder read paths a person (or another program) chose. A
FIFO, a character device or a socket there would make a plain `open()` wait for a writer forever
— inside the app's event loop, so capture, keys and ctrl+q would all stop. Here a path is opened
with O_NONBLOCK (which never waits), checked to be a regular file, and read up to a limit.
No Textual here: the TUI and its tests use it alike.
"""

from __future__ import annotations

import os
import stat

from udpscope.textsafe import safe_text

__all__ = ["FileReadError", "read_regular_file"]

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
