"""Walking source paths, hashing files and reading them within a size limit."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import threading
from pathlib import Path

import pytest

from ragsilo.errors import DocumentError, FileTooLargeError, NotFoundError
from ragsilo.sources import (
    SourceEntry,
    file_sha256,
    iter_source_files,
    mb_to_bytes,
    read_limited,
)

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def touch(path: Path, data: bytes = b"text\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def walk(*paths: str | Path, follow_symlinks: bool = False) -> list[SourceEntry]:
    return list(iter_source_files(list(paths), follow_symlinks=follow_symlinks))


def names(entries: list[SourceEntry], root: Path) -> list[str]:
    return [e.path.relative_to(root.resolve()).as_posix() for e in entries]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    for rel in [
        "b.md",
        "a.txt",
        "sub/z.pdf",
        "sub/deeper/c.html",
        "A-upper.txt",
        ".hidden.md",
        ".git/config",
        "__pycache__/m.cpython-311.pyc",
        "node_modules/pkg/readme.md",
        "archive.zip",
        "ragsilo.db",
        "tool.exe",
        "photo.png",
    ]:
        touch(root / rel)
    return root


def test_folders_are_walked_sorted_and_filtered(tree: Path) -> None:
    entries = walk(tree)
    assert names(entries, tree) == [
        "A-upper.txt",
        "a.txt",
        "b.md",
        "photo.png",  # images are found; the parser explains that they are not ingested
        "sub/z.pdf",
        "sub/deeper/c.html",
    ]
    assert all(e.ok and e.size == 5 and e.path.is_absolute() for e in entries)


def test_walk_is_deterministic(tree: Path) -> None:
    assert walk(tree) == walk(tree)


def test_explicit_files_are_always_yielded(tree: Path) -> None:
    entries = walk(tree / ".hidden.md", tree / "ragsilo.db", tree / "archive.zip")
    assert names(entries, tree) == [".hidden.md", "ragsilo.db", "archive.zip"]
    assert all(e.ok for e in entries)


def test_each_file_is_yielded_once(tree: Path) -> None:
    entries = walk(tree / "a.txt", tree, tree / "sub", tree / "a.txt")
    paths = [e.path for e in entries]
    assert len(paths) == len(set(paths)) == 6
    assert paths[0] == (tree / "a.txt").resolve()


def test_missing_path_is_an_entry_not_an_exception(tree: Path) -> None:
    entries = walk(tree / "nope.md", tree / "a.txt")
    assert isinstance(entries[0].error, NotFoundError)
    assert "nope.md does not exist" in str(entries[0].error)
    assert entries[0].size == 0 and not entries[0].ok
    assert entries[1].ok


def test_broken_symlink_given_explicitly(tmp_path: Path) -> None:
    link = tmp_path / "dangling.md"
    link.symlink_to(tmp_path / "gone.md")
    [entry] = walk(link)
    assert isinstance(entry.error, NotFoundError)
    assert "broken symbolic link" in str(entry.error)


def test_symlinks_inside_folders_are_skipped_unless_followed(tmp_path: Path) -> None:
    outside = touch(tmp_path / "elsewhere" / "linked.md")
    root = tmp_path / "docs"
    touch(root / "own.md")
    (root / "link.md").symlink_to(outside)
    (root / "linkdir").symlink_to(outside.parent, target_is_directory=True)
    (root / "dangling.md").symlink_to(tmp_path / "gone.md")
    assert names(walk(root), root) == ["own.md"]

    followed = walk(root, follow_symlinks=True)
    by_name = {e.path.name: e for e in followed}
    assert by_name["linked.md"].ok  # reached through both links, yielded once
    assert sum(1 for e in followed if e.path.name == "linked.md") == 1
    assert isinstance(by_name["dangling.md"].error, NotFoundError)
    assert by_name["dangling.md"].path == root.resolve() / "dangling.md"


def test_symlink_cycles_end(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    touch(root / "a" / "note.md")
    (root / "a" / "loop").symlink_to(root, target_is_directory=True)
    entries = walk(root, follow_symlinks=True)
    assert [e.path.name for e in entries] == ["note.md"]


def test_fifo_is_reported_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    [entry] = walk(fifo)
    assert isinstance(entry.error, DocumentError)
    assert "named pipe" in str(entry.error) and "not a regular file" in str(entry.error)
    # Inside a folder too, and without blocking on the pipe.
    [inside] = walk(tmp_path)
    assert isinstance(inside.error, DocumentError)


@pytest.mark.skipif(IS_ROOT, reason="root may read any file; permissions cannot be tested")
def test_unreadable_file_and_folder(tmp_path: Path) -> None:
    secret = touch(tmp_path / "docs" / "secret.md")
    closed = tmp_path / "docs" / "closed"
    touch(closed / "inner.md")
    secret.chmod(0)
    closed.chmod(0)
    try:
        entries = {e.path.name: e for e in walk(tmp_path / "docs")}
    finally:
        secret.chmod(0o644)
        closed.chmod(0o755)
    assert isinstance(entries["secret.md"].error, DocumentError)
    assert "permission denied" in str(entries["secret.md"].error)
    assert "secret.md" in str(entries["secret.md"].error)
    assert isinstance(entries["closed"].error, DocumentError)
    assert "cannot read folder" in str(entries["closed"].error)


def test_permission_errors_are_entries_even_for_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = touch(tmp_path / "docs" / "secret.md")
    closed = tmp_path / "docs" / "closed"
    touch(closed / "inner.md")
    real_open, real_scandir = os.open, os.scandir

    def guarded_open(path: str | Path, flags: int, *args: int) -> int:
        if Path(path) == secret:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args)

    def guarded_scandir(path: str | Path) -> object:
        if Path(path) == closed:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "open", guarded_open)
    monkeypatch.setattr(os, "scandir", guarded_scandir)
    entries = {e.path.name: e for e in walk(tmp_path / "docs")}
    assert isinstance(entries["secret.md"].error, DocumentError)
    assert f"cannot read file {secret}: permission denied" in str(entries["secret.md"].error)
    assert isinstance(entries["closed"].error, DocumentError)
    assert f"cannot read folder {closed}: permission denied" in str(entries["closed"].error)
    with pytest.raises(DocumentError, match="permission denied"):
        read_limited(secret, 100)


def test_symlink_loop_given_explicitly_is_an_entry(tmp_path: Path) -> None:
    loop = tmp_path / "loop.md"
    loop.symlink_to(loop)
    [entry] = walk(loop)
    assert isinstance(entry.error, DocumentError)
    assert "symbolic links" in str(entry.error)


def test_source_entry_is_frozen(tmp_path: Path) -> None:
    [entry] = walk(touch(tmp_path / "a.txt"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.size = 1  # type: ignore[misc]


# -- hashing and reading -------------------------------------------------------------


def test_sha256_streams_large_files(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    path = touch(tmp_path / "big.bin", data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()


def test_sha256_of_missing_file() -> None:
    with pytest.raises(NotFoundError):
        file_sha256("/nonexistent/file.txt")


def test_read_limited_returns_the_bytes(tmp_path: Path) -> None:
    path = touch(tmp_path / "a.txt", b"x" * 100)
    assert read_limited(path, 100) == b"x" * 100


def test_read_limited_refuses_large_files(tmp_path: Path) -> None:
    path = tmp_path / "huge.pdf"
    with open(path, "wb") as f:
        f.truncate(60 * 1024 * 1024)  # sparse: no disk used
    with pytest.raises(FileTooLargeError) as info:
        read_limited(path, mb_to_bytes(50))
    assert str(info.value).startswith(
        f"{path} is 60.0 MB, over the 50 MB limit (ingest.max_file_mb)"
    )
    assert info.value.http_status == 413


def test_read_limited_errors(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        read_limited(tmp_path / "missing.txt", 10)
    with pytest.raises(DocumentError, match="is a folder"):
        read_limited(tmp_path, 10)


def test_read_limited_does_not_block_on_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []

    def attempt() -> None:
        try:
            read_limited(fifo, 10)
        except BaseException as e:  # noqa: BLE001 - handed to the test thread
            outcome.append(e)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=5)
    assert not worker.is_alive(), "read_limited blocked on a FIFO"
    assert isinstance(outcome[0], DocumentError)
    assert "not a regular file" in str(outcome[0])


def test_mb_to_bytes() -> None:
    assert mb_to_bytes(50) == 50 * 1024 * 1024
    assert mb_to_bytes(0.5) == 512 * 1024


def test_names_that_are_not_utf8_are_escaped() -> None:
    from ragsilo.sources import escape_surrogates, escaped_names, source_name

    raw = os.fsdecode(b"/d/bad\xff\xfename.txt")
    assert source_name(Path(raw)) == "/d/bad\\xff\\xfename.txt"
    assert escape_surrogates("caf\u00e9 \U0001f600") == "caf\u00e9 \U0001f600"
    assert escape_surrogates("a\ud800b") == "a\\ud800b"
    entries = [SourceEntry(Path(raw), 1), SourceEntry(Path("/d/ok.txt"), 1)]
    assert escaped_names(entries) == {Path(raw): "/d/bad\\xff\\xfename.txt"}


@pytest.mark.skipif(os.name != "posix", reason="POSIX file names are bytes")
def test_ingest_of_a_name_that_is_not_utf8_stores_it_escaped(tmp_path: Path) -> None:
    from tests.conftest import HashEmbedder

    from ragsilo import Silo
    from ragsilo.settings import load_settings

    docs = tmp_path / "docs"
    docs.mkdir()
    touch(docs / "good.txt", b"Honey bees dance to tell the hive where flowers are.")
    bad = os.path.join(os.fsencode(docs), b"lava\xff\xfe.txt")
    with open(bad, "wb") as f:
        f.write(b"Lava flows from the volcano down to the sea.")
    crafted = docs / "evil\nfiles: 99 ingested\x1b[31m.txt"
    touch(crafted, b"A crafted name with a newline and a terminal escape sequence.")
    settings = load_settings(
        overrides={"milvus": {"uri": str(tmp_path / "n.db")}, "index": {"type": "FLAT"}}
    )
    with Silo.open(settings, embedder=HashEmbedder()) as silo:
        first = silo.ingest([docs])
        assert first.ingested == 3 and first.failed == 0, first.files
        escaped = str(docs / "lava\\xff\\xfe.txt")
        assert escaped in [f.path for f in first.files]
        again = silo.ingest([docs], prune=True)  # rerun: nothing new, nothing removed
        assert again.skipped == 3 and again.ingested == 0 and again.removed == 0
        hits = silo.search("Lava flows from the volcano down to the sea.", k=3)
        assert escaped in [h.source for h in hits]
        os.remove(bad)
        pruned = silo.ingest([docs], prune=True)
        assert [f.path for f in pruned.files if f.status == "removed"] == [escaped]
