"""Sources: the files behind a list of paths, their hashes, and reading them within limits.

:func:`iter_source_files` walks files and folders in a stable order and never
raises for one bad path: a missing path, an unreadable file or folder, or a
thing that is not a regular file comes back as an entry carrying its error,
so an ingest can report it and go on with the rest.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ragsilo.errors import DocumentError, FileTooLargeError, NotFoundError, RagsiloError

__all__ = [
    "IGNORED_DIRECTORIES",
    "IGNORED_EXTENSIONS",
    "SourceEntry",
    "escape_surrogates",
    "escaped_names",
    "file_sha256",
    "is_utf8",
    "iter_source_files",
    "mb_to_bytes",
    "read_limited",
    "source_name",
]

MIB = 1024 * 1024
_HASH_BLOCK = MIB

IGNORED_DIRECTORIES = frozenset({"__pycache__", "node_modules", "__MACOSX"})
"""Folders skipped while walking (besides hidden ones, whose names start with '.')."""

IGNORED_EXTENSIONS = frozenset(
    {
        # programs and libraries
        ".exe", ".dll", ".so", ".dylib", ".bin", ".o", ".obj", ".a", ".lib", ".class",
        ".pyc", ".pyo", ".pyd", ".whl", ".jar", ".war", ".apk", ".msi", ".dmg", ".iso",
        ".deb", ".rpm", ".app", ".wasm",
        # archives
        ".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".7z", ".rar", ".lz4",
        # databases, indexes and their journals
        ".db", ".db-journal", ".db-wal", ".db-shm", ".sqlite", ".sqlite3", ".mdb",
        ".parquet", ".npy", ".npz", ".pkl", ".pickle", ".onnx", ".pt", ".safetensors",
        # audio, video and fonts
        ".mp3", ".wav", ".flac", ".ogg", ".m4a", ".mp4", ".mov", ".avi", ".mkv", ".webm",
        ".ttf", ".otf", ".woff", ".woff2",
        # editor and download leftovers
        ".swp", ".tmp", ".part", ".crdownload", ".lock",
    }
)  # fmt: skip
"""Extensions skipped while walking a folder: clearly not documents.

A file named explicitly is always yielded, whatever its extension.
"""


@dataclass(frozen=True)
class SourceEntry:
    """One file found under the given paths.

    ``path`` is absolute and resolved. ``error`` is set when the path cannot
    be read (missing, permission denied, not a regular file); ``size`` is then
    0 unless it could be read from the file system.
    """

    path: Path
    size: int
    error: RagsiloError | None = None

    @property
    def ok(self) -> bool:
        """Whether the file can be read."""
        return self.error is None


def iter_source_files(
    paths: Sequence[str | Path], *, follow_symlinks: bool = False
) -> Iterator[SourceEntry]:
    """The files named by ``paths``, folders walked recursively in sorted order.

    Inside folders, hidden files and folders (names starting with '.'),
    :data:`IGNORED_DIRECTORIES` and files with :data:`IGNORED_EXTENSIONS` are
    skipped, and so are symbolic links unless ``follow_symlinks`` is true
    (then link cycles are cut). A path given explicitly is always yielded, and
    a link given explicitly is followed. Each file is yielded once, even when
    several paths reach it. Problems come back as entries with ``error`` set,
    never as exceptions.
    """
    seen_files: set[Path] = set()
    seen_dirs: set[tuple[int, int]] = set()
    for raw in paths:
        given = Path(raw).expanduser()
        yield from _walk_given(given, follow_symlinks, seen_files, seen_dirs)


def _walk_given(
    given: Path,
    follow_symlinks: bool,
    seen_files: set[Path],
    seen_dirs: set[tuple[int, int]],
) -> Iterator[SourceEntry]:
    absolute = Path(os.path.abspath(given))
    try:
        st = os.stat(absolute)
    except FileNotFoundError:
        yield _missing(absolute)
        return
    except OSError as e:
        yield SourceEntry(_resolve(absolute), 0, _os_error(absolute, e))
        return
    if stat.S_ISDIR(st.st_mode):
        yield from _walk_dir(absolute, st, follow_symlinks, seen_files, seen_dirs)
        return
    entry = _file_entry(absolute, st)
    if entry.path not in seen_files:
        seen_files.add(entry.path)
        yield entry


def _walk_dir(
    root: Path,
    root_stat: os.stat_result,
    follow_symlinks: bool,
    seen_files: set[Path],
    seen_dirs: set[tuple[int, int]],
) -> Iterator[SourceEntry]:
    # An explicit stack keeps deep trees off the call stack; children are
    # pushed in reverse so that they come off in sorted order.
    stack: list[tuple[Path, os.stat_result]] = [(root, root_stat)]
    while stack:
        folder, folder_stat = stack.pop()
        key = (folder_stat.st_dev, folder_stat.st_ino)
        if key in seen_dirs:
            continue  # reached twice: a link cycle, or overlapping arguments
        seen_dirs.add(key)
        try:
            with os.scandir(folder) as it:
                children = sorted(it, key=lambda d: d.name)
        except OSError as e:
            yield SourceEntry(_resolve(folder), 0, _os_error(folder, e, folder=True))
            continue
        subfolders: list[tuple[Path, os.stat_result]] = []
        for child in children:
            path = Path(child.path)
            if child.name.startswith("."):
                continue
            try:
                is_link = child.is_symlink()
                if is_link and not follow_symlinks:
                    continue
                st = child.stat(follow_symlinks=True)
            except FileNotFoundError:
                yield _missing(path)  # a link whose target is gone
                continue
            except OSError as e:
                yield SourceEntry(_resolve(path), 0, _os_error(path, e))
                continue
            if stat.S_ISDIR(st.st_mode):
                if child.name not in IGNORED_DIRECTORIES:
                    subfolders.append((path, st))
                continue
            if path.suffix.lower() in IGNORED_EXTENSIONS:
                continue
            entry = _file_entry(path, st)
            if entry.path not in seen_files:
                seen_files.add(entry.path)
                yield entry
        # Files of a folder come before its subfolders, each group sorted.
        stack.extend(reversed(subfolders))


def _file_entry(path: Path, st: os.stat_result) -> SourceEntry:
    resolved = _resolve(path)
    if not stat.S_ISREG(st.st_mode):
        return SourceEntry(
            resolved,
            0,
            DocumentError(f"{path} is {_kind(st.st_mode)}, not a regular file; it cannot be read"),
        )
    try:
        # O_NONBLOCK: never hang on a file replaced by a FIFO in the meantime.
        fd = os.open(resolved, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        os.close(fd)
    except OSError as e:
        return SourceEntry(resolved, st.st_size, _os_error(path, e))
    return SourceEntry(resolved, st.st_size)


def _missing(path: Path) -> SourceEntry:
    if os.path.islink(path):
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        message = f"{path} is a broken symbolic link (its target {target} does not exist)"
        # The link itself names the entry: its target path would mislead.
        where = _resolve(path.parent) / path.name
    else:
        message = f"{path} does not exist"
        where = _resolve(path)
    return SourceEntry(where, 0, NotFoundError(message))


def _resolve(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a link loop resolves no further
        return Path(os.path.abspath(path))


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def _os_error(path: Path | str, error: OSError, *, folder: bool = False) -> RagsiloError:
    """The ragsilo error for an OS failure on ``path``."""
    what = "folder" if folder else "file"
    if isinstance(error, FileNotFoundError):
        return NotFoundError(f"{path} does not exist")
    if isinstance(error, PermissionError):
        return DocumentError(
            f"cannot read {what} {path}: permission denied",
            hint="check its permissions or run as a user who may read it",
        )
    if isinstance(error, IsADirectoryError):
        return DocumentError(f"{path} is a folder, not a file")
    if error.errno == errno.ELOOP:
        return DocumentError(f"cannot read {what} {path}: too many levels of symbolic links")
    reason = error.strerror or type(error).__name__
    return DocumentError(f"cannot read {what} {path}: {reason}")


def mb_to_bytes(megabytes: float) -> int:
    """A size limit given in MB (``ingest.max_file_mb``; 1 MB = 1024 × 1024 bytes) in bytes."""
    return int(megabytes * MIB)


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file's contents as hex, read in 1 MiB blocks.

    Raises NotFoundError or DocumentError when the file cannot be read.
    """
    digest = hashlib.sha256()
    try:
        with _open_regular(path) as f:
            while block := f.read(_HASH_BLOCK):
                digest.update(block)
    except OSError as e:
        raise _os_error(path, e) from e
    return digest.hexdigest()


def read_limited(path: str | Path, max_bytes: int) -> bytes:
    """The whole file, unless it is over ``max_bytes``.

    The size is checked before reading and again while reading, so a file
    that grows meanwhile is still refused. Raises FileTooLargeError
    ("x is 60.0 MB, over the 50 MB limit (ingest.max_file_mb)"),
    NotFoundError, or DocumentError for a file that cannot be read.
    """
    if max_bytes < 0:
        raise ValueError(f"max_bytes must not be negative, not {max_bytes}")
    try:
        with _open_regular(path) as f:
            size = os.fstat(f.fileno()).st_size
            if size > max_bytes:
                raise _too_large(path, size, max_bytes)
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise _os_error(path, e) from e
    if len(data) > max_bytes:
        raise _too_large(path, max(len(data), size), max_bytes)
    return data


def _open_regular(path: str | Path) -> BinaryIO:
    """``path`` opened for reading; DocumentError when it is not a regular file.

    Opened without blocking, so that a named pipe is refused instead of
    waiting forever for a writer.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
        if not stat.S_ISREG(mode):
            raise DocumentError(f"{path} is {_kind(mode)}, not a regular file; it cannot be read")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _too_large(path: str | Path, size: int, limit: int) -> FileTooLargeError:
    return FileTooLargeError(
        f"{path} is {size / MIB:.1f} MB, over the {limit / MIB:.3g} MB limit (ingest.max_file_mb)",
        hint="raise ingest.max_file_mb or split the file",
    )


# ------------------------------------------------------------ names that are not UTF-8


def is_utf8(text: str) -> bool:
    """Whether ``text`` can be written as UTF-8 (it holds no lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def escape_surrogates(text: str) -> str:
    """``text`` as valid UTF-8: a byte of a file name that was not UTF-8 (which Python holds
    as a lone surrogate, U+DC80 to U+DCFF) becomes ``\\xNN``; any other lone surrogate
    ``\\uNNNN``. Text that is valid already comes back as it is."""
    if is_utf8(text):
        return text
    out = []
    for c in text:
        o = ord(c)
        if 0xDC80 <= o <= 0xDCFF:
            out.append(f"\\x{o - 0xDC00:02x}")
        elif 0xD800 <= o <= 0xDFFF:
            out.append(f"\\u{o:04x}")
        else:
            out.append(c)
    return "".join(out)


def source_name(path: Path) -> str:
    """The name a file is stored and reported under: its path, with the bytes of a name
    that is not UTF-8 written as ``\\xNN`` (Milvus, the journal and JSON need UTF-8)."""
    return escape_surrogates(str(path))


def escaped_names(entries: Sequence[SourceEntry]) -> dict[Path, str]:
    """The :func:`source_name` of each entry whose path is not UTF-8 (none for the rest)."""
    out: dict[Path, str] = {}
    for e in entries:
        text = str(e.path)
        if not is_utf8(text):
            out[e.path] = escape_surrogates(text)
    return out
