"""The ``optlint`` command line (click).

Exit status: 0 no findings, 1 findings, 2 an error (usage, config, unreadable or
unparseable file). ``--exit-zero`` turns 1 and file errors into 0, never usage errors.
This module never imports torch, and never imports the code it checks.
"""

from __future__ import annotations

import os
import sys

import click

from optlint import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _version(ctx: click.Context, _param, value: bool) -> None:
    """One ``--version`` (``optlint --version`` and ``optlint check --version`` alike), ruff's shape."""
    if value and not ctx.resilient_parsing:
        click.echo(f"optlint {__version__}")
        ctx.exit(0)


_VERSION_OPTION = click.option(
    "--version", is_flag=True, expose_value=False, is_eager=True, callback=_version, help="Show the version and exit."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, invoke_without_command=True)
@_VERSION_OPTION
@click.pass_context
def main(ctx: click.Context) -> None:
    """Find PyTorch optimizers that weight-decay biases, norms and other no-decay parameters."""
    if ctx.invoked_subcommand is None:
        # A bare `optlint` is a request for help, not a mistake: help on stdout, exit 0.
        click.echo(ctx.get_help())
        ctx.exit(EXIT_CLEAN)


def _formats() -> list[str]:
    from optlint.output import OUTPUT_FORMATS

    return list(OUTPUT_FORMATS)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--select", multiple=True, help="Rule codes or prefixes to enable (replaces the default set). ALL for every rule.")
@click.option("--ignore", multiple=True, help="Rule codes or prefixes to disable.")
@click.option("--extend-select", multiple=True, help="Rule codes or prefixes to enable on top of the selection.")
@click.option("--output-format", "--format", "output_format", type=click.Choice(_formats()), default="text", show_default=True, envvar="OPTLINT_OUTPUT_FORMAT", help="How to print findings (ruff's formats; `text` is `concise`). --format is the older name.")
@click.option("--color", "color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True, help="Colour the text output: auto is on a terminal, unless NO_COLOR is set (FORCE_COLOR forces it).")
@click.option("--show-files", is_flag=True, help="Print the files that would be checked, and exit.")
@click.option("--show-settings", is_flag=True, help="Print the settings that apply to the first path (or the current folder), and exit.")
@click.option("-o", "--output-file", type=click.Path(dir_okay=False), help="Write the report to this file instead of standard output.")
@click.option("--show-source", is_flag=True, help="Show the source lines of each finding (text format).")
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule instead of the findings.")
@click.option("--stdin-filename", help="The name of the file read from standard input (`-`), for messages and per-file-ignores.")
@click.option("--fix", is_flag=True, help="Apply safe fixes and write the files (a safe fix changes only the decay of the parameters its finding names).")
@click.option("--unsafe-fixes/--no-unsafe-fixes", default=False, help="Also apply and show unsafe fixes (the finding says what to check first).")
@click.option("--diff", is_flag=True, help="Print a unified diff of what --fix would change; write nothing (also with --fix, as in ruff).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings remain (usage errors still exit 2).")
@click.option("--force-exclude", is_flag=True, default=None, help="Apply exclude/extend-exclude to files named on the command line too (as pre-commit names them).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Read settings from this TOML file for every file (its globs relative to the working folder), instead of each file's nearest config.")
@click.option("--isolated", is_flag=True, help="Ignore every config file (pyproject.toml, optlint.toml): defaults and the command line only.")
@click.option("--add-noqa", is_flag=True, help="Add `# noqa: CODE` to every line with a finding (to adopt optlint on an existing codebase); writes the files.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only: no summary.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Worker processes (default: all cores).")
@click.option("--no-cache", is_flag=True, help="Check every file again: read and write no cached results.")
@click.option("--cache-dir", type=click.Path(file_okay=False), envvar="OPTLINT_CACHE_DIR", help="Where to keep cached results (default: .optlint_cache at the project root; env OPTLINT_CACHE_DIR).")
@click.option("--project-root", type=click.Path(file_okay=False, exists=True), default=None, help="The project's root folder, where imports of other modules are resolved (default: the nearest folder above each file with pyproject.toml, setup.cfg, setup.py or .git).")
@click.option("--no-prefilter", is_flag=True, hidden=True, help="Parse every file (for testing the pre-filter).")
@_VERSION_OPTION
def check(paths, select, ignore, extend_select, output_format, color, show_files, show_settings, output_file, show_source, statistics, stdin_filename, fix, unsafe_fixes, diff, exit_zero, force_exclude, config_path, isolated, add_noqa, quiet, jobs, no_cache, cache_dir, project_root, no_prefilter) -> None:
    """Check PATHS (files or folders; default: the current folder)."""
    from optlint.config import ConfigError, ConfigResolver, Selection, UsageError, split_codes
    from optlint.discovery import discover, force_excluded
    from optlint.output import SHOWS_EDITS, format_statistics, render, use_color
    from optlint.runner import check_files

    paths = list(paths) or ["."]
    if "-" in paths and paths != ["-"]:
        raise click.UsageError("`-` (standard input) must be the only path")
    if stdin_filename is not None and paths != ["-"]:
        raise click.UsageError("--stdin-filename names standard input: pass `-` as the only path")
    if add_noqa and (fix or diff or paths == ["-"]):
        raise click.UsageError("--add-noqa writes files: it cannot be combined with --fix, --diff or standard input")

    def configure(settings) -> None:
        settings.prefilter = not no_prefilter
        settings.fix, settings.diff = fix and not diff, diff
        settings.unsafe_fixes = unsafe_fixes
        if project_root is not None:
            settings.project_root = os.path.abspath(project_root)
        # Fix edits are rendered (through LibCST) only where something shows or applies them.
        settings.fix_edits = fix or diff or statistics or output_format in SHOWS_EDITS or output_format == "full"

    def warn(message: str) -> None:
        click.echo(f"optlint: warning: {message}", err=True)

    try:
        cli = Selection(
            split_codes(select, "--select") or None, split_codes(extend_select, "--extend-select"), split_codes(ignore, "--ignore")
        )
        resolver = ConfigResolver(config_path, isolated, cli, configure, warn)
        if paths == ["-"]:
            resolver.settings_for(stdin_filename or ".")
        else:
            for given in paths:
                resolver.settings_for(given)  # every config error before any file is read
    except UsageError as exc:
        raise click.UsageError(str(exc)) from None
    except ConfigError as exc:
        click.echo(f"optlint: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    if show_settings:
        first = (stdin_filename or ".") if paths == ["-"] else paths[0]
        click.echo(_settings_report(first, resolver.settings_for(first)), nl=False)
        return

    try:
        if paths == ["-"]:
            stdin_settings = resolver.settings_for(stdin_filename or ".")
            force = stdin_settings.force_exclude if force_exclude is None else force_exclude
        if paths == ["-"] and force and stdin_filename and force_excluded(stdin_filename, resolver):
            # as ruff does for editors: an excluded buffer is not checked, and --fix hands it back as is
            files, missing, results = [], [], []
            if fix and not diff:
                sys.stdout.buffer.write(sys.stdin.buffer.read())
                sys.stdout.flush()
        elif paths == ["-"]:
            files, missing = [], []
            results = [_check_stdin(stdin_filename or "-", stdin_settings)]
            if fix and not diff and results[0].fixed_output is not None:
                sys.stdout.buffer.write(results[0].fixed_output)  # ruff's convention: the fixed code
                sys.stdout.flush()
        else:
            found = discover(paths, resolver, force_exclude=force_exclude)
            files, missing = found.files, found.missing
            for problem in missing:
                click.echo(f"optlint: error: {problem}", err=True)
            if show_files:  # ruff's --show-files: what would be checked, sorted, nothing checked
                from optlint.output import readable_path

                click.echo("".join(f"{readable_path(os.path.abspath(p))}\n" for p in sorted(files)), nl=False)
                sys.exit(EXIT_ERROR if missing else EXIT_CLEAN)
            cache = None
            if not no_cache:
                from optlint.cache import ResultCache

                cache = ResultCache(cache_dir, warn)
            results = found.problems + check_files(files, resolver.settings_for, jobs, cache)
    except ConfigError as exc:  # a config met in a subfolder on the walk
        click.echo(f"optlint: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    for result in results:
        for message in result.warnings:
            warn(message)
    if add_noqa:
        from optlint.static.add_noqa import add_noqa_to_files

        added, problems = add_noqa_to_files(results)
        for problem in problems:
            click.echo(f"optlint: error: {problem}", err=True)
        click.echo(f"Added {added} noqa directive{'s' if added != 1 else ''}.", err=True)
        sys.exit(EXIT_ERROR if problems else EXIT_CLEAN)

    findings = sorted((f for r in results for f in r.findings), key=lambda f: f.sort_key())

    def settings_of(path: str):  # each finding's fix is judged by its own file's settings
        return stdin_settings if paths == ["-"] else resolver.settings_for(path)

    fixed = sum(r.fixed for r in results)
    stdin_fixed = paths == ["-"] and fix and not diff
    if diff:
        report = "".join(r.diff for r in sorted(results, key=lambda r: r.path) if r.diff)
        # A patch holds no findings: a file that could not be checked is named on stderr.
        for f in findings:
            if f.code == "OPT000":
                cell = f"cell {f.cell}:" if f.cell else ""
                click.echo(f"optlint: error: {f.path}:{cell}{f.location.row}:{f.location.column}: {f.message}", err=True)
    elif statistics:
        report = format_statistics(findings, output_format)
    else:
        wants_source = output_format == "full" or (show_source and output_format in ("text", "concise"))
        sources = _sources(findings) if wants_source else None
        colored = output_file is None and use_color(color, sys.stdout.isatty())
        report = render(output_format, findings, sources, colored, fixable=lambda f: settings_of(f.path).applies(f))
    from optlint.output import ReportError, write_report

    try:  # with --fix and standard input, stdout holds the fixed code: the report goes to stderr
        write_report(report, output_file, sys.stderr if stdin_fixed else sys.stdout)
    except ReportError as exc:
        click.echo(f"optlint: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)

    errors = sum(1 for r in results if r.error)
    summary = _summary(len(findings), errors, len(results), fixed, diff)
    if not diff:
        summary += _fixable_summary(findings, settings_of)
    if not quiet and not (missing and summary.startswith("All checks passed")):  # a path was missing
        click.echo(summary, err=True)

    if missing:
        sys.exit(EXIT_ERROR)  # a bad path is a usage error: --exit-zero does not hide it
    if exit_zero:
        sys.exit(EXIT_CLEAN)
    if errors:
        sys.exit(EXIT_ERROR)
    if diff:
        sys.exit(EXIT_FINDINGS if fixed else EXIT_CLEAN)
    sys.exit(EXIT_FINDINGS if findings else EXIT_CLEAN)


def _settings_report(path: str, settings) -> str:
    """``--show-settings``: where the settings of `path` come from and what they resolve to."""
    lines = [
        f"Resolved settings for: {os.path.abspath(path) if path != '-' else '-'}",
        f"Settings path: {settings.config_path if settings.config_path is not None else '(none: defaults)'}",
        "",
        f"root = {settings.root!r}",
        f"enabled = {sorted(settings.enabled)!r}",
        f"fixable = {sorted(settings.fixable)!r}",
        f"exclude = {[pattern for pattern, _ in settings.exclude]!r}",
        f"respect-gitignore = {settings.respect_gitignore!r}",
        f"force-exclude = {settings.force_exclude!r}",
        f"per-file-ignores = {[(pattern, sorted(codes)) for pattern, _, codes in settings.per_file_ignores]!r}",
        f"test-files = {[pattern for pattern, _ in settings.test_files]!r}",
        f"test-files-ignore = {sorted(settings.test_files_ignore)!r}",
        f"extra-optimizers = {sorted(settings.extra_optimizers)!r}",
        f"max-file-size = {settings.max_file_size!r}",
        f"project-root = {settings.project_root!r}",
    ]
    return "\n".join(lines) + "\n"


def _check_stdin(name: str, settings):
    """Check (and with --fix, fix) standard input as if it were the file `name`."""
    from optlint.static.apply_fixes import fix_file
    from optlint.static.linter import check_source

    from optlint.files import FileTooLarge, read_stream, source_limit
    from optlint.findings import FileResult
    from optlint.static.source import SourceError, error_finding

    limit = source_limit(name, settings.max_file_size)
    data, more = read_stream(sys.stdin.buffer, limit)
    if more:  # not checked; with --fix the input is still echoed (an editor keeps its buffer)
        result = error_finding(FileResult(name), SourceError(f"cannot read file: {FileTooLarge(None, limit)}"))
        if settings.fix and not settings.diff:
            result.fixed_output = data + sys.stdin.buffer.read()
        return result
    result = check_source(name, data, settings)
    if (settings.fix or settings.diff) and not result.error:
        settings.stdout_fix = True
        result = fix_file(name, name, data, result, settings)
        if result.fixed_output is None and not settings.diff:
            result.fixed_output = data  # nothing to fix: echo the input unchanged
    elif settings.fix:
        result.fixed_output = data
    return result


def _sources(findings) -> dict:
    """Source text per (path, cell), for --show-source."""
    from optlint.static.source import SourceError, decode

    out: dict = {}
    for f in findings:
        key = (f.path, f.cell)
        if key in out:
            continue
        try:
            with open(f.path, "rb") as handle:
                data = handle.read()
            if f.cell is not None:
                import json

                cell = json.loads(data.decode("utf-8-sig"))["cells"][f.cell - 1]
                source = cell.get("source", "")
                out[key] = "".join(source) if isinstance(source, list) else source
            else:
                out[key] = decode(data).text
        except (OSError, ValueError, KeyError, IndexError, SourceError):
            out[key] = None
    return out


def _fixable_summary(findings, settings_of) -> str:
    """ruff's second summary line: how many findings `--fix` would fix, and how many more
    `--unsafe-fixes` would (empty when there is nothing to say); `settings_of(path)` gives
    each file's settings."""
    fixable = hidden = 0
    for f in findings:
        settings = settings_of(f.path)
        if settings.applies(f):
            fixable += 1
        elif f.code in settings.fixable and f.applicability == "unsafe":
            hidden += 1
    hint = f" ({hidden} hidden fix{'es' if hidden != 1 else ''} can be enabled with the `--unsafe-fixes` option)" if hidden else ""
    if fixable:
        return f"\n[*] {fixable} fixable with the `--fix` option{hint}."
    return f"\nNo fixes available{hint}." if hidden else ""


def _summary(count: int, errors: int, checked: int, fixed: int = 0, diff: bool = False) -> str:
    files = f"{checked} file{'s' if checked != 1 else ''} checked"
    if diff:
        failed = f", {errors} could not be checked" if errors else ""
        return f"Would fix {fixed} finding{'s' if fixed != 1 else ''} ({files}{failed})."
    if fixed:
        return f"Fixed {fixed} finding{'s' if fixed != 1 else ''}, {count} remaining ({files})."
    if not count:
        return f"All checks passed ({files})."
    text = f"Found {count} finding{'s' if count != 1 else ''} ({files}"
    if errors:
        text += f", {errors} could not be checked"
    return text + ")."


@main.command()
@click.option("--cache-dir", type=click.Path(file_okay=False), envvar="OPTLINT_CACHE_DIR", help="Also remove this cache folder (env OPTLINT_CACHE_DIR).")
def clean(cache_dir) -> None:
    """Remove the cache folders (.optlint_cache) under the current folder, and the configured one."""
    from optlint.cache import clean as remove_caches
    from optlint.config import ConfigError, ConfigResolver

    try:
        configured = [d for d in [ConfigResolver().settings_for(".").cache_dir] if d]
    except ConfigError as exc:
        click.echo(f"optlint: warning: {exc}", err=True)
        configured = []
    for folder in remove_caches(".", cache_dir, configured):
        click.echo(f"Removing cache at: {folder}", err=True)


@main.command()
def server() -> None:
    """Run the language server for editors (LSP over standard input/output; needs optlint[lsp])."""
    from optlint.server import MISSING_EXTRA, start

    try:
        import lsprotocol  # noqa: F401
        import pygls  # noqa: F401
    except ImportError:
        click.echo(f"optlint: error: {MISSING_EXTRA}", err=True)
        sys.exit(EXIT_ERROR)
    start()


@main.command()
@click.option("--format", "output_format", type=click.Choice(["text", "markdown"]), default="text", show_default=True)
def rules(output_format: str) -> None:
    """List every rule: code, name, default, where it runs, fixable."""
    from optlint.registry import all_rules

    if output_format == "markdown":
        from optlint.docs import rules_markdown

        click.echo(rules_markdown(), nl=False)
        return

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
    from optlint.registry import all_rules

    rule = all_rules().get(code.upper())
    if rule is None:
        raise click.UsageError(f"unknown rule code {code!r}; `optlint rules` lists them")
    click.echo(rule.explain(), nl=False)
