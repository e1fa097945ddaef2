"""Check one YAML or JSON config file: OPT010 at the key that sets the decay.

- A file whose text names no optimizer and no ``weight_decay`` is not parsed (the same kind
  of text pre-filter as the Python rules' ``REQUIRES``).
- A file that is no valid YAML/JSON is an OPT000 finding at the parser's line and column;
  the other files are still checked.
- ``# noqa: OPT010`` in a YAML comment on the reported line (or on the line of the key that
  holds the optimizer) suppresses the finding, and ``# optlint: noqa`` exempts the file, as
  in Python. JSON has no comments: use ``per-file-ignores``.
"""

from __future__ import annotations

import os
import re

from optlint.findings import FileResult, Finding, Position
from optlint.static.source import SourceError, error_finding

CODE = "OPT010"
CONFIG_SUFFIXES = (".yaml", ".yml", ".json")
#: A YAML/JSON file larger than this is data, not a config: never read (a folder walk skips
#: it, and a file named on the command line, as pre-commit names it, is skipped the same way).
MAX_CONFIG_BYTES = 256 * 1024

#: What a config file worth reading names: an optimizer class (`AdamW`, `torch.optim.SGD`,
#: DeepSpeed's `"type": "Adam"`) or the decay itself.
_WORTH_READING = re.compile(r"weight_decay|_target_|_component_|class_path|\"optimizer\"")

_ADVICE = "put vector parameters (biases, norm weights: `p.squeeze().ndim < 2`) in a group with weight_decay=0.0"


def worth_reading(text: str) -> bool:
    return bool(_WORTH_READING.search(text))


def check_config(path: str, text: str, settings, file: str | None = None) -> FileResult:
    """Findings in one YAML/JSON config; `file`: where it is on disk when `path` is only its shown name."""
    result = FileResult(path)
    codes = settings.codes_for(path)
    if CODE not in codes or (settings.prefilter and not worth_reading(text)):
        result.skipped = True
        return result
    from optlint.static import noqa
    from optlint.static.configs import tree

    yaml_comments = tree.comments(text) if not path.endswith(".json") and "noqa" in text else []
    directives = noqa.from_comments(yaml_comments) if yaml_comments else noqa.Directives()
    result.warnings.extend(f"{path}:{row}: {message}" for row, message in directives.warnings)
    if directives.file_codes is not None and (not directives.file_codes or CODE in directives.file_codes):
        result.skipped = True
        return result
    try:
        config = tree.load(path, text)
    except SourceError as exc:
        return error_finding(result, exc)
    from optlint.static.project import project_for

    project = project_for(file or path, settings)
    if project is not None:
        project.begin()
    try:
        raw = _findings(file or path, config, project)
    except RecursionError:
        return error_finding(result, SourceError("too deeply nested to analyze"))
    except Exception as exc:  # a bug in optlint must cost one file, never the run
        return error_finding(result, SourceError(f"internal error in {CODE}: {type(exc).__name__}: {exc}; please report it"))
    finally:
        if project is not None:
            result.dependencies = project.end() or None
    reported: set[tuple[int, int]] = set()
    for node, holder_row, message in raw:
        if (node.row, node.column) in reported:
            continue  # a YAML merge (`<<: *base`) shares the key: one finding where it is written
        reported.add((node.row, node.column))
        if directives.suppresses(CODE, range(node.row, node.row + 1)) or directives.suppresses(CODE, range(holder_row, holder_row + 1)):
            continue
        width = max(1, len(str(node.value)) if node.value is not None else 1)
        result.findings.append(
            Finding(path, CODE, message, Position(node.row, node.column), Position(node.row, node.column + width), node.row)
        )
    result.findings.sort(key=Finding.sort_key)
    return result


def _findings(path: str, config, project) -> list:
    from optlint.static.configs.describe import describe

    display = project.display(os.path.abspath(path)) if project is not None else path
    out = []
    for found in describe(config, display):
        if found.decay.provably_zero:
            continue
        message = _judge(path, config, found, project)
        if message is None:
            continue
        out.append((found.at, (found.holder or found.at).row, message))
    return out


def _judge(path: str, config, found, project) -> str | None:
    """The finding's message, or None when the parameters it applies to are not all of a module."""
    from optlint.static.configs.consumers import deepspeed_consumers, hydra_consumers

    decay = found.decay.describe()
    unknown = "" if found.decay.known else "; if it is always 0, add `# noqa: OPT010`"
    where = ".".join(found.path)
    if found.kind == "lightning":
        return (
            f"Lightning CLI config: {found.name} (`optimizer.class_path`) decays every parameter of the model, biases "
            f"and norm weights included: {decay}; LightningCLI's automatic configure_optimizers hands it "
            f"`model.parameters()`; define configure_optimizers with a no-decay group, or {_ADVICE}{unknown}"
        )
    if found.kind == "torchtune":
        model = config.root.get("model")
        component = model.get("_component_") if model is not None and model.is_mapping else None
        if component is not None and "lora" in str(component.value).lower():
            return None  # LoRA recipes train the adapter matrices only
        return (
            f"torchtune config: {found.name} (`{_key(where, '_component_')}`) decays every parameter of the model, biases and "
            f"norm weights included: {decay}; torchtune's full-finetune recipes build it over "
            f"`model.parameters()`; set weight_decay: 0.0 here, or build the optimizer in your recipe and {_ADVICE}{unknown}"
        )
    if project is None:
        return None
    if found.kind == "hydra":
        key = found.key or os.path.basename(os.path.dirname(os.path.abspath(path)))
        consumers = hydra_consumers(project, path, key)
    else:
        consumers = deepspeed_consumers(project, path)
    if not consumers:
        return None
    first = consumers[0]
    modules = "`, `".join(dict.fromkeys(m for c in consumers for m in c.modules))
    used = f"{first.how} in {project.display(first.path)}:{first.row}"
    label = "Hydra config" if found.kind == "hydra" else "DeepSpeed config"
    key = f"`{_key(where, '_target_')}`" if found.kind == "hydra" else "`optimizer.type`"
    return (
        f"{label}: {found.name} ({key}) decays every parameter of `{modules}`, biases and norm weights included: "
        f"{decay}; {used} hands it all of them; {_ADVICE} where the parameters are handed over{unknown}"
    )


def _key(where: str, marker: str) -> str:
    return f"{where}.{marker}" if where else marker
