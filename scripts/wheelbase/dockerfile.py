"""The global ARGs of a Dockerfile, read by BuildKit's rules, with where each default sits.

BuildKit strips a UTF-8 byte order mark, honours the `# escape=` directive, joins continued
lines, skips comment lines (also inside a continuation), matches instruction keywords in any
case but ARG names exactly, splits one ARG into several `name[=default]` words, removes quotes
around a default, and lets only ARGs declared before the first FROM be used in FROM lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BOM = "\ufeff"
_DIRECTIVE = re.compile(r"^#[ \t]*([A-Za-z]+)[ \t]*=[ \t]*(\S*)[ \t]*$")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Arg:
    """One `ARG name[=default]` word: where its default sits in the text, and whether it is global."""

    name: str
    value: str | None  # None: declared without a default
    start: int  # the default's span in the text (inside any quotes)
    end: int
    line: int
    is_global: bool
    literal: bool  # no quotes-within, escapes or variables: the value is what the text says


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


@dataclass(frozen=True)
class _Instruction:
    keyword: str
    text: str  # the arguments, continuation lines joined
    offsets: tuple[int, ...]  # for each character of text, its offset in the file's text
    line: int


def _escape_char(lines: list[str]) -> str:
    """The `# escape=` parser directive, read from the leading comment lines as BuildKit does."""
    for line in lines:
        found = _DIRECTIVE.match(line.strip())
        if not found:
            break
        if found.group(1).lower() == "escape" and found.group(2) in ("\\", "`"):
            return found.group(2)
    return "\\"


def _instructions(text: str) -> list[_Instruction]:
    lines = text.split("\n")
    escape = _escape_char(lines)
    found: list[_Instruction] = []
    offset = 0
    current: list[tuple[str, int]] = []  # (segment, file offset of its first character)
    first_line = 0
    for number, line in enumerate(lines, start=1):
        start = offset
        offset += len(line) + 1
        stripped = line.strip()
        if not current and not stripped:
            continue
        if stripped.startswith("#"):
            continue  # a comment line, even inside a continued instruction
        if not current:
            first_line = number
        body = line.rstrip()
        continued = body.endswith(escape)
        if continued:
            body = body[:-1]
        lead = len(body) - len(body.lstrip())
        current.append((body[lead:], start + lead))
        if continued:
            continue
        found.append(_join(current, first_line))
        current = []
    if current:
        found.append(_join(current, first_line))
    return found


def _join(segments: list[tuple[str, int]], line: int) -> _Instruction:
    text, offsets = "", []
    for i, (segment, start) in enumerate(segments):
        if i:
            text += " "
            offsets.append(start - 1)
        text += segment
        offsets.extend(range(start, start + len(segment)))
    keyword, _, rest = text.partition(" ")
    skip = len(keyword) + (1 if rest or text[len(keyword):len(keyword) + 1] else 0)
    while skip < len(text) and text[skip] in " \t":
        skip += 1
    return _Instruction(keyword.upper(), text[skip:], tuple(offsets[skip:]), line)


def _words(text: str) -> list[tuple[int, int]]:
    """Spans of the white-space separated words of an instruction, quotes kept together."""
    spans, i = [], 0
    while i < len(text):
        if text[i] in " \t":
            i += 1
            continue
        start, quote = i, ""
        while i < len(text) and (quote or text[i] not in " \t"):
            if quote and text[i] == "\\" and quote == '"' and i + 1 < len(text):
                i += 2
                continue
            if text[i] == quote:
                quote = ""
            elif not quote and text[i] in "\"'":
                quote = text[i]
            i += 1
        spans.append((start, i))
    return spans


def parse(text: str) -> Dockerfile:
    """The ARGs and stages of a Dockerfile's text (a leading byte order mark is allowed)."""
    shift = 1 if text.startswith(BOM) else 0
    args: list[Arg] = []
    stages: list[Stage] = []
    for instruction in _instructions(text[shift:]):
        words = [(instruction.text[a:b], a, b) for a, b in _words(instruction.text)]
        if instruction.keyword == "FROM":
            plain = [w for w, _, _ in words if not w.startswith("--")]
            name = plain[2].lower() if len(plain) >= 3 and plain[1].upper() == "AS" else None
            stages.append(Stage(plain[0] if plain else "", name, instruction.line))
        elif instruction.keyword == "ARG":
            for word, a, b in words:
                name, equals, value = word.partition("=")
                if not _NAME.fullmatch(name):
                    continue
                v_start = a + len(name) + 1
                if equals and len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                    value, v_start = value[1:-1], v_start + 1
                literal = not any(c in value for c in "\"'\\$")
                # An empty default still has a place: between its quotes, or right after the `=`.
                at = instruction.offsets[v_start] if v_start < b else instruction.offsets[b - 1] + 1
                file_start = at + shift
                args.append(Arg(name, value if equals else None, file_start, file_start + len(value) if equals else file_start,
                                instruction.line, is_global=not stages, literal=literal))
    return Dockerfile(tuple(args), tuple(stages))
