"""Config files (issue 18 item 3): each kind of config a small project under fixtures/configs/,
run through the command line; `expected.txt` holds what `optlint check .` prints there."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import check_text, run_cli

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "configs"
PROJECTS = sorted(p.name for p in FIXTURES.iterdir() if (p / "expected.txt").exists())


@pytest.mark.parametrize("name", PROJECTS)
def test_project_prints_what_expected_txt_holds(name):
    result = run_cli("check", "--color", "never", ".", cwd=FIXTURES / name)
    assert result.stdout == (FIXTURES / name / "expected.txt").read_text(encoding="utf-8")


def test_every_kind_has_a_reported_and_a_silent_case():
    reported = {name for name in PROJECTS if "OPT010" in (FIXTURES / name / "expected.txt").read_text()}
    assert {"hydra", "torchtune", "lightning", "deepspeed", "mmengine", "detectron2"} <= reported
    assert "hydra_split" not in reported and "deepspeed_split" not in reported
    text = (FIXTURES / "mmengine" / "expected.txt").read_text()
    reported_files = {line.split(":")[0] for line in text.splitlines()}
    assert reported_files == {"configs/inherits.py", "configs/own_wrapper.py", "configs/mmcv_style.py"}
    # fixed (paramwise.py), replaced (replaced.py), suppressed (noqa.py), and the _base_ fragment
    # itself: judged in the configs that inherit it


def test_staged_file_alone_gets_the_finding_of_a_full_run():
    """pre-commit names only the staged config: it is still judged through the code that uses it."""
    full = (FIXTURES / "hydra" / "expected.txt").read_text().splitlines()
    staged = run_cli("check", "--force-exclude", "--color", "never", "conf/optimizer/adamw.yaml", cwd=FIXTURES / "hydra")
    assert staged.exit_code == 1
    assert staged.stdout.splitlines() == [line for line in full if line.startswith("conf/optimizer/adamw.yaml:")]
    staged = run_cli("check", "--force-exclude", "--color", "never", "ds_config.json", cwd=FIXTURES / "deepspeed")
    assert staged.stdout.splitlines() == (FIXTURES / "deepspeed" / "expected.txt").read_text().splitlines()


def test_json_output_points_into_the_config_file():
    result = run_cli("check", "--output-format", "json", ".", cwd=FIXTURES / "deepspeed")
    findings = json.loads(result.stdout)
    assert [(f["code"], f["filename"].rsplit("/", 1)[-1], f["location"]["row"], f["fix"]) for f in findings] == [
        ("OPT010", "ds_config.json", 7, None)
    ]
    assert findings[0]["url"].endswith("/OPT010.md")


@pytest.mark.parametrize("fmt", ["github", "sarif", "gitlab", "junit", "pylint", "full"])
def test_every_format_handles_a_config_file(fmt):
    result = run_cli("check", "--output-format", fmt, "config.yaml", cwd=FIXTURES / "lightning")
    assert result.exit_code == 1 and "config.yaml" in result.stdout


def test_a_broken_config_is_opt000_and_the_others_are_still_checked():
    result = run_cli("check", "--color", "never", ".", cwd=FIXTURES / "broken")
    assert result.exit_code == 2
    lines = result.stdout.splitlines()
    assert any(line.startswith("bad.yaml:4:1: OPT000 invalid YAML") for line in lines)
    assert any(line.startswith("bad.json:1:64: OPT000 invalid JSON") for line in lines)
    assert any(line.startswith("ok.yaml:2:3: OPT010") for line in lines)


def test_yaml_noqa_and_per_file_ignores(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.optlint]\nper-file-ignores = {"ds/*.json" = ["OPT010"]}\n')
    (tmp_path / "a.yaml").write_text("optimizer:\n  class_path: torch.optim.AdamW  # noqa: OPT010\n")
    (tmp_path / "b.yaml").write_text("# optlint: noqa\noptimizer:\n  class_path: torch.optim.AdamW\n")
    (tmp_path / "c.yaml").write_text("optimizer:  # noqa: OPT001\n  class_path: torch.optim.AdamW\n")
    result = run_cli("check", "--color", "never", ".", cwd=tmp_path)
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == ["c.yaml"]
    assert run_cli("check", ".", "--ignore", "OPT010", cwd=tmp_path).exit_code == 0


def test_config_files_are_discovered_only_when_worth_reading(tmp_path):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "data.json").write_text(json.dumps({"rows": list(range(10))}))
    (tmp_path / "big.json").write_text(json.dumps({"weight_decay": 0.1, "pad": "x" * 300_000}))
    (tmp_path / "cfg.yaml").write_text("optimizer:\n  class_path: AdamW\n")
    result = run_cli("check", "--show-files", ".", cwd=tmp_path)
    assert sorted(Path(line).name for line in result.stdout.split()) == ["cfg.yaml"]


def test_mmengine_fix_inserts_one_key_and_is_unsafe(tmp_path):
    shutil.copytree(FIXTURES / "mmengine", tmp_path / "m")
    config = tmp_path / "m" / "configs" / "own_wrapper.py"
    before = config.read_bytes()
    assert run_cli("check", "--fix", ".", cwd=tmp_path / "m").exit_code == 1
    assert config.read_bytes() == before  # unsafe: --fix alone leaves it
    result = run_cli("check", "--fix", "--unsafe-fixes", "configs/own_wrapper.py", cwd=tmp_path / "m")
    assert result.exit_code == 0
    assert config.read_text() == before.decode().replace(
        "dict(optimizer=dict(lr=5e-4))",
        "dict(optimizer=dict(lr=5e-4), paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0))",
    )


def test_values_read_from_loaded_yaml_carry_their_file_and_line():
    text = (FIXTURES / "loaded" / "expected.txt").read_text()
    assert "train.py" not in text  # the YAML it loads sets weight_decay: 0.0
    assert "weight_decay=0.05 from configs/decayed.yaml:3" in text


def test_the_config_result_records_the_python_files_it_read():
    from optlint.config import FileConfig, resolve_settings
    from optlint.static.linter import check_path
    from optlint.static.project import forget_projects

    forget_projects()
    settings = resolve_settings(FileConfig(), ["ALL"])
    result = check_path(str(FIXTURES / "deepspeed" / "ds_config.json"), settings)
    assert [f.code for f in result.findings] == ["OPT010"]
    assert str(FIXTURES / "deepspeed" / "train.py") in result.dependencies.files


def test_pyyaml_scalars_read_as_omegaconf_reads_them():
    findings = check_text("optimizer:\n  class_path: torch.optim.SGD\n  init_args:\n    weight_decay: 1e-4\n", path="c.yaml")
    assert [f.code for f in findings] == ["OPT010"] and "weight_decay=0.0001" in findings[0].message
