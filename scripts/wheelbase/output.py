"""Everything the CLI prints passes through here: text from outside (a registry's answer, a tool's
output, a file name) reaches the terminal as data, and no credential reaches it at all.

- `shown` escapes what a terminal would act on or cannot encode: control characters (an escape
  sequence, a carriage return, a newline inside one line) and undecodable bytes of a file name, as
  `\\x1b`, `\\udcff`; so a line stays one line and prints under a strict UTF-8 stdout.
- `redacted` hides credentials: the password of a URL's user info, token-like query parameters, and
  the value of any environment variable whose name says it is secret (..._TOKEN, ..._PASSWORD,
  ..._SECRET, ..._KEY, ...), plus the credentials of the index URLs pip's configuration names.
- `Console` writes lines to stdout and stderr; a stdout that is closed or full (a pipe whose reader
  left, /dev/full) stops stdout, not the command: its exit status keeps saying what it did.
"""

from __future__ import annotations

import configparser
import os
import re
import sys
from typing import TextIO

_SECRET_NAME = re.compile(r"(TOKEN|PASSWORD|PASSWD|SECRET|CREDENTIAL|APIKEY|API_KEY|ACCESS_KEY|PRIVATE_KEY|AUTH)", re.I)
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^/\s:@]*):(?P<password>[^/\s@]+)@")
_TOKEN_PARAMETER = re.compile(r"(?P<key>[?&](?:access_token|token|password|secret|sig|signature|X-Amz-Signature)=)[^&\s\"']+",
                              re.I)
_MIN_SECRET = 6  # shorter values would hide ordinary words


def shown(text: str) -> str:
    """The text with every character a terminal would act on or cannot print escaped."""
    out = []
    for char in text:
        code = ord(char)
        if char == "\t" or (char.isprintable() and not 0xDC80 <= code <= 0xDCFF):
            out.append(char)
        elif char in "\n\r":
            out.append("\\n" if char == "\n" else "\\r")
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        else:
            out.append(f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "".join(out)


def _pip_config_secrets() -> list[str]:
    """User info in the index URLs of the pip configuration PIP_CONFIG_FILE names."""
    path = os.environ.get("PIP_CONFIG_FILE")
    if not path:
        return []
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            parser.read_string(file.read(1 << 20))
    except (OSError, configparser.Error):
        return []
    values = [value for section in parser.sections() for _, value in parser.items(section)]
    return [match.group("password") for value in values for match in _USERINFO.finditer(value)]


def secrets() -> list[str]:
    """Values that must never be printed: secret-looking environment variables and pip's index credentials."""
    found = [value for name, value in os.environ.items() if _SECRET_NAME.search(name) and len(value) >= _MIN_SECRET]
    found += [m.group("password") for value in os.environ.values() for m in _USERINFO.finditer(value)]
    found += _pip_config_secrets()
    return sorted({value for value in found if len(value) >= _MIN_SECRET}, key=len, reverse=True)


def redacted(text: str, hidden: list[str] | None = None) -> str:
    text = _USERINFO.sub(lambda m: f"{m.group('scheme')}{m.group('user')}:***@", text)
    text = _TOKEN_PARAMETER.sub(lambda m: f"{m.group('key')}***", text)
    for value in secrets() if hidden is None else hidden:
        text = text.replace(value, "***")
    return text


class Console:
    """The command's two streams. Every line is redacted and escaped; a failing stdout is noted once."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.out, self.err = out or sys.stdout, err or sys.stderr
        self.hidden = secrets()
        self.stdout_failed: str | None = None

    def line(self, text: str) -> None:
        """One line on stdout, unless stdout has already failed."""
        if self.out is None:  # the command was started with its stdout closed
            self.stdout_failed = "it is closed"
        if self.stdout_failed or self.out is None:
            return
        try:
            self.out.write(shown(redacted(text, self.hidden)) + "\n")
            self.out.flush()
        except OSError as exc:
            self.stdout_failed = exc.strerror or str(exc)
            _silence(self.out)

    def error(self, text: str) -> None:
        """One line on stderr (if even that fails, there is no one left to tell)."""
        try:
            self.err.write(shown(redacted(text, self.hidden)) + "\n")
            self.err.flush()
        except (OSError, AttributeError):
            pass


def _silence(stream: TextIO) -> None:
    """Points a failed stream at /dev/null, so the interpreter's last flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
