"""`--add-noqa`: write `# noqa: CODE` on the line of each finding, as ruff's `--add-noqa` does
(https://docs.astral.sh/ruff/linter/#inserting-necessary-suppression-comments), to adopt
optlint on an existing codebase and fix the findings one by one later."""

from __future__ import annotations

from optlint.static.noqa import UNUSED_NOQA, rows_of, read


def add_noqa_text(text: str, rows_codes: dict[int, set[str]]) -> tuple[str, int, list[int]]:
    """`text` with `# noqa: CODE` written on each row (or the first row after it where a
    comment can stand); (new text, directives added or extended, rows where none could go)."""
    directives = read(text, rows_wanted=True)
    lines = rows_of(text)
    placed: dict[int, set[str]] = {}
    failed = []
    for row, codes in sorted(rows_codes.items()):
        target = next((r for r in range(row, len(lines) + 1) if r in directives.open_rows or r in directives.comment_rows), None)
        if target is None:
            failed.append(row)
            continue
        placed.setdefault(target, set()).update(codes)
    added = 0
    for row, codes in placed.items():
        line = lines[row - 1]
        body = line.rstrip("\r\n")
        ending = line[len(body):]
        directive = directives.lines.get(row)
        if directive is not None:
            if directive.codes is None or codes <= set(directive.codes):
                continue  # a blanket `# noqa`, or the codes are there already
            merged = list(directive.codes) + sorted(codes - set(directive.codes)) + directive.others
            body = body[: directive.start] + "# noqa: " + ", ".join(merged) + body[directive.end :]
        else:
            body = body.rstrip() + "  # noqa: " + ", ".join(sorted(codes))
        lines[row - 1] = body + ending
        added += 1
    return "".join(lines), added, failed


def add_noqa_to_files(results) -> tuple[int, list[str]]:
    """Write `# noqa` directives for every finding in `results` (OPT000 aside); (directives
    written, problems). Files are written as `--fix` writes them: atomically, through links,
    in their own encoding, newlines and mode."""
    from optlint.files import DEFAULT_MAX_FILE_SIZE, read_source
    from optlint.static.apply_fixes import compile_problem, write_fixed
    from optlint.static.source import SourceError, decode

    total, problems = 0, []
    for result in results:
        rows: dict[int, set[str]] = {}
        for finding in result.findings:
            if finding.code not in ("OPT000", UNUSED_NOQA) and finding.noqa_row:
                rows.setdefault(finding.noqa_row, set()).add(finding.code)
        if not rows:
            continue
        if result.path.endswith(".ipynb"):
            problems.append(f"{result.path}: --add-noqa does not edit notebooks; add `# noqa` in the cells")
            continue
        if result.path.endswith(".json"):
            problems.append(f"{result.path}: JSON has no comments; ignore its codes with `per-file-ignores`")
            continue
        if result.path.endswith((".yaml", ".yml")):
            problems.append(f"{result.path}: --add-noqa does not edit YAML files; end the reported line with `# noqa: OPT010`")
            continue
        try:
            data = read_source(result.path, max(DEFAULT_MAX_FILE_SIZE, len(result.path)))
            source = decode(data)
            text, added, failed = add_noqa_text(source.text, rows)
            for row in failed:
                problems.append(f"{result.path}:{row}: no line of the statement can take a comment; add the directive by hand")
            if not added:
                continue
            if compile_problem(text) is not None:
                problems.append(f"{result.path}: adding `# noqa` would break the file; nothing written")
                continue
            encoded = text.encode(source.encoding)
            write_fixed(result.path, data, encoded)
            total += added
        except (OSError, SourceError, UnicodeEncodeError) as exc:
            problems.append(f"{result.path}: {getattr(exc, 'strerror', None) or getattr(exc, 'message', None) or exc}")
    return total, problems
