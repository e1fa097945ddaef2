"""Config files a hostile user (or a real repository) writes: each must cost its size, give a
clear OPT000 at its position or be left alone, and `--fix` must stay exact."""

from __future__ import annotations

import os

from conftest import run_cli

from optlint.config import FileConfig, resolve_settings
from optlint.static.linter import check_source

ADAMW = "_component_: torch.optim.AdamW\n"


def _check(path: str, data: bytes):
    return check_source(path, data, resolve_settings(FileConfig(), ["ALL"]))


def _rows(result):
    return [(f.code, f.location.row, f.location.column) for f in result.findings]


def test_nested_aliases_cost_the_size_of_the_file():
    """A "billion laughs": 9**29 paths through shared nodes; converted and walked once each."""
    lines = ["a0: &a0 {_component_: torch.optim.AdamW, weight_decay: 1}"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 30)]
    result = _check("bomb.yaml", "\n".join(lines).encode())
    assert _rows(result) == [("OPT010", 1, 42)]


def test_merge_keys_that_multiply_are_refused_at_their_document():
    lines = ["a0: &a0 {weight_decay: 1}"]
    lines += [f"a{i}: &a{i} {{<<: [{', '.join([f'*a{i - 1}'] * 9)}], k{i}: 1}}" for i in range(1, 30)]
    result = _check("merges.yaml", "\n".join(lines).encode())
    assert _rows(result) == [("OPT000", 1, 1)] and "merge keys" in result.findings[0].message


def test_a_node_that_holds_itself_ends():
    result = _check("rec.yaml", b"x: &a [*a]\ny: &b {k: *b, _component_: torch.optim.AdamW}\n")
    assert _rows(result) == [("OPT010", 2, 15)]


def test_a_merged_optimizer_is_reported_once_where_its_keys_are_written():
    text = (
        "base: &base\n  _component_: torch.optim.AdamW\n  lr: 1\n"
        "opt1:\n  <<: *base\n  weight_decay: 0.1\n"
        "base2: &b2\n  _component_: torch.optim.AdamW\n  weight_decay: 0.2\n"
        "opt2:\n  <<: *b2\n  lr: 3\nopt3: *b2\n"
    )
    assert _rows(_check("merge.yaml", text.encode())) == [("OPT010", 2, 3), ("OPT010", 6, 3), ("OPT010", 9, 3)]


def test_scalars_python_cannot_build_keep_their_text():
    huge = _check("big.yaml", (ADAMW + "weight_decay: 0.1\nsteps: 1" + "0" * 5000 + "\nx: !!int abc\n").encode())
    assert _rows(huge) == [("OPT010", 2, 1)]


def test_utf16_and_bom_configs_are_read():
    text = ADAMW + "weight_decay: 0.1\n"
    for data in (text.encode("utf-16"), b"\xef\xbb\xbf" + text.encode(), text.replace("\n", "\r\n").encode()):
        assert _rows(_check("c.yaml", data)) == [("OPT010", 2, 1)]
    latin = _check("c.yaml", ("# caf\xe9\n" + text).encode("latin-1"))
    assert _rows(latin) == [("OPT000", 1, 6)] and "utf-8" in latin.findings[0].message


def test_json_with_comments_is_another_tools_format_and_broken_json_is_opt000():
    jsonc = b'{\n  // editor settings\n  "weight_decay": 1,\n}\n'
    assert _check("tsconfig.json", jsonc).findings == []
    broken = _check("ds.json", b'{"weight_decay": "//x", "b": 1,}\n{')
    assert _rows(broken) == [("OPT000", 1, 32)]
    trailing = _check("ds.json", b'{"optimizer": {"params": {"weight_decay": 0.1,}}}')  # json.load refuses it too
    assert _rows(trailing) == [("OPT000", 1, 47)]


def test_deep_nesting_is_opt000_not_a_crash():
    deep = _check("deep.json", b'{"optimizer": ' + b"[" * 100000 + b"]" * 100000 + b"}")
    assert [f.code for f in deep.findings] == ["OPT000"]
    tabs = _check("tabs.yaml", (ADAMW + "x:\n\t- 1\n").encode())
    assert _rows(tabs) == [("OPT000", 3, 1)]


def _mmengine(tmp_path, name: str, data: bytes):
    (tmp_path / "pyproject.toml").write_text("")
    folder = tmp_path / "configs"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(data)
    return folder / name


WRAPPER = b"optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05))\n"


def test_the_paramwise_fix_keeps_crlf_mode_and_edits_only_its_dict(tmp_path):
    data = b"# head\r\noptim_wrapper = dict(\r\n    type='OptimWrapper',\r\n    optimizer=dict(type='AdamW', weight_decay=0.05))\r\nx = 1\r\n"
    path = _mmengine(tmp_path, "crlf.py", data)
    os.chmod(path, 0o640)
    run_cli("check", "--unsafe-fixes", "--fix", "configs", cwd=tmp_path)
    assert path.read_bytes() == data.replace(
        b"weight_decay=0.05))\r\n",
        b"weight_decay=0.05),\r\n    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0, bypass_duplicate=True))\r\n",
    )
    assert os.stat(path).st_mode & 0o777 == 0o640


def test_the_paramwise_fix_edits_the_last_assignment(tmp_path):
    path = _mmengine(tmp_path, "twice.py", WRAPPER + WRAPPER)
    run_cli("check", "--unsafe-fixes", "--fix", "configs", cwd=tmp_path)
    assert path.read_bytes().splitlines()[0] + b"\n" == WRAPPER
    assert b"paramwise_cfg" in path.read_bytes().splitlines()[1]


def test_an_optim_wrapper_changed_after_its_assignment_is_not_judged(tmp_path):
    for name, tail in (("item.py", b"optim_wrapper['paramwise_cfg'] = dict(norm_decay_mult=0.)\n"),
                       ("update.py", b"optim_wrapper.update(paramwise_cfg=dict(norm_decay_mult=0.))\n")):
        _mmengine(tmp_path, name, WRAPPER + tail)
    result = run_cli("check", "--color", "never", "configs", cwd=tmp_path)
    assert "OPT010" not in result.stdout, result.stdout


def test_base_cycles_missing_and_outside_bases_end(tmp_path):
    _mmengine(tmp_path, "a.py", b"_base_ = ['./b.py']\n" + WRAPPER)
    _mmengine(tmp_path, "b.py", b"_base_ = ['./a.py']\nmodel = dict()\n")
    _mmengine(tmp_path, "c.py", b"_base_ = ['../../../x.py', './missing.py', 'https://x/y.py', '{{fileDirname}}/b.py']\n" + WRAPPER)
    result = run_cli("check", "--color", "never", "configs", cwd=tmp_path)
    assert sorted(line.split(":")[0] for line in result.stdout.splitlines() if "OPT010" in line) == [
        "configs/a.py", "configs/b.py", "configs/c.py"]


def test_a_multi_document_stream_is_judged_by_its_first_document():
    many = ADAMW + "weight_decay: 0.1\n" + "---\n" + ADAMW * 1 + "weight_decay: [\n"
    assert _rows(_check("multi.yaml", many.encode())) == [("OPT000", 6, 1)]  # a broken later one is still OPT000
    many = "---\nx: 1\n" + ("---\n" + ADAMW + "weight_decay: 0.1\n") * 3
    assert _rows(_check("multi.yaml", many.encode())) == []  # OmegaConf reads one document: the first


def test_a_data_file_larger_than_a_config_is_skipped_named_or_walked(tmp_path):
    """pre-commit names a staged 4 MB data.json: skipped as the walk skips it, in no time."""
    rows = ",\n".join(f'  [{i}, {i / 2}, "x"]' for i in range(30000))
    data = ('{"optimizer": {"type": "AdamW", "params": {"weight_decay": 0.1}},\n "rows": [\n' + rows + "]}\n").encode()
    assert len(data) > 256 * 1024
    result = _check("data.json", data)
    assert result.skipped and result.findings == []
    (tmp_path / "data.json").write_bytes(data)
    assert "OPT" not in run_cli("check", "--color", "never", "data.json", cwd=tmp_path).stdout
