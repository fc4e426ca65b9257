"""The ARGs and stages of a Dockerfile, read by BuildKit's own grammar, with where each ARG default sits.

The instructions come from e2b-dockerfile-utils, a port of BuildKit's Dockerfile parser (parser
directives with `# escape=`, a byte order mark, continuations across empty and comment lines, any
white space after the keyword, heredoc bodies, which are never instructions). What it does not
give, the character span of an ARG's default in the text, is found here: each instruction's joined
line is rebuilt from the file's own lines by BuildKit's continuation rule and must equal the
parser's, and its words must equal the parser's words, or the file is refused as one wheelbase
cannot be sure of. tests/e2e/test_parsers.py holds the result against a real BuildKit build.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from e2b_dockerfile_utils import DockerfileSyntaxError, ShellLex, parse_dockerfile_ast

BOM = "\ufeff"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEYWORD = re.compile(r"\S+[\t\v\f\r ]*")  # BuildKit splits the keyword off at this white space


class Unsure(ValueError):
    """The file is one wheelbase cannot be sure it reads as BuildKit does; `line` is 1-based."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Arg:
    """One `ARG name[=default]` word: where its default sits in the text, and whether it is global."""

    name: str
    value: str | None  # None: declared without a default
    start: int  # the default's span in the text (inside any quotes)
    end: int
    line: int
    is_global: bool
    literal: bool  # no quotes-within, escapes, variables or line break: the value is what the text says


@dataclass(frozen=True)
class Stage:
    image: str  # the FROM word as written, e.g. ${BASE_IMAGE}
    name: str | None  # lower-cased, as BuildKit treats stage names
    line: int


@dataclass(frozen=True)
class Dockerfile:
    args: tuple[Arg, ...]
    stages: tuple[Stage, ...]

    def global_args(self, name: str) -> list[Arg]:
        return [a for a in self.args if a.is_global and a.name == name]

    def stage_args(self, name: str) -> list[Arg]:
        return [a for a in self.args if not a.is_global and a.name == name]


def _lines(text: str, shift: int) -> tuple[list[str], list[int]]:
    """The text's lines as BuildKit splits them (on \\n only), each with the offset of its first character."""
    lines, offsets, at = [], [], shift
    for line in text[shift:].split("\n"):
        lines.append(line)
        offsets.append(at)
        at += len(line) + 1
    return lines, offsets


def _joined(lines: list[str], offsets: list[int], first: int, last: int, escape: str) -> tuple[str, list[int]]:
    """An instruction's line as BuildKit joins it from lines first..last (1-based), with each
    character's offset in the text: leading white space dropped on the first line only, comment and
    empty lines inside a continuation skipped, and each escape that ends a line taken out."""
    token = re.escape(escape)
    continued = re.compile(rf"([^{token}]){token}[ \t]*$|^{token}[ \t]*$")
    text, where = "", list[int]()
    for number in range(first, last + 1):
        body, base = lines[number - 1].rstrip("\r"), offsets[number - 1]
        lead = 0
        if number == first:
            lead = len(body) - len(body.lstrip(" \t\v\f\r"))
        elif not body.strip(" \t\v\f\r") or body.lstrip(" \t\v\f\r").startswith("#"):
            continue
        body = body[lead:]
        found = continued.search(body)
        if found:
            body = body[: found.start()] + (found.group(1) or "")
        text += body
        where.extend(range(base + lead, base + lead + len(body)))
    return text, where


def _words(rest: str, escape: str) -> list[tuple[int, int]]:
    """Spans of an instruction's words by BuildKit's parseWords: white space separates them outside quotes."""
    spans, i = [], 0
    while i < len(rest):
        if rest[i].isspace():
            i += 1
            continue
        start, quote = i, ""
        while i < len(rest) and (quote or not rest[i].isspace()):
            char = rest[i]
            if char == escape and quote != "'" and i + 1 < len(rest):
                i += 2
                continue
            if char == quote:
                quote = ""
            elif not quote and char in "\"'":
                quote = char
            i += 1
        spans.append((start, i))
    return spans


def _arg_words(text: str, lines: list[str], offsets: list[int], start_line: int, end_line: int, escape: str,
               original: str, parsed: list[str], is_global: bool) -> list[Arg]:
    joined, where = _joined(lines, offsets, start_line, end_line, escape)
    keyword = _KEYWORD.match(joined)
    rest_at = keyword.end() if keyword else len(joined)
    spans = _words(joined[rest_at:], escape)
    if joined != original or [joined[rest_at + a:rest_at + b] for a, b in spans] != parsed:
        raise Unsure("wheelbase reads this ARG instruction differently from BuildKit; write it on one line", start_line)
    lexer = ShellLex(escape)
    found = []
    for a, b in spans:
        word = joined[rest_at + a:rest_at + b]
        name, equals, raw = word.partition("=")
        if not _NAME.fullmatch(name):
            continue
        v_start, v_end = rest_at + a + len(name) + 1, rest_at + b
        if equals and len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
            raw, v_start, v_end = raw[1:-1], v_start + 1, v_end - 1
        at = [where[k] for k in range(v_start, v_end)]
        unbroken = all(later == earlier + 1 for earlier, later in itertools.pairwise(at))
        plain = not any(c in raw for c in "\"'$" + escape)
        # BuildKit's own reading of the word (its shell lexer): a plain value must be exactly the text.
        literal = unbroken and plain and lexer.process_word(raw) == raw
        if equals and at:
            file_start, file_end = at[0], at[-1] + 1
        else:  # no default, or an empty one: its place is right after the `=` (or between the quotes)
            file_start = file_end = where[v_start - 1] + 1 if v_start - 1 < len(where) else where[-1] + 1
        found.append(Arg(name, raw if equals else None, file_start, file_end, start_line, is_global, literal))
    return found


def parse(text: str) -> Dockerfile:
    """The ARGs and stages of a Dockerfile's text (a leading byte order mark is allowed); raises
    Unsure where BuildKit would refuse the file or wheelbase cannot map it back to the text."""
    shift = 1 if text.startswith(BOM) else 0
    try:
        ast = parse_dockerfile_ast(text)
    except DockerfileSyntaxError as exc:
        message = str(exc).split(": ", 1)[-1] if ": " in str(exc) else str(exc)
        raise Unsure(f"BuildKit would not parse it ({message})", exc.line) from exc
    lines, offsets = _lines(text, shift)
    args: list[Arg] = []
    stages: list[Stage] = []
    for instruction in ast.instructions:
        if instruction.name == "FROM":
            words = instruction.args
            name = words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else None
            stages.append(Stage(words[0] if words else "", name, instruction.start_line))
        elif instruction.name == "ARG":
            args += _arg_words(text, lines, offsets, instruction.start_line, instruction.end_line, ast.escape_token,
                               instruction.original, instruction.args, is_global=not stages)
    return Dockerfile(tuple(args), tuple(stages))
