"""``optlint server``: a Language Server for editors (needs the ``lsp`` extra: pygls).

A thin layer over the linter the command line calls (``optlint.document``): diagnostics on
open, change and save, quick fixes by safety level, a ``source.fixAll.optlint`` action, and
a hover that links each finding to its rule page. Importing this package does not import
pygls; ``start()`` does.
"""

from __future__ import annotations

MISSING_EXTRA = (
    "optlint server needs the language-server extra: python -m pip install \"optlint[lsp]\" "
    "(pygls and lsprotocol)"
)


def start() -> None:
    """Serve LSP over standard input and output until the client says exit."""
    from optlint.server.lsp import build_server

    build_server().start_io()
