"""The .loom file: stable text, golden files, clear errors, atomic saves, migrations."""

import json
import os
from pathlib import Path

import pytest

from graphs import CURRENT_VERSION, Graph, GraphFileError, dumps_graph, load_graph, loads_graph, migrations, save_graph
from graphs.edits import SetLearning
from tests.helpers import chain

DATA = Path(__file__).resolve().parent.parent / "data"
EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


def test_every_format_version_has_a_golden_file():
    assert sorted(p.name for p in DATA.iterdir() if p.is_dir()) == [f"v{v}" for v in range(1, CURRENT_VERSION + 1)]


def test_golden_v1_loads_with_all_its_parts(tmp_path):
    g = load_graph(DATA / "v1" / "golden.loom")
    assert g.metadata["name"] == "golden v1"
    assert g.inputs() == ["input1", "tokens"] and g.outputs() == ["output1", "output2"]
    assert g.nodes["tokens"].params == {"shape": [12], "dtype": "int64"}
    assert g.nodes["lstm1"].params["bidirectional"] is True
    assert [e.src for e in g.in_edges("concat1")] == ["input1", "embed1"]   # wire order is kept
    assert {e.src_port for e in g.out_edges("lstm1")} == {"seq", "last"}
    assert g.view == {"center": [10.5, -3], "zoom": 1.25}
    assert g.training["optimizer"] == "adam"


def test_golden_v2_loads_its_blocks_with_parameters_nesting_repeat_and_ports():
    g = load_graph(DATA / "v2" / "golden.loom")
    assert list(g.blocks) == ["ConvBN", "Residual", "Mix"]
    conv_bn = g.blocks["ConvBN"]
    assert conv_bn.parameters == {"channels": 8, "stride": 1}
    assert conv_bn.nodes["0"].params["out_channels"] == {"param": "channels"}   # numbered ids, as nn.Sequential
    assert g.blocks["Residual"].nodes["first"].type == "ConvBN"                   # a block inside a block
    assert g.nodes["stage"].params == {"repeat": 3, "width": 8}
    assert [p.name for p in g.nodes["mix"].spec.inputs] == ["a", "b"]
    assert [p.name for p in g.nodes["mix"].spec.outputs] == ["sum", "prod"]
    assert g.positions["stem"] and conv_bn.positions["1"] == (400.0, 0.0)


def test_golden_v3_loads_how_each_node_learns_and_the_fine_tuning_settings():
    g = load_graph(DATA / "v3" / "golden.loom")
    learning = {n.id: (n.lr_factor, n.fresh) for n in g.nodes.values() if (n.lr_factor, n.fresh) != (1.0, False)}
    assert learning == {"stem": (0.0, False), "stage": (0.1, False), "fc_a": (1.0, True)}
    assert g.nodes["stem"].frozen and not g.nodes["stage"].frozen
    assert g.training["start_from"]["path"] == "weights/golden.safetensors"
    assert g.training["augment"] == {"color_jitter": 0.2, "flip": True, "resized_crop": 0.6, "rotation": 10}
    assert g.training["normalize"] == "weights"


def test_golden_v4_loads_where_imported_nodes_came_from():
    g = load_graph(DATA / "v4" / "golden.loom")
    assert g.nodes["stem"].origin == "features.0" and g.blocks["ConvBN"].nodes["0"].origin == "conv"
    assert g.nodes["fc_a"].origin == ""                                # drawn in NetLoom
    assert g.nodes["stem"].copy().origin == "features.0"


def test_a_node_keeps_where_it_came_from_when_renamed_and_a_bad_origin_is_refused(tmp_path):
    g = load_graph(DATA / "v4" / "golden.loom")
    g.rename("stem", "first")
    assert g.nodes["first"].origin == "features.0"
    assert '"origin": "features.0"' in dumps_graph(g)
    data = json.loads((DATA / "v4" / "golden.loom").read_text(encoding="utf-8"))
    data["nodes"][1]["origin"] = "features.0; import os"
    with pytest.raises(GraphFileError, match=r"node 'stem'.origin: must be a module path such as layer1.0.conv1"):
        load_graph(write(tmp_path, data))


def test_a_version_3_file_that_says_where_a_node_came_from_is_refused(tmp_path):
    data = json.loads((DATA / "v3" / "golden.loom").read_text(encoding="utf-8"))
    data["blocks"]["ConvBN"]["nodes"][1]["origin"] = "conv"
    with pytest.raises(GraphFileError, match="a version-3 file cannot say where a node was imported from"):
        load_graph(write(tmp_path, data))


@pytest.mark.parametrize("path", [DATA / "v4" / "golden.loom", *sorted(EXAMPLES.glob("*.loom"))],
                         ids=lambda p: p.name)
def test_saving_a_loaded_file_reproduces_it_byte_for_byte(path, tmp_path):
    out = tmp_path / "again.loom"
    save_graph(load_graph(path), out)
    assert out.read_bytes() == path.read_bytes()


@pytest.mark.parametrize("version", [1, 2, 3])
def test_an_older_file_is_saved_as_the_current_version_with_nothing_else_changed(tmp_path, version):
    old = DATA / f"v{version}" / "golden.loom"
    out = tmp_path / "upgraded.loom"
    save_graph(load_graph(old), out)
    expected = old.read_text(encoding="utf-8").replace(f'"format_version": {version},',
                                                        f'"format_version": {CURRENT_VERSION},', 1)
    assert out.read_text(encoding="utf-8") == expected


def test_freezing_a_node_is_a_one_line_diff_and_learning_at_the_run_rate_writes_nothing():
    g = chain(("Conv2d", {"out_channels": 4}), "ReLU", name="tiny")
    before = dumps_graph(g)
    assert "lr_factor" not in before and "fresh" not in before
    g.apply(SetLearning(("conv1",), lr_factor=0))
    after = dumps_graph(g)
    assert [line for line in after.splitlines() if line not in before.splitlines()] == ['      "lr_factor": 0,']
    g.apply(SetLearning(("conv1",), lr_factor=0.25, fresh=True))
    again = loads_graph(dumps_graph(g))
    assert (again.nodes["conv1"].lr_factor, again.nodes["conv1"].fresh) == (0.25, True)


def test_file_text_is_stable_and_diff_friendly(tmp_path):
    g = chain(("Conv2d", {"out_channels": 4}), "ReLU", name="tiny")
    text = dumps_graph(g)
    assert text.startswith('{\n  "format": "netloom.graph",\n  "format_version": 4,\n')
    assert '    {"from": "input1", "from_port": "out", "to": "conv1", "to_port": "in"},\n' in text
    before = text.splitlines()
    g.set_params("conv1", out_channels=8)
    after = dumps_graph(g).splitlines()
    changed = [(a, b) for a, b in zip(before, after) if a != b]
    assert changed == [('        "out_channels": 4,', '        "out_channels": 8,')]


def write(tmp_path, content, name="bad.loom"):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def valid():
    return json.loads(dumps_graph(chain(("Conv2d", {"out_channels": 4}), "ReLU", name="t")))


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: json.dumps(d)[:-40], r"line 1, column \d+: the file ends too early \(truncated\?\)"),
    (lambda d: "{\n  'format': 1\n}", r"line 2, column 3: invalid JSON"),
    (lambda d: "", "is empty"),
    (lambda d: {**d, "format": "keras"}, r"format: is 'keras', not 'netloom.graph'"),
    (lambda d: {**d, "format_version": 99}, r"the file is version 99, written by a newer NetLoom"),
    (lambda d: {**d, "format_version": "1"}, r"format_version: must be a positive integer"),
    (lambda d: d | {"nodes": d["nodes"][:1] + [{"id": "x", "type": "os.system", "params": {}}]},
     r"node 'x'.type: unknown layer type 'os.system'"),
    (lambda d: _set(d, 1, "out_channels", "many"), r"node 'conv1'.params: 'out_channels' must be an integer, not 'many'"),
    (lambda d: _set(d, 1, "out_channels", -3), r"node 'conv1'.params: 'out_channels' must be at least 1, not -3"),
    (lambda d: _set(d, 1, "padding_mode", "zeros"), r"node 'conv1'.params: unknown parameter 'padding_mode'"),
    (lambda d: d | {"nodes": d["nodes"] + [d["nodes"][1]]}, r"node 'conv1': this id is used by two nodes"),
    (lambda d: d | {"nodes": d["nodes"] + [{"id": "import", "type": "ReLU"}]}, r"nodes\[4\].id: 'import' is reserved"),
    (lambda d: d | {"edges": d["edges"] + [{"from": "ghost", "from_port": "out", "to": "relu1", "to_port": "in"}]},
     r"edges\[3\]: wire ghost.out -> relu1.in refers to a missing node 'ghost'"),
    (lambda d: d | {"edges": [{"from": "input1", "from_port": "last", "to": "conv1", "to_port": "in"}]},
     r"edges\[0\]: wire input1.last -> conv1.in: input1 \(Input\) has no output port 'last'; it has out"),
    (lambda d: d | {"edges": d["edges"] + d["edges"][:1]}, r"edges\[3\]: wire input1.out -> conv1.in appears twice"),
    (lambda d: d | {"layout": {"positions": {"nobody": [0, 0]}}}, r"layout.positions.nobody: position of a node"),
    (lambda d: d | {"layout": {"positions": {"conv1": [0, "x"]}}}, r"layout.positions.conv1: must be \[x, y\]"),
    (lambda d: d | {"plugins": ["evil"]}, r"plugins: unknown section"),
    (lambda d: '{"format": "netloom.graph", "format_version": NaN}', r"'NaN' is not a number JSON allows"),
    (lambda d: '{"format": "netloom.graph", "format": "x"}', r"the key 'format' appears twice"),
    (lambda d: "[" * 100000, r"nested too deeply|invalid JSON|ends too early"),
    (lambda d: [1, 2], r"top level must be a JSON object"),
    (lambda d: _node(d, 1, lr_factor=-1), r"node 'conv1'.lr_factor: a learning-rate factor must be between 0 \(frozen\)"),
    (lambda d: _node(d, 1, lr_factor="frozen"), r"node 'conv1'.lr_factor: a learning-rate factor must be a number"),
    (lambda d: _node(d, 1, lr_factor=1e300), r"node 'conv1'.lr_factor: .* between 0 \(frozen\) and 100"),
    (lambda d: _node(d, 1, fresh="yes"), r"node 'conv1'.fresh: must be true or false, not 'yes'"),
    (lambda d: _node(d, 1, frozen=True), r"nodes\[1\]: unknown field 'frozen'"),
    (lambda d: _node(d, 1, lr_factor=0) | {"format_version": 2},
     r"format_version 2: cannot be upgraded: a version-2 file cannot say how a node learns \('conv1'\)"),
])
def test_bad_files_name_the_file_and_the_place(tmp_path, mutate, expected):
    path = write(tmp_path, mutate(valid()))
    with pytest.raises(GraphFileError, match=expected) as info:
        load_graph(path)
    assert str(info.value).startswith(str(path))


def _node(d, index, **fields):
    d["nodes"][index].update(fields)
    return d


def _set(d, index, key, value):
    d["nodes"][index]["params"][key] = value
    return d


def test_unreadable_files(tmp_path):
    with pytest.raises(GraphFileError, match="no such file"):
        load_graph(tmp_path / "missing.loom")
    with pytest.raises(GraphFileError, match="is a folder"):
        load_graph(tmp_path)
    binary = tmp_path / "image.loom"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(GraphFileError, match="is not UTF-8 text"):
        load_graph(binary)


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "model.loom"
    save_graph(chain("ReLU", input_shape=[4], name="old"), path)
    old = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(GraphFileError, match=r"cannot be written \(the disk is full\); the file on disk was left as it was"):
        save_graph(chain("Sigmoid", input_shape=[4], name="new"), path)
    assert path.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["model.loom"]


def test_saving_into_a_missing_folder_says_so(tmp_path):
    with pytest.raises(GraphFileError, match="cannot be written"):
        save_graph(Graph(), tmp_path / "nope" / "model.loom")


def test_old_versions_load_through_the_migration_chain(tmp_path, monkeypatch):
    # Pretend the format moved on to version 3 (renaming a section in v2, adding a field in v3)
    # and check that a version-1 file is carried through both steps in order.
    def v1_to_v2(d):
        d["meta"] = d.pop("metadata")
        return d

    def v2_to_v3(d):
        d["metadata"] = d.pop("meta") | {"migrated": True}
        return d
    monkeypatch.setattr(migrations, "MIGRATIONS", {1: v1_to_v2, 2: v2_to_v3})
    import graphs.fileformat as fileformat
    monkeypatch.setattr(fileformat, "CURRENT_VERSION", 3)
    monkeypatch.setattr(migrations, "CURRENT_VERSION", 3)
    monkeypatch.setattr(fileformat, "migrate",
                        lambda data, version: migrations.migrate(data, version, target=3))
    g = load_graph(DATA / "v1" / "golden.loom")
    assert g.metadata["migrated"] is True and len(g.nodes) == 10


def test_a_missing_migration_step_is_reported(tmp_path):
    with pytest.raises(ValueError, match=f"no upgrade from version {CURRENT_VERSION} to {CURRENT_VERSION + 1}"):
        migrations.migrate({"format_version": CURRENT_VERSION}, CURRENT_VERSION, target=CURRENT_VERSION + 1)


def test_a_version_1_file_that_claims_blocks_is_refused(tmp_path):
    data = json.loads((DATA / "v1" / "golden.loom").read_text(encoding="utf-8"))
    data["blocks"] = {}
    with pytest.raises(GraphFileError, match="format_version 1: cannot be upgraded: a version-1 file cannot hold blocks"):
        load_graph(write(tmp_path, data))


def test_a_layer_inside_a_block_cannot_be_frozen_on_its_own(tmp_path):
    data = json.loads((DATA / "v3" / "golden.loom").read_text(encoding="utf-8"))
    data["blocks"]["ConvBN"]["nodes"][1]["lr_factor"] = 0
    with pytest.raises(GraphFileError, match=r"blocks.ConvBN.node '0'.lr_factor: a layer inside a block learns as the "
                                             r"block's uses do; set it on a use"):
        load_graph(write(tmp_path, data))
