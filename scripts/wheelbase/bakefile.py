"""The variable defaults of a bake file, read as bake reads them, with where each sits.

HCL (docker-bake.hcl) is parsed by python-hcl2, HCL's grammar for Python: comments of every kind,
heredocs, bare and quoted block labels, `null`, interpolation. A variable is a top-level
`variable "NAME" { default = ... }` block or, as bake also reads it, a top-level attribute
`NAME = ...`. JSON (docker-bake.json) is read by the json module's own scanner, which also gives
each string's place. Only a plain string (no `${...}`, no escape) is a value wheelbase can pin;
any other default is reported as one, so a caller can refuse it. tests/e2e/test_parsers.py holds
the result against `docker buildx bake --print` on the same files.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from json.decoder import scanstring  # type: ignore[attr-defined]  # the json module's own string scanner

import hcl2
from lark import Token, Tree
from lark.exceptions import LarkError

BOM = "\ufeff"


class Unsure(ValueError):
    """A bake file wheelbase cannot read as bake does; `line` is 1-based when known."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Variable:
    name: str
    value: str | None  # None: the default is not a plain string (null, interpolation, heredoc, expression)
    kind: str  # "string", "null", "none" (no default) or what else it is
    start: int  # the default's span in the text (inside the quotes for a string)
    end: int
    line: int


def _line(text: str, at: int) -> int:
    return text.count("\n", 0, at) + 1


def _label(node: Tree[Token] | Token) -> str | None:
    """A block label or attribute name: a bare identifier, or a quoted string without interpolation."""
    if isinstance(node, Tree) and node.data == "identifier":
        return str(node.children[0])
    if isinstance(node, Tree) and node.data == "string":
        parts = [c for c in node.children if isinstance(c, Tree)]
        if all(isinstance(p.children[0], Token) and p.children[0].type == "STRING_CHARS" for p in parts):
            return "".join(str(p.children[0]) for p in parts)
    return None


def _value(text: str, name: str, expression: Tree[Token], shift: int) -> Variable:
    node = expression.children[0] if expression.data == "expr_term" and len(expression.children) == 1 else expression
    line = _line(text, expression.meta.start_pos + shift)
    if isinstance(node, Tree) and node.data == "string":
        quotes = [c for c in node.children if isinstance(c, Token) and c.type == "DBLQUOTE"]
        parts = [c for c in node.children if isinstance(c, Tree)]
        start, end = int(quotes[0].end_pos or 0) + shift, int(quotes[-1].start_pos or 0) + shift
        plain = all(isinstance(p.children[0], Token) and p.children[0].type == "STRING_CHARS" for p in parts)
        raw = text[start:end]
        if plain and "\\" not in raw and "${" not in raw and "%{" not in raw:
            return Variable(name, raw, "string", start, end, line)
        return Variable(name, None, "an interpolated or escaped string", start, end, line)
    if isinstance(node, Tree) and node.data == "literal_value" and str(node.children[0]) == "null":
        return Variable(name, None, "null", expression.meta.start_pos + shift, expression.meta.end_pos + shift, line)
    what = "a heredoc" if isinstance(node, Tree) and "heredoc" in node.data else "an expression"
    return Variable(name, None, what, expression.meta.start_pos + shift, expression.meta.end_pos + shift, line)


def hcl_variables(text: str) -> dict[str, list[Variable]]:
    """Every top-level variable block's default and every top-level attribute, by name."""
    shift = 1 if text.startswith(BOM) else 0
    try:
        tree = hcl2.parses_to_tree(text[shift:])
    except LarkError as exc:
        line = getattr(exc, "line", None)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise Unsure(f"the HCL parser cannot read it ({first[:160]})", line if isinstance(line, int) else None) from exc
    found: dict[str, list[Variable]] = {}
    body = tree.children[0]
    for item in body.children:
        if not isinstance(item, Tree):
            continue
        if item.data == "attribute":
            name = _label(item.children[0])
            if name:
                found.setdefault(name, []).append(_value(text, name, item.children[-1], shift))
        elif item.data == "block":
            heads = [c for c in item.children if isinstance(c, Tree) and c.data in ("identifier", "string")]
            if not heads or _label(heads[0]) != "variable":
                continue
            if len(heads) != 2 or _label(heads[1]) is None:
                raise Unsure("a variable block without exactly one plain label", _line(text, item.meta.start_pos + shift))
            name = str(_label(heads[1]))
            inner = next(c for c in item.children if isinstance(c, Tree) and c.data == "body")
            defaults = [a for a in inner.children if isinstance(a, Tree) and a.data == "attribute"
                        and _label(a.children[0]) == "default"]
            if defaults:
                found.setdefault(name, []).append(_value(text, name, defaults[-1].children[-1], shift))
            else:
                at = item.meta.start_pos + shift
                found.setdefault(name, []).append(Variable(name, None, "none", at, at, _line(text, at)))
    return found


def _json_strings(text: str) -> dict[tuple[str, ...], tuple[str, int, int]]:
    """Every string value in a JSON document by its key path, with its span inside the quotes;
    parsed by the json module's scanner (strings) and decoder (everything else)."""
    decoder = json.JSONDecoder()
    found: dict[tuple[str, ...], tuple[str, int, int]] = {}
    space = re.compile(r"[ \t\n\r]*")

    def skip(at: int) -> int:
        return space.match(text, at).end()  # type: ignore[union-attr]

    def walk(at: int, path: tuple[str, ...]) -> int:
        at = skip(at)
        char = text[at:at + 1]
        if char == "{":
            at = skip(at + 1)
            if text[at:at + 1] == "}":
                return at + 1
            while True:
                key, at = scanstring(text, skip(at) + 1)
                at = skip(at)
                if text[at:at + 1] != ":":
                    raise ValueError(f"expected ':' at {at}")
                at = skip(walk(at + 1, (*path, key)))
                if text[at:at + 1] == "}":
                    return at + 1
                if text[at:at + 1] != ",":
                    raise ValueError(f"expected ',' or '}}' at {at}")
                at += 1
        if char == "[":
            at, index = skip(at + 1), 0
            if text[at:at + 1] == "]":
                return at + 1
            while True:
                at = skip(walk(at, (*path, str(index))))
                index += 1
                if text[at:at + 1] == "]":
                    return at + 1
                if text[at:at + 1] != ",":
                    raise ValueError(f"expected ',' or ']' at {at}")
                at += 1
        if char == '"':
            value, end = scanstring(text, at + 1)
            found[path] = (str(value), at + 1, int(end) - 1)
            return int(end)
        _, end = decoder.raw_decode(text, at)
        return int(end)

    walk(0, ())
    return found


def json_variables(text: str) -> dict[str, list[Variable]]:
    """The defaults of a JSON bake file's `variable` object, by name."""
    shift = 1 if text.startswith(BOM) else 0
    try:
        document = json.loads(text[shift:])
        strings = _json_strings(text[shift:])
    except ValueError as exc:
        raise Unsure(f"it is not valid JSON ({exc})", getattr(exc, "lineno", None)) from exc
    variables = document.get("variable") if isinstance(document, dict) else None
    found: dict[str, list[Variable]] = {}
    for name, block in (variables or {}).items() if isinstance(variables, dict) else ():
        default = block.get("default") if isinstance(block, dict) else None
        if isinstance(default, str):
            value, start, end = strings[("variable", name, "default")]
            raw = text[start + shift:end + shift]
            plain = raw == value and "${" not in value
            found[name] = [Variable(name, value if plain else None, "string" if plain else "an interpolated or escaped string",
                                    start + shift, end + shift, _line(text, start + shift))]
        else:
            kind = "none" if not isinstance(block, dict) or "default" not in block else (
                "null" if default is None else "an expression")
            found[name] = [Variable(name, None, kind, 0, 0, 0)]
    return found


def variables(text: str, *, json_file: bool = False) -> dict[str, list[Variable]]:
    return json_variables(text) if json_file else hcl_variables(text)
