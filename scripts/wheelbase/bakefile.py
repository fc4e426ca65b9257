"""The `variable` defaults of a bake file (HCL), read as bake reads them, with where each sits.

A variable block may hold comments (`#`, `//`, `/* */`) and other attributes around its
`default`; only a plain string default (no `${...}` interpolation) can be pinned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""(?P<comment>\#[^\n]*|//[^\n]*|/\*.*?\*/)
      |(?P<string>"(?:[^"\\\n]|\\.)*")
      |(?P<ident>[A-Za-z_][A-Za-z0-9_-]*)
      |(?P<open>\{)|(?P<close>\})|(?P<equals>=)
      |(?P<space>\s+)
      |(?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Variable:
    name: str
    value: str | None  # None: no plain string default
    start: int  # the default's span, inside its quotes
    end: int
    line: int


def variables(text: str) -> dict[str, list[Variable]]:
    """Every top-level `variable "NAME" { default = "..." }`, by name."""
    tokens = [(m.lastgroup or "", m.group(), m.start()) for m in _TOKEN.finditer(text)
              if m.lastgroup not in ("comment", "space")]
    found: dict[str, list[Variable]] = {}
    depth, i = 0, 0
    while i < len(tokens):
        kind, value, at = tokens[i]
        if depth == 0 and kind == "ident" and value == "variable" and i + 2 < len(tokens) \
                and tokens[i + 1][0] == "string" and tokens[i + 2][0] == "open":
            name = tokens[i + 1][1][1:-1]
            i += 3
            default: Variable | None = None
            inner = 1
            while i < len(tokens) and inner:
                kind, value, at = tokens[i]
                inner += kind == "open"
                inner -= kind == "close"
                if inner == 1 and kind == "ident" and value == "default" and i + 1 < len(tokens) and tokens[i + 1][0] == "equals":
                    line = text.count("\n", 0, at) + 1
                    if i + 2 < len(tokens) and tokens[i + 2][0] == "string" and "${" not in tokens[i + 2][1] \
                            and "\\" not in tokens[i + 2][1]:
                        literal, start = tokens[i + 2][1], tokens[i + 2][2]
                        default = Variable(name, literal[1:-1], start + 1, start + len(literal) - 1, line)
                    else:
                        default = Variable(name, None, at, at, line)
                i += 1
            found.setdefault(name, []).append(default or Variable(name, None, 0, 0, 0))
            continue
        depth += (kind == "open") - (kind == "close")
        i += 1
    return found
