"""What the CLI prints: outside text reaches the terminal as data, and no credential at all."""

from __future__ import annotations

import io

import pytest

from wheelbase.output import Console, redacted, shown


def test_control_characters_and_undecodable_bytes_are_escaped() -> None:
    assert shown("a\x1b[31mred\rline\nnext\x07") == "a\\x1b[31mred\\rline\\nnext\\x07"
    assert shown("caf\udce9") == "caf\\udce9"  # a file name's byte that is not UTF-8 (surrogateescape)
    assert shown("café\tok") == "café\tok"


@pytest.mark.parametrize(("text", "expected"), [
    ("https://user:pa55word@example.com/repo", "https://user:***@example.com/repo"),
    ("git+ssh://git:t0ken1234@host/x", "git+ssh://git:***@host/x"),
    ("GET https://r.example/token?scope=x&access_token=abcdef123", "GET https://r.example/token?scope=x&access_token=***"),
])
def test_credentials_in_urls_are_hidden(text: str, expected: str) -> None:
    assert redacted(text, []) == expected


def test_secret_environment_values_are_hidden(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_0123456789")
    config = tmp_path / "pip.conf"
    config.write_text("[global]\nindex-url = https://me:idx-pass-42@pypi.example/simple\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(config))
    assert redacted("token ghp_0123456789 and idx-pass-42 here") == "token *** and *** here"


def test_a_failing_stdout_is_noted_once_and_stderr_still_speaks() -> None:
    class Full(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(28, "No space left on device")

    err = io.StringIO()
    console = Console(Full(), err)
    console.line("pinned: a")
    console.line("pinned: b")
    console.error("wheelbase: error: x\x1b")
    assert console.stdout_failed == "No space left on device"
    assert err.getvalue() == "wheelbase: error: x\\x1b\n"
