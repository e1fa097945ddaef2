"""Names imported from other modules of the same project, followed to where they are defined.

An import binding's qualname (``utils.build_optimizer``, ``.optim.make``, ``config.WD``) is
handed to the project (``optlint.static.project``), which finds the in-project file the way
Python's import system would; that module's own analysis (its ``FileContext``, built once
per process) then answers for the name: the function or class a call reaches, the value a
constant holds, the list a name holds. ``__init__`` re-exports are followed a few steps.

Nothing here runs before a rule asks about an imported name: a file that uses no other
module never touches the project.
"""

from __future__ import annotations

from dataclasses import dataclass

from optlint.static.model.scopes import Binding, BindingKind

#: Re-exports (``from .optim import make`` in a package's ``__init__``) followed at most.
MAX_REEXPORTS = 6


@dataclass(frozen=True)
class Target:
    """What an imported dotted name stands for in another module of the project."""

    context: object  # the other module's FileContext
    binding: Binding | None  # its module-level binding of the name (None: the module itself)
    rest: str = ""  # the attributes after that name (always "": attributes are not followed)
    name: str = ""  # the name in that module
    #: whether one binding alone reaches the end of the module (not `try: import ... except:
    #: def ...`, nor an if/else that binds it twice): a function or list chosen among several is
    #: never assumed
    unique: bool = True

    @property
    def resolver(self):
        return self.context.resolver

    def where(self):
        """Where the binding's value is evaluated (or the end of the module)."""
        if self.binding is None:
            return self.resolver.at_end()
        return self.resolver.at_binding(self.binding)

    def place(self, node=None) -> str:
        """``utils/optim.py:42`` for messages: the binding's line (or `node`'s)."""
        line = getattr(node, "lineno", None)
        if line is None and self.binding is not None:
            statement = self.binding.statement or self.binding.node
            line = getattr(statement, "lineno", None)
        return place_of(self.context, line)


def place_of(context, line: int | None) -> str:
    """A position in another module as messages show it: root-relative path and line."""
    project = getattr(context, "project", None)
    shown = project.display(context.path) if project is not None and context.path else (context.path or "?")
    return f"{shown}:{line}" if line else shown


def resolve(context, qualname: str, text_test=None, depth: int = 0) -> Target | None:
    """The in-project definition of `qualname` as imported in `context`'s file, or None (a
    name from outside the project, a module that cannot be read, a name it does not bind).

    `text_test`, when given, must accept the defining module's text before it is parsed (a
    cheap pre-filter: a module that cannot build an optimizer is never analysed for one)."""
    project = getattr(context, "project", None)
    path = getattr(context, "path", None)
    if project is None or path is None or not qualname or qualname.startswith("<"):
        return None
    project.tweaks_from(path, context.text)
    found = project.resolve(path, qualname)
    if found is None:
        return None
    file, rest = found
    if "." in rest:
        return None  # an attribute of a module-level object (`Pipeline.from_pretrained`): not followed
    if text_test is not None and not file.endswith("__init__.py"):  # a package may re-export it
        text = project.read_text(file)
        if text is None or not text_test(text):
            return None
    other = project.context(file)
    if other is None:
        return None
    if not rest:
        return Target(other, None, "")
    head, _, tail = rest.partition(".")
    bindings = other.resolver.reaching(head, other.resolver.at_end())
    if not bindings:
        return None
    binding = bindings[0]
    if binding.kind is BindingKind.IMPORT and len(bindings) == 1:
        if depth >= MAX_REEXPORTS or binding.qualname is None:
            return None
        # a re-export (`from .optim import make` in `pkg/__init__.py`)
        return resolve(other, binding.qualname + (f".{tail}" if tail else ""), text_test, depth + 1)
    return Target(other, binding, tail, head, len(bindings) == 1 and other.resolver.complete)
