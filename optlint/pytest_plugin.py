"""pytest plugin: ``pytest --optlint`` fails any test that steps a misconfigured optimizer.

Registered through the ``pytest11`` entry point. It imports torch only when --optlint is
given, so installing optlint costs other test runs nothing.
"""

from __future__ import annotations


def pytest_addoption(parser):
    group = parser.getgroup("optlint")
    group.addoption(
        "--optlint",
        action="store_true",
        default=False,
        help="check every optimizer at its first step() and fail the test on a finding",
    )


def pytest_configure(config):
    if not config.getoption("optlint", default=False):
        return
    from optlint.runtime import install

    handle = install(mode="raise")
    config.add_cleanup(handle.remove)
