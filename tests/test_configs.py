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
    assert reported_files == {"configs/inherits.py", "configs/own_wrapper.py", "configs/mmcv_style.py", "configs/swin.py"}
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
        "dict(optimizer=dict(lr=5e-4), paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0, bypass_duplicate=True))",
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


def _project(tmp_path, files: dict[str, str]) -> Path:
    (tmp_path / "pyproject.toml").write_text("")
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def _reported(root: Path) -> list[str]:
    from optlint.static.project import forget_projects

    forget_projects()
    result = run_cli("check", "--color", "never", "--select", "OPT010,OPT001", ".", cwd=root)
    return [line.split(": ")[0] for line in result.stdout.splitlines()]


def test_hydra_partial_called_with_every_parameter(tmp_path):
    root = _project(tmp_path, {
        "conf/config.yaml": "optim:\n  _target_: torch.optim.AdamW\n  _partial_: true\n  lr: 1e-3\n",
        "train.py": "import hydra\nfrom hydra.utils import instantiate\n\n@hydra.main(config_path='conf', config_name='config')\n"
                    "def main(cfg):\n    make = instantiate(cfg.optim)\n    return make(model.parameters())\n",
    })
    assert _reported(root) == ["conf/config.yaml:2:3"]  # AdamW's default 0.01, at `_target_`


def test_hydra_parameters_passed_on_positionally(tmp_path):
    root = _project(tmp_path, {
        "conf/config.yaml": "optim:\n  _target_: torch.optim.SGD\n  lr: 0.1\n  weight_decay: 1e-4\n",
        "train.py": "import hydra\n\n@hydra.main(config_path='conf', config_name='config')\n"
                    "def main(cfg):\n    return hydra.utils.instantiate(cfg.optim, model.parameters())\n",
    })
    assert _reported(root) == ["conf/config.yaml:4:3"]


def test_hydra_config_read_under_another_key_is_not_judged(tmp_path):
    root = _project(tmp_path, {
        "conf/config.yaml": "optim:\n  _target_: torch.optim.AdamW\n  weight_decay: 0.1\n",
        "train.py": "import hydra\nfrom hydra.utils import instantiate\n\n@hydra.main(config_path='conf', config_name='config')\n"
                    "def main(cfg):\n    return instantiate(cfg.scheduler, params=model.parameters())\n",
    })
    assert _reported(root) == []


def test_deepspeed_config_from_an_argparse_default(tmp_path):
    root = _project(tmp_path, {
        "ds.json": '{"optimizer": {"type": "Adam", "params": {"lr": 1e-4, "weight_decay": 0.1}}}\n',
        "train.py": "import argparse\nimport deepspeed\nparser = argparse.ArgumentParser()\n"
                    "parser.add_argument('--deepspeed_config', default='ds.json')\nargs = parser.parse_args()\n"
                    "engine, opt, _, _ = deepspeed.initialize(args=args, model=model, model_parameters=model.parameters())\n",
    })
    assert _reported(root) == ["ds.json:1:55"]


def test_deepspeed_without_weight_decay_is_its_fused_adams_zero(tmp_path):
    root = _project(tmp_path, {
        "ds.json": '{"optimizer": {"type": "AdamW", "params": {"lr": 1e-4}}}\n',
        "train.py": "import deepspeed\nengine, opt, _, _ = deepspeed.initialize(model=model, "
                    "model_parameters=model.parameters(), config='ds.json')\n",
    })
    assert _reported(root) == []


def test_detectron2_assignment_after_the_lazy_call_counts(tmp_path):
    head = ("import torch\nfrom detectron2.config import LazyCall as L\nfrom detectron2.solver import get_default_optimizer_params\n"
            "optimizer = L(torch.optim.AdamW)(params=L(get_default_optimizer_params)(), lr=1e-4, weight_decay=0.1)\n")
    root = _project(tmp_path, {"a.py": head + "optimizer.params.weight_decay_norm = 0.0\n", "b.py": head})
    assert _reported(root) == ["b.py:4:85"]


def test_mmengine_custom_keys_lr_only_decay_everything_and_a_name_split_is_opt011(tmp_path):
    root = _project(tmp_path, {
        "lr_only.py": "optim_wrapper = dict(optimizer=dict(type='AdamW', weight_decay=0.05),\n"
                      "    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}))\n",
        "split.py": "optim_wrapper = dict(optimizer=dict(type='AdamW', weight_decay=0.05),\n"
                    "    paramwise_cfg=dict(custom_keys={'norm': dict(decay_mult=0.0)}))\n",
    })
    result = run_cli("check", "--color", "never", ".", cwd=root)
    lines = result.stdout.splitlines()
    assert [line.split(": ")[0] + " " + line.split(": ")[1][:6] for line in lines] == ["lr_only.py:1:51 OPT010", "split.py:1:51 OPT011"]
    assert "no automatic fix" in lines[0]
    assert "'norm' with decay_mult=0" in lines[1] and "biases whose names hold none of them keep weight_decay=0.05" in lines[1]


def test_python_reading_a_yaml_that_sets_zero_is_clean(tmp_path):
    root = _project(tmp_path, {
        "cfg/train.yaml": "optim:\n  weight_decay: 0\n",
        "train.py": "import torch, yaml\nwith open('cfg/train.yaml') as f:\n    cfg = yaml.safe_load(f)\n"
                    "opt = torch.optim.AdamW(model.parameters(), weight_decay=cfg['optim']['weight_decay'])\n",
    })
    assert _reported(root) == []
    (root / "cfg" / "train.yaml").write_text("optim:\n  weight_decay: 1e-2\n")
    result = run_cli("check", "--color", "never", ".", cwd=root)
    assert "weight_decay=0.01 from cfg/train.yaml:2" in result.stdout


def test_tags_the_safe_loader_does_not_build_are_no_parse_error():
    text = "hparams: !!python/object:argparse.Namespace\n  lr: 0.1\nweight_decay: !custom 0.1\noptimizer:\n  class_path: torch.optim.SGD\n"
    findings = check_text(text, path="hparams.yaml")
    assert [f.code for f in findings] == []  # SGD, no decay written: nothing; and no OPT000
