"""The ``optlint`` command line (click).

Exit status: 0 no findings, 1 findings, 2 an error (usage, config, unreadable or
unparseable file). ``--exit-zero`` turns 1 and file errors into 0, never usage errors.
This module never imports torch, and never imports the code it checks.
"""

from __future__ import annotations

import sys

import click

from optlint import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="optlint")
def main() -> None:
    """Find PyTorch optimizers that weight-decay biases, norms and other no-decay parameters."""


def _version(ctx: click.Context, _param, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(f"optlint {__version__}")
        ctx.exit(0)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--select", multiple=True, help="Rule codes or prefixes to enable (replaces the default set). ALL for every rule.")
@click.option("--ignore", multiple=True, help="Rule codes or prefixes to disable.")
@click.option("--extend-select", multiple=True, help="Rule codes or prefixes to enable on top of the selection.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--fix", is_flag=True, help="Apply fixes and write the files (fixes are unsafe: they change training, on purpose).")
@click.option("--diff", is_flag=True, help="Print a unified diff of what --fix would change; write nothing.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings remain (usage errors still exit 2).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Read settings from this TOML file.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only: no summary.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Worker processes (default: all cores).")
@click.option("--no-prefilter", is_flag=True, hidden=True, help="Parse every file (for testing the pre-filter).")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_version, help="Show the version and exit.")
def check(paths, select, ignore, extend_select, output_format, fix, diff, exit_zero, config_path, quiet, jobs, no_prefilter) -> None:
    """Check PATHS (files or folders; default: the current folder)."""
    from optlint.config import ConfigError, UsageError, config_for, exclusions, resolve_settings, split_codes
    from optlint.discovery import discover
    from optlint.output import FORMATTERS
    from optlint.runner import check_files

    paths = list(paths) or ["."]
    try:
        config = config_for(paths, config_path)
        settings = resolve_settings(
            config,
            split_codes(select) or None,
            split_codes(ignore),
            split_codes(extend_select),
        )
    except UsageError as exc:
        raise click.UsageError(str(exc)) from None
    except ConfigError as exc:
        click.echo(f"optlint: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)

    files, missing = discover(paths, exclusions(config))
    for path in missing:
        click.echo(f"optlint: error: {path}: no such file or folder", err=True)

    settings.prefilter = not no_prefilter
    settings.fix, settings.diff = fix and not diff, diff
    results = check_files(files, settings, jobs)

    findings = sorted((f for r in results for f in r.findings), key=lambda f: f.sort_key())
    fixed = sum(r.fixed for r in results)
    if diff:
        sys.stdout.write("".join(r.diff for r in sorted(results, key=lambda r: r.path) if r.diff))
    else:
        sys.stdout.write(FORMATTERS[output_format](findings))
    sys.stdout.flush()

    errors = sum(1 for r in results if r.error)
    if not quiet:
        click.echo(_summary(len(findings), errors, len(files), fixed, diff), err=True)

    if missing:
        sys.exit(EXIT_ERROR)  # a bad path is a usage error: --exit-zero does not hide it
    if exit_zero:
        sys.exit(EXIT_CLEAN)
    if errors:
        sys.exit(EXIT_ERROR)
    if diff:
        sys.exit(EXIT_FINDINGS if fixed else EXIT_CLEAN)
    sys.exit(EXIT_FINDINGS if findings else EXIT_CLEAN)


def _summary(count: int, errors: int, checked: int, fixed: int = 0, diff: bool = False) -> str:
    files = f"{checked} file{'s' if checked != 1 else ''} checked"
    if diff:
        return f"Would fix {fixed} finding{'s' if fixed != 1 else ''} ({files})."
    if fixed:
        return f"Fixed {fixed} finding{'s' if fixed != 1 else ''}, {count} remaining ({files})."
    if not count:
        return f"All checks passed ({files})."
    text = f"Found {count} finding{'s' if count != 1 else ''} ({files}"
    if errors:
        text += f", {errors} could not be checked"
    return text + ")."


@main.command()
def rules() -> None:
    """List every rule: code, name, default, where it runs, fixable."""
    from optlint.rules.base import all_rules

    rows = [("code", "name", "default", "where", "fix", "summary")]
    for code, rule in all_rules().items():
        rows.append((code, rule.name, "on" if rule.default_enabled else "off", rule.where, "yes" if rule.fixable else "no", rule.summary))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])


@main.command()
@click.argument("code")
def explain(code: str) -> None:
    """Explain one rule (What it does / Why is this bad? / Example / Use instead / ...)."""
    from optlint.rules.base import all_rules

    rule = all_rules().get(code.upper())
    if rule is None:
        raise click.UsageError(f"unknown rule code {code!r}; `optlint rules` lists them")
    click.echo(rule.explain(), nl=False)
