"""The differential harness: a fix changes the decay of vectors and nothing else, proven by running.

Each program in fixtures/fix/dependents/ uses its optimizer's groups one way (a per-group
scheduler list, a warm-up writing group 0, an index after a split group, clipping, a
resume, a hand-off...). Its first line says what optlint must do with the fix:

- ``# expect: safe``: `--fix` applies it (rewriting the dependents in the same edit set);
- ``# expect: unsafe``: only `--unsafe-fixes` applies it and the finding says what to check;
- ``# expect: withheld``: no fix, and the message names the line marked ``# stops the fix``.

Fixed programs are then run beside their originals on a tiny model, a few steps, with their
own schedulers, clipping and warm-up (tests/training_harness.py records every parameter's
effective lr, clipping, decay and training at every step): only the decay of vectors may
differ, and it must differ somewhere (the fix did its job).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import FIXTURES
from fix_programs import program
from optlint.cli import main
from training_harness import compare

DEPENDENTS = FIXTURES / "fix" / "dependents"
PROGRAMS = sorted(p.name for p in DEPENDENTS.glob("*.py"))
HARNESS = Path(__file__).with_name("training_harness.py")


def expectation(name: str) -> tuple[str, bool]:
    first = (DEPENDENTS / name).read_text().splitlines()[0]
    words = first.removeprefix("# expect:").split()
    return words[0], "norun" not in words


def marked_line(name: str) -> int:
    lines = (DEPENDENTS / name).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.endswith("# stops the fix"))


def cli(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def findings(path) -> list[dict]:
    report = cli("check", "--format", "json", "--select", "ALL", str(path)).stdout
    return [f for f in json.loads(report) if f["code"] in ("OPT001", "OPT002")]


def fixed(name: str, tmp_path, *flags) -> Path:
    target = tmp_path / name
    shutil.copyfile(DEPENDENTS / name, target)
    cli("check", "--fix", "-q", *flags, str(target))
    return target


@pytest.mark.parametrize("name", PROGRAMS)
def test_each_dependent_kind_gets_the_fix_its_fixture_expects(name, tmp_path):
    kind, _ = expectation(name)
    found = findings(DEPENDENTS / name)
    assert found, "the fixture's finding is not reported"
    original = (DEPENDENTS / name).read_bytes()
    if kind == "withheld":
        assert all(f["fix"] is None for f in found)
        assert any(f"(no automatic fix: line {marked_line(name)} " in f["message"] for f in found), found
        assert fixed(name, tmp_path, "--unsafe-fixes").read_bytes() == original
        return
    assert {f["fix"]["applicability"] for f in found if f["fix"]} == {kind}
    (tmp_path / "safe").mkdir()
    safe_only = fixed(name, tmp_path / "safe")
    if kind == "unsafe":
        assert safe_only.read_bytes() == original  # --fix alone leaves an unsafe fix alone
        assert all("unsafe fix, applied only with --unsafe-fixes; check first: line " in f["message"] for f in found)
        assert fixed(name, tmp_path, "--unsafe-fixes").read_bytes() != original
    else:
        assert safe_only.read_bytes() != original
        compile(safe_only.read_bytes(), name, "exec")


def test_unsafe_fixes_are_shown_by_diff_only_with_the_option(tmp_path):
    target = DEPENDENTS / "state_dict_resume.py"
    assert cli("check", "--diff", str(target)).stdout == ""
    shown = cli("check", "--diff", "--unsafe-fixes", str(target)).stdout
    assert shown.startswith("---") and "p.squeeze().ndim < 2" in shown


def test_text_output_marks_fixable_findings_and_counts_hidden_fixes_as_ruff_does(tmp_path):
    safe, unsafe = DEPENDENTS / "warmup_group0.py", DEPENDENTS / "state_dict_resume.py"
    result = cli("check", str(safe), str(unsafe))
    assert f"{safe}:22:7: OPT001 [*] AdamW" in result.stdout
    assert f"{unsafe}:23:7: OPT001 AdamW" in result.stdout
    assert "[*] 1 fixable with the `--fix` option (1 hidden fix can be enabled with the `--unsafe-fixes` option)." in result.stderr
    shown = cli("check", "--unsafe-fixes", str(unsafe))
    assert "OPT001 [*] AdamW" in shown.stdout and "[*] 1 fixable with the `--fix` option." in shown.stderr
    # `unfixable` still decides: no mark, no count, and --fix leaves the file alone
    config = tmp_path / "optlint.toml"
    config.write_text('unfixable = ["OPT001"]\n')
    target = tmp_path / "warmup_group0.py"
    shutil.copyfile(safe, target)
    off = cli("check", "--config", str(config), str(target))
    assert "OPT001 AdamW" in off.stdout and "fixable" not in off.stderr
    cli("check", "--fix", "--config", str(config), str(target))
    assert target.read_bytes() == safe.read_bytes()


def run_programs(paths: list[Path], tmp_path) -> dict:
    out = tmp_path / "records.json"
    subprocess.run([sys.executable, str(HARNESS), str(out), *map(str, paths)], check=True, timeout=600,
                   cwd=tmp_path)
    return json.loads(out.read_text())


def generated_pairs(seeds, tmp_path) -> list[tuple[Path, Path]]:
    """(original, fixed) for each generated program (tests/fix_programs.py) that gets a fix."""
    pairs = []
    for seed in seeds:
        folder = tmp_path / f"seed{seed}"
        folder.mkdir()
        original = folder / "original.py"
        original.write_text(program(seed))
        (folder / "fixed").mkdir()
        target = folder / "fixed" / "original.py"
        shutil.copyfile(original, target)
        cli("check", "--fix", "--unsafe-fixes", "-q", str(target))
        if target.read_bytes() != original.read_bytes():
            pairs.append((original, target))
    return pairs


def assert_only_vector_decay_changes(pairs, tmp_path) -> None:
    records = run_programs([p for pair in pairs for p in pair], tmp_path)
    failures = {}
    for before, after in pairs:
        was, now = records[str(before)], records[str(after)]
        assert was["error"] is None, f"{before} itself does not run: {was['error']}"
        problems, vector_decays = compare(was, now)
        if problems or not vector_decays or not was["steps"]:
            failures[str(before)] = problems or ["no vector's decay changed"]
    assert not failures, json.dumps(failures, indent=1)


def test_differential_harness_only_vector_decay_changes(tmp_path):
    """Every fixable fixture program and a few generated ones, fixed (with --unsafe-fixes),
    run beside their originals (one Python process for all: torch is imported once)."""
    pytest.importorskip("torch")
    pairs = []
    for name in PROGRAMS:
        kind, runs = expectation(name)
        if kind == "withheld" or not runs:
            continue
        (tmp_path / name).mkdir()
        pairs.append((DEPENDENTS / name, fixed(name, tmp_path / name, "--unsafe-fixes")))
    generated = generated_pairs(range(8), tmp_path)
    assert len(generated) >= 4
    assert_only_vector_decay_changes(pairs + generated, tmp_path)


@pytest.mark.slow
def test_differential_harness_over_many_generated_programs(tmp_path):
    pytest.importorskip("torch")
    assert_only_vector_decay_changes(generated_pairs(range(8, 80), tmp_path), tmp_path)


def test_harness_catches_a_fix_that_changes_lr_or_clipping(tmp_path):
    """The harness itself: a 'fix' that drops the warm-up for the new group is caught."""
    pytest.importorskip("torch")
    original = DEPENDENTS / "warmup_group0.py"
    bad = tmp_path / "bad.py"
    text = original.read_text().replace(
        "opt = torch.optim.AdamW(model.parameters(), lr=base_lr)",
        "opt = torch.optim.AdamW([{'params': [p for p in model.parameters() if p.squeeze().ndim >= 2]},"
        " {'params': [p for p in model.parameters() if p.squeeze().ndim < 2], 'weight_decay': 0.0}], lr=base_lr)",
    )
    bad.write_text(text)  # the split without the loop: group 1 never warms up
    records = run_programs([original, bad], tmp_path)
    problems, _ = compare(records[str(original)], records[str(bad)])
    assert any("hyper" in p for p in problems), problems


STATIC_CASES = {
    # accelerate hands the optimizer back in its argument's place; transformers' schedule builders
    # treat every group alike; calling the model is not a use of the optimizer
    "safe: wrapped and scheduled alike": (
        "import torch\nfrom accelerate import Accelerator\nfrom transformers import get_cosine_schedule_with_warmup\n"
        "opt = torch.optim.AdamW(model.parameters(), lr=1e-4)\nsched = get_cosine_schedule_with_warmup(opt, 10, 100)\n"
        "model, opt, loader = Accelerator().prepare(model, opt, loader)\nloss = model(x)\nopt.step()\n",
        "safe", None),
    # Lightning builds the optimizer after its strategy wraps the model (FSDP: 1-D shards) and
    # resumes with trainer.fit(ckpt_path=...) from outside the file (held-out audit: lightly)
    "unsafe: Lightning's configure_optimizers": (
        "import torch\nclass M:\n    def configure_optimizers(self):\n"
        "        opt = torch.optim.AdamW(self.parameters(), lr=1e-3)\n"
        "        return {'optimizer': opt, 'lr_scheduler': torch.optim.lr_scheduler.StepLR(opt, 10)}\n",
        "unsafe", "is built in Lightning's configure_optimizers: under an FSDP strategy"),
    "unsafe: returned to callers in other modules": (
        "import torch\ndef build(model):\n    return torch.optim.AdamW(model.parameters(), lr=1e-3)\n",
        "unsafe", "line 3 returns the optimizer from `build()`"),
    "unsafe: a scheduler's state dict": (
        "import torch\nopt = torch.optim.AdamW(model.parameters())\nsched = torch.optim.lr_scheduler.StepLR(opt, 5)\n"
        "sched.load_state_dict(ckpt['sched'])\n",
        "unsafe", "line 4 loads a scheduler state dict"),
    "withheld: a slice of the groups": (
        "import torch\nopt = torch.optim.AdamW(model.parameters())\nfor g in opt.param_groups[1:]:\n    g['lr'] = 0\n",
        "withheld", "line 3 takes `opt.param_groups[1:]`"),
    "withheld: the groups kept in a name, then indexed": (
        "import torch\nopt = torch.optim.AdamW([{'params': a.parameters()}, {'params': b.parameters()}])\n"
        "pg = opt.param_groups\npg[1]['lr'] = 0.1\n",
        "withheld", "line 4 sets `pg[1]['lr']` only"),
    "withheld: FSDP1 in another function": (
        "import torch\nfrom torch.distributed.fsdp import FullyShardedDataParallel\n"
        "def wrap(m):\n    return FullyShardedDataParallel(m, use_orig_params=False)\n"
        "opt = torch.optim.AdamW(model.parameters())\n",
        "withheld", "line 4 wraps the model in FullyShardedDataParallel"),
    # FSDP1 with use_orig_params=True exposes 1-D views of the local shards (the runtime policy
    # reads the original shapes back): a split by shape there removes all decay too
    "withheld: FSDP1 with use_orig_params=True": (
        "import torch\nfrom torch.distributed.fsdp import FullyShardedDataParallel as FSDP\n"
        "model = FSDP(model, use_orig_params=True)\nopt = torch.optim.AdamW(model.parameters())\n",
        "withheld", "line 3 wraps the model in FullyShardedDataParallel (FSDP1) before the optimizer is built"),
    "safe: FSDP1 wraps after the optimizer is built": (
        "import torch\nfrom torch.distributed.fsdp import FullyShardedDataParallel as FSDP\n"
        "opt = torch.optim.AdamW(model.parameters())\nmodel = FSDP(model)\n",
        "safe", None),
    # Lightning Fabric (and accelerate) shard the model they set up under an FSDP strategy:
    # an optimizer built after `fabric.setup(model)` sees 1-D shards (audit: TinyLlama)
    "withheld: Fabric set up with FSDP before the optimizer": (
        "import torch\nimport lightning as L\nfrom lightning.fabric.strategies import FSDPStrategy\n"
        "def main(model):\n    fabric = L.Fabric(devices=8, strategy=FSDPStrategy())\n    model = fabric.setup(model)\n"
        "    opt = torch.optim.AdamW(model.parameters(), weight_decay=0.1)\n    opt.step()\n",
        "withheld", "line 6 sets the model up with `fabric.setup(...)` before the optimizer is built, and this file uses FSDP"),
    "unsafe: Fabric set up before the optimizer, strategy not in the file": (
        "import torch\nimport lightning as L\n"
        "def main(model, strategy):\n    fabric = L.Fabric(strategy=strategy)\n    model = fabric.setup(model)\n"
        "    opt = torch.optim.AdamW(model.parameters(), weight_decay=0.1)\n    opt.step()\n",
        "unsafe", "line 5 sets the model up with `fabric.setup(...)` before the optimizer is built: under an FSDP strategy"),
    "withheld: a Fabric handed in, FSDP in the file": (
        "import torch\nimport lightning as L\nfrom lightning.fabric.strategies import FSDPStrategy\n"
        "def setup():\n    L.Fabric(devices=8, strategy=FSDPStrategy()).launch(main)\n"
        "def main(fabric, model):\n    model = fabric.setup(model)\n"
        "    opt = torch.optim.AdamW(model.parameters(), weight_decay=0.1)\n    opt.step()\n",
        "withheld", "line 7 sets the model up with `fabric.setup(...)` before the optimizer is built, and this file uses FSDP"),
    # deepspeed.initialize gives back (engine, optimizer, dataloader, scheduler): the engine is
    # not the optimizer, so the model's own state dict is no optimizer state (audit:
    # DeepSpeedExamples); the engine's checkpoint does restore the optimizer's state
    "safe: deepspeed.initialize gives the optimizer back second": (
        "import torch\nimport deepspeed\ndef train(args, model):\n    model.load_state_dict(torch.load(args.init))\n"
        "    opt = torch.optim.AdamW(model.parameters(), weight_decay=0.01)\n"
        "    model, opt, _, _ = deepspeed.initialize(args=args, model=model, optimizer=opt)\n    model.step()\n",
        "safe", None),
    "unsafe: the DeepSpeed engine restores a checkpoint": (
        "import torch\nimport deepspeed\ndef train(args, model):\n"
        "    opt = torch.optim.AdamW(model.parameters(), weight_decay=0.01)\n"
        "    model, opt, _, _ = deepspeed.initialize(args=args, model=model, optimizer=opt)\n"
        "    model.load_checkpoint(args.ckpt)\n    model.step()\n",
        "unsafe", "line 6 restores a checkpoint with `model.load_checkpoint(...)`"),
    # `params` holds param groups on one path and the module's parameters on the other: a
    # rewrite of `params` would run `p.ndim` on dicts on the first (audit: wenet)
    "withheld: parameters chosen at run time": (
        "import torch\ndef build(model, lrs, conf):\n    groups = [{'params': getattr(model, n).parameters(), 'lr': lr} for n, lr in lrs]\n"
        "    params = groups if len(groups) > 0 else model.parameters()\n    opt = torch.optim.Adam(params, weight_decay=1e-4)\n"
        "    opt.step()\n",
        "withheld", "the parameters are chosen at run time, and the rewrite would run on every path"),
}


@pytest.mark.parametrize("case", sorted(STATIC_CASES))
def test_dependents_seen_by_reading(case, tmp_path):
    source, kind, says = STATIC_CASES[case]
    target = tmp_path / "train.py"
    target.write_text(source)
    (found,) = findings(target)
    if kind == "withheld":
        assert found["fix"] is None and f"(no automatic fix: {says}" in found["message"], found["message"]
    else:
        assert found["fix"]["applicability"] == kind, found["message"]
        assert says is None or says in found["message"], found["message"]


def test_display_only_and_unfixable_fixes_are_never_applied():
    from optlint.config import FileConfig, resolve_settings
    from optlint.findings import Finding, Position

    settings = resolve_settings(FileConfig())
    where = Position(1, 1)
    shown = Finding("t.py", "OPT001", "m", where, where, fix={"edits": []}, applicability="display-only")
    unsafe = Finding("t.py", "OPT001", "m", where, where, fix={"edits": []}, applicability="unsafe")
    safe = Finding("t.py", "OPT001", "m", where, where, fix={"edits": []}, applicability="safe")
    assert [settings.applies(f) for f in (shown, unsafe, safe)] == [False, False, True]
    settings.unsafe_fixes = True
    assert [settings.applies(f) for f in (shown, unsafe, safe)] == [False, True, True]
    settings.fixable = frozenset()
    assert not settings.applies(safe)


def test_a_use_shared_with_another_branchs_optimizer_is_never_rewritten(tmp_path):
    """Found by the generated harness: `opt` built on three branches, one LambdaLR list after
    them; rewriting the list for one branch's fix crashed the others at start-up."""
    source = (
        "import torch\nif mode == 'a':\n    opt = torch.optim.AdamW(model.parameters())\nelse:\n"
        "    opt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
        "sched = torch.optim.lr_scheduler.LambdaLR(opt, [lambda s: 0.9 ** s])\n"
    )
    target = tmp_path / "train.py"
    target.write_text(source)
    (found,) = findings(target)
    assert found["fix"] is None
    assert "no automatic fix: line 6 also uses what line 5 builds" in found["message"]
