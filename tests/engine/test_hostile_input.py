"""Hostile input gets a clear error: odd ids, sizes no machine holds, long sequences, data paths
that name devices, bombs or private files, downloads nobody asked for."""

from pathlib import Path

import pytest
import torch
from torch import fx, nn

from engine import CompileError, check, compile_graph
from engine.data import DataError, load_dataset
from engine.interop.exporter import export_python
from engine.training import TrainingConfig, train
from engine.training.messages import Failed, Finished
from graphs import Graph, GraphFileError, loads_graph
from tests.helpers import chain, named_pipe, without_blocking

# Every public name a GraphModule has (methods and attributes), as an audit would try them.
MODULE_NAMES = sorted(n for n in dir(fx.GraphModule(torch.nn.Module(), fx.Graph()))
                      if not n.startswith("_") and n.isidentifier())


def graph_with_ids(ids, features=4) -> Graph:
    g = Graph(name="odd ids")
    prev = g.add_node("Input", shape=[features])
    for i, node_id in enumerate(ids):
        kind = ("Linear", {"out_features": features}) if i % 2 == 0 else ("ReLU", {})
        new = g.add_node(kind[0], id=node_id, **kind[1])
        g.connect(prev, new)
        prev = new
    g.connect(prev, g.add_node("Output"))
    return g


@pytest.mark.slow
def test_every_graph_module_attribute_name_is_a_valid_id_that_compiles_trains_and_exports(tmp_path):
    ids = MODULE_NAMES + ["torch", "self", "F", "nn", "print", "input"]
    assert {"load_state_dict", "get_parameter", "recompile", "set_submodule", "bfloat16", "compile",
            "register_forward_hook"} <= set(ids)
    g = graph_with_ids(ids, features=2)
    model = compile_graph(g)
    assert model(torch.randn(3, 2)).shape == (3, 2)
    # Every step is named after its node (torch, builtins and self with a trailing _).
    import re

    from engine.layers.build import step_name
    code = model.code
    assert all(re.search(rf"^    {re.escape(step_name(n))} = ", code, re.M) for n in ids), code
    assert "    torch_ = self.torch(" in code and "    self_ = torch.nn.functional.relu(torch_)" in code
    g.training = TrainingConfig(dataset="gaussian", epochs=1, device="cpu", probe_every=5).to_dict()
    messages = list(train(g))
    assert isinstance(messages[-1], Finished), messages[-1]
    from engine.training.messages import ActivationMaps, GradientFlow
    flows = [m for m in messages if isinstance(m, GradientFlow)]
    assert {layer.layer for layer in flows[-1].layers} == {n for n in ids[::2]}     # probes speak of node ids
    assert {m.layer for m in messages if isinstance(m, ActivationMaps)} <= set(g.nodes)
    export_python(g, tmp_path / "odd.py")
    import subprocess
    import sys
    ran = subprocess.run([sys.executable, "-I", str(tmp_path / "odd.py")], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr[-2000:]


@pytest.mark.parametrize("text, place, problem", [
    ('{"out_features": 1' + "0" * 400 + '}', "nodes[1].params.out_features", "is too large"),
    ('{"out_features": 3}', "training.lr", "not a number a graph can hold"),
])
def test_numbers_no_graph_can_hold_are_refused_on_load_naming_the_place(text, place, problem):
    source = ('{"format": "netloom.graph", "format_version": 1, "nodes": [{"id": "input1", "type": "Input", '
              '"params": {"shape": [4]}}, {"id": "fc1", "type": "Linear", "params": ' + text + '}], '
              '"training": {"lr": 1e400}}')
    if place == "nodes[1].params.out_features":
        source = source.replace('"lr": 1e400', '"lr": 0.1')
    with pytest.raises(GraphFileError) as caught:
        loads_graph(source, "odd.loom")
    assert str(caught.value).startswith(f"odd.loom: {place}: ") and problem in str(caught.value)


def test_deep_nesting_is_refused_on_load_not_a_recursion_error_at_save():
    nested = "[" * 40 + "1" + "]" * 40
    source = ('{"format": "netloom.graph", "format_version": 1, "nodes": [], "training": {"dataset_options": '
              '{"x": ' + nested + '}}}')
    with pytest.raises(GraphFileError, match="is nested more than 32 levels deep"):
        loads_graph(source, "deep.loom")


def test_a_graph_too_large_for_the_machine_is_refused_before_anything_is_allocated(monkeypatch):
    g = chain(("Linear", {"out_features": 200_000}), input_shape=[100_000], name="huge")   # 20 billion weights
    report = check(g)
    assert not report.ok
    error = report.errors[0]
    assert error.node == "fc1" and "fc1: the graph's 20,000,200,000 parameters need 74.5 GB" in error.message
    with monkeypatch.context() as patched:       # no layer is built: nothing is allocated before refusing
        patched.setattr(nn.Linear, "__init__", lambda *a, **k: pytest.fail("fc1 was built before the refusal"))
        with pytest.raises(CompileError) as caught:
            compile_graph(g)
    assert caught.value.node == "fc1" and "74.5 GB" in str(caught.value)
    g.training = TrainingConfig(device="cpu").to_dict()
    failed = list(train(g))
    assert len(failed) == 1 and isinstance(failed[0], Failed) and "74.5 GB" in failed[0].reason


def test_check_warns_when_training_needs_more_memory_than_the_machine_has(monkeypatch):
    from engine.checking import memory
    monkeypatch.setattr(memory, "machine_memory", lambda: 3 * 2**20)      # a 3 MB machine
    g = chain(("Linear", {"out_features": 512}), input_shape=[512], name="medium")
    report = check(g)
    warning = [d for d in report.warnings if "training this graph needs about" in d.message]
    assert warning and warning[0].node == "fc1" and "more than this machine's memory (3.0 MB)" in warning[0].message


def test_a_long_sequence_is_checked_without_running_it(monkeypatch):
    g = chain(("LSTM", {"hidden_size": 32, "num_layers": 2}), input_shape=[4096, 8], name="long")
    lengths: list[int] = []          # the sequence lengths the check runs the layer on
    original = nn.LSTM.forward

    def spy(self, x, *rest, **kw):
        lengths.append(x.shape[1] if self.batch_first else x.shape[0])
        return original(self, x, *rest, **kw)
    monkeypatch.setattr(nn.LSTM, "forward", spy)
    report = check(g)
    assert lengths and max(lengths) < 16        # inferred from a step or a few, never the 4,096 steps
    short = check(chain(("LSTM", {"hidden_size": 32, "num_layers": 2}), input_shape=[7, 8]))
    assert report.shapes["lstm1"] == (4096, 32)
    assert report.params["lstm1"] == short.params["lstm1"]
    assert report.macs["lstm1"] == short.macs["lstm1"] // 7 * 4096


# ---------------------------------------------------------------------- data paths named in a file
def test_a_device_or_a_folder_is_refused_as_a_data_file(tmp_path):
    with pytest.raises(DataError, match="/dev/zero: is not a regular file"):
        load_dataset("text", path="/dev/zero")
    with pytest.raises(DataError, match="/dev/zero: is not a regular file"):
        load_dataset("csv", path="/dev/zero", target="y")
    with pytest.raises(DataError, match="is a folder"):
        load_dataset("text", path=str(tmp_path))


def test_a_text_file_over_the_limit_is_refused(tmp_path, monkeypatch):
    from engine.data import file_guard
    monkeypatch.setattr(file_guard, "MAX_TEXT_BYTES", 1000)
    big = tmp_path / "big.txt"
    big.write_text("a" * 5000)
    with pytest.raises(DataError, match=r"big.txt: is 4.9 KB; a text file is read up to 1,000 bytes$"):
        load_dataset("text", path=str(big))


def test_errors_never_quote_a_file_that_is_no_table(tmp_path):
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n")
    with pytest.raises(DataError) as caught:
        load_dataset("csv", path=str(secret), target="y")
    assert "root:x:0" not in str(caught.value) and "its first line has one column" in str(caught.value)


def test_an_empty_target_cell_is_refused_naming_the_line(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("a,b,label\n1,2,x\n3,4,\n5,6,y\n")
    with pytest.raises(DataError, match=r"t.csv line 3: the target column 'label' is empty"):
        load_dataset("csv", path=str(table), target="label")


def test_a_decompression_bomb_is_named_not_a_traceback(tmp_path, monkeypatch):
    from PIL import Image
    folder = tmp_path / "images" / "cats"
    folder.mkdir(parents=True)
    Image.new("L", (64, 64)).save(folder / "bomb.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)     # 4,096 pixels is now a bomb
    with pytest.raises(DataError, match="bomb.png: has more pixels than an image file may"):
        load_dataset("image_folder", root=str(tmp_path / "images"))


def test_a_download_the_person_did_not_allow_is_refused_and_creates_nothing(tmp_path):
    target = tmp_path / "somewhere" / "mnist"
    with pytest.raises(DataError, match="NetLoom downloads only when you agree"):
        load_dataset("mnist", root=str(target), download=True)
    assert not (tmp_path / "somewhere").exists()


@pytest.mark.slow
def test_the_train_command_needs_allow_download(tmp_path):
    import json
    import subprocess
    import sys

    from graphs import load_graph, save_graph
    root = Path(__file__).resolve().parents[2]
    g = load_graph(root / "resources" / "examples" / "lenet_digits.loom")
    g.training = TrainingConfig(dataset="mnist", dataset_options={"root": str(tmp_path / "data"), "download": True},
                                device="cpu").to_dict()
    save_graph(g, tmp_path / "m.loom")
    result = subprocess.run([sys.executable, str(root / "main.py"), "train", str(tmp_path / "m.loom"), "--json"],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    final = json.loads(result.stdout.strip().splitlines()[-1])
    assert result.returncode == 1 and "--allow-download" in final["reason"]
    assert not (tmp_path / "data").exists()


def test_every_whitelisted_operation_is_a_fixed_torch_or_operator_callable():
    """A file names an operation; the engine calls the one callable this table holds for it:
    no name from a file is ever looked up in Python, and no entry reaches eval, exec or the OS."""
    import operator

    from engine.layers.operations import TABLE
    from graphs.operations import OPERATIONS
    assert set(TABLE) == set(OPERATIONS)
    for name, entry in TABLE.items():
        if entry.method is not None:
            assert entry.method.isidentifier() and not entry.method.startswith("_")
            assert callable(getattr(torch.Tensor, entry.method))
        else:
            module = getattr(entry.function, "__module__", "") or ""
            assert entry.function in vars(operator).values() or module.startswith("torch"), name


def test_a_function_node_with_hostile_arguments_gets_a_message_on_the_node_never_an_allocation():
    huge = chain(("Function", {"op": "expand", "args": [{"tensor": 0}, {"batch": 1}, 100000, 100000]}),
                 ("Linear", {"out_features": 4}), input_shape=(1, 1))
    assert any("more than this machine's memory" in d.message for d in check(huge).diagnostics)
    wrong = chain(("Function", {"op": "view", "args": [{"tensor": 0}, 10**12]}), input_shape=(4,))
    assert check(wrong).errors[0].message.startswith("function1: torch rejects this call: shape")
    missing = chain(("Function", {"op": "getitem", "args": [{"tensor": 3}, 0]}), input_shape=(4,))
    assert check(missing).errors[0].message == "function1: torch rejects this call: uses x3, but only 1 wire(s) come in"


# ---------------------------------------------------------------------- every data reader: no pipe, bounded memory
def _peak_kb() -> int:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _pipe_in_place(tmp_path, kind):
    """A data set whose one file is a named pipe; (load arguments, the pipe)."""
    from PIL import Image
    if kind == "text":
        return ("text", {"path": str(named_pipe(tmp_path / "corpus.txt"))}), tmp_path / "corpus.txt"
    if kind == "csv":
        return ("csv", {"path": str(named_pipe(tmp_path / "t.csv")), "target": "y"}), tmp_path / "t.csv"
    if kind == "image_folder":
        for name in ("cats", "dogs"):
            (tmp_path / "images" / name).mkdir(parents=True)
            Image.new("RGB", (4, 4)).save(tmp_path / "images" / name / "a.png")
        pipe = named_pipe(tmp_path / "images" / "dogs" / "b.png")
        return ("image_folder", {"root": str(tmp_path / "images")}), pipe
    if kind == "mnist":
        from tests.engine.test_datasets import make_mnist
        folder = make_mnist(tmp_path)
        (folder / "train-images-idx3-ubyte").unlink()
        return ("mnist", {"root": str(tmp_path)}), named_pipe(folder / "train-images-idx3-ubyte")
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    return ("cifar10", {"root": str(tmp_path)}), named_pipe(folder / "data_batch_1")


@pytest.mark.parametrize("kind", ["text", "csv", "image_folder", "mnist", "cifar10"])
def test_a_named_pipe_in_place_of_a_data_file_is_refused_without_waiting(tmp_path, kind):
    (name, options), pipe = _pipe_in_place(tmp_path, kind)
    with pytest.raises(DataError, match=r"is not a regular file \(a device, a pipe or a socket\)") as caught:
        without_blocking(lambda: load_dataset(name, **options), [pipe])
    assert pipe.name in str(caught.value)


def test_a_style_picture_that_is_a_pipe_is_refused_without_waiting(tmp_path):
    from engine.insight.style import InsightError, read_picture
    pipe = named_pipe(tmp_path / "style.png")
    with pytest.raises(InsightError, match="style.png: cannot be read .is not a regular file"):
        without_blocking(lambda: read_picture(pipe), [pipe])


def test_an_mnist_gzip_bomb_stops_where_its_header_ends(tmp_path):
    """2.9 MB of gzip that inflates to 2.9 GB, behind a header that promises MNIST's 47 MB."""
    import gzip

    from tests.engine.test_datasets import make_mnist
    folder = make_mnist(tmp_path, gz=True)
    header = bytes([0, 0, 8, 3]) + (60000).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(header) + gzip.compress(bytes(1 << 24)) * 180)
    before = _peak_kb()
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte.gz: holds more values but its header promises "
                                        r"60000x28x28; the file is truncated or damaged"):
        load_dataset("mnist", root=str(tmp_path))
    assert _peak_kb() - before < 300_000
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(bytes([0, 0, 8, 3]) + (1 << 20).to_bytes(4, "big")
                                                                      * 3))
    with pytest.raises(DataError, match="its header promises 1048576x1048576x1048576 values, more than"):
        load_dataset("mnist", root=str(tmp_path))


def test_a_csv_of_fifteen_million_rows_is_refused_at_once_not_read_into_gigabytes(tmp_path):
    table = tmp_path / "long.csv"
    with open(table, "w") as f:
        f.write("a,y\n")
        for _ in range(15):
            f.write("1,0\n" * 1_000_000)                 # 60 MB: under the byte limit
    before = _peak_kb()
    with pytest.raises(DataError, match=r"long.csv: has 15,000,002 lines; a CSV table is read up to 2,000,000 rows"):
        load_dataset("csv", path=str(table), target="y")
    assert _peak_kb() - before < 400_000


def test_a_csv_of_too_many_values_is_refused_and_a_large_one_within_them_reads_compactly(tmp_path):
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(40)) + ",y\n" + ("0," * 40 + "1\n") * 500_001)
    with pytest.raises(DataError, match=r"wide.csv: has up to 500,003 rows of 41 columns; a CSV table is read up to "
                                        r"20,000,000 values"):
        load_dataset("csv", path=str(wide), target="y")
    table = tmp_path / "fine.csv"
    table.write_text("a,b,y\n" + "".join(f"{i % 7},{i % 3}.5,{'cat' if i % 2 else 'dog'}\n" for i in range(200_000)))
    data = load_dataset("csv", path=str(table), target="y", normalize=False)
    assert data.class_names == ["cat", "dog"] and len(data.x_train) + len(data.x_val) == 200_000
    assert data.x_train.dtype == torch.float32 and set(data.x_train[:, 1].tolist()) <= {0.5, 1.5, 2.5}


def test_skip_gram_pairs_of_a_huge_window_are_refused_before_they_are_made(tmp_path):
    corpus = tmp_path / "words.txt"
    corpus.write_text("the quick brown fox jumps over the lazy dog " * 20_000)
    with pytest.raises(DataError, match=r"words.txt: 180,000 words with window 1000 make more than 20,000,000"):
        load_dataset("text", path=str(corpus), mode="skipgram", window=1000)


def test_an_image_folder_is_refused_once_its_decoded_pixels_pass_the_budget(tmp_path, monkeypatch):
    from PIL import Image

    from engine.data import file_guard, file_sets
    for name in ("cats", "dogs"):
        (tmp_path / name).mkdir()
        for i in range(3):
            Image.new("RGB", (10, 10)).save(tmp_path / name / f"{i}.png")
    monkeypatch.setattr(file_sets, "MAX_IMAGE_VALUES", 1000)      # 3 images of 300 values, a fourth is too many
    assert file_guard.MAX_IMAGE_VALUES == 512 * 1024 * 1024
    with pytest.raises(DataError, match=r"its images hold more than 1,000 pixel values \(reached at 0.png\); set "
                                        "image_size"):
        load_dataset("image_folder", root=str(tmp_path))
