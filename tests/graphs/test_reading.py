"""The one reader of files a person or a file names (graphs/reading.py): only regular files,
looked at before they are opened, never waiting on a pipe, never more bytes than the limit."""

import os

import pytest

from graphs import GraphFileError, load_graph
from graphs.reading import ReadError, read_regular
from tests.helpers import named_pipe, without_blocking


def test_a_named_pipe_is_refused_by_name_without_waiting_for_a_writer(tmp_path):
    pipe = named_pipe(tmp_path / "graph.loom")
    with pytest.raises(GraphFileError, match=r"graph.loom: is not a regular file \(a device, a pipe or a socket\)$"):
        without_blocking(lambda: load_graph(pipe), [pipe])


def test_a_device_a_folder_and_a_missing_file_are_refused_by_name(tmp_path):
    with pytest.raises(GraphFileError, match="/dev/zero: is not a regular file"):
        load_graph("/dev/zero")
    with pytest.raises(GraphFileError, match="is a folder, not a file"):
        load_graph(tmp_path)
    with pytest.raises(GraphFileError, match="no such file"):
        load_graph(tmp_path / "absent.loom")
    with pytest.raises(GraphFileError, match="is not a name a file can have"):
        load_graph(str(tmp_path / "nul\x00.loom"))


def test_a_huge_sparse_file_is_refused_before_a_byte_is_read(tmp_path):
    sparse = tmp_path / "sparse.loom"
    with open(sparse, "wb") as f:
        f.truncate(3 << 30)                       # 3 GB that take no disk, and would take 3 GB of memory
    with pytest.raises(GraphFileError, match=r"sparse.loom: is 3.0 GB; a graph file is read up to 64.0 MB"):
        load_graph(sparse)


def test_a_link_is_followed_to_a_regular_file_only(tmp_path):
    (tmp_path / "real.txt").write_bytes(b"12345")
    (tmp_path / "link.txt").symlink_to(tmp_path / "real.txt")
    (tmp_path / "to-pipe").symlink_to(named_pipe(tmp_path / "pipe"))
    assert read_regular(tmp_path / "link.txt", 10, "text file") == b"12345"
    with pytest.raises(ReadError, match="is 5 bytes; a text file is read up to 4 bytes"):
        read_regular(tmp_path / "link.txt", 4, "text file")
    with pytest.raises(ReadError, match="is not a regular file"):
        without_blocking(lambda: read_regular(tmp_path / "to-pipe", 10, "text file"), [tmp_path / "pipe"])


def test_reading_stops_at_the_limit_when_the_file_says_less_than_it_holds(tmp_path, monkeypatch):
    from graphs import reading
    path = tmp_path / "growing.bin"
    path.write_bytes(b"x" * 100)
    monkeypatch.setattr(reading, "file_size", lambda file: 10)      # as a file that grows while read
    with pytest.raises(ReadError, match="is larger than 50 bytes"):
        read_regular(path, 50, "file")
    assert os.path.getsize(path) == 100
