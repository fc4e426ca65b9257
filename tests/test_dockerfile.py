"""The ARG reader follows BuildKit's rules (frontend/dockerfile/parser and instructions)."""

from wheelbase.dockerfile import parse

PIN = "localhost:5000/w/wheelhouse:py3.13-debian@sha256:" + "1" * 64


def value_at(text: str, name: str) -> str:
    (arg,) = [a for a in parse(text).args if a.name == name]
    return text[arg.start:arg.end]


def test_a_byte_order_mark_is_ignored_and_positions_stay_right() -> None:
    text = f"\ufeffARG BASE_IMAGE={PIN}\nFROM ${{BASE_IMAGE}} AS wheelhouse\n"
    assert value_at(text, "BASE_IMAGE") == PIN


def test_arg_names_are_case_sensitive_keywords_are_not() -> None:
    parsed = parse(f"arg base_image=x:1\nArg BASE_IMAGE={PIN}\nFROM ${{BASE_IMAGE}} AS wheelhouse\n")
    assert [a.name for a in parsed.args] == ["base_image", "BASE_IMAGE"]
    assert [a.value for a in parsed.global_args("BASE_IMAGE")] == [PIN]


def test_quoted_defaults_lose_their_quotes_and_keep_their_place() -> None:
    text = f'ARG BASE_IMAGE="{PIN}"\nARG PYTHON_IMAGE=\'python:3.13\'\nFROM scratch\n'
    assert value_at(text, "BASE_IMAGE") == PIN
    assert value_at(text, "PYTHON_IMAGE") == "python:3.13"


def test_several_args_on_one_line() -> None:
    text = f"ARG PYTHON_IMAGE=python:3.13 BASE_IMAGE={PIN} OTHER\nFROM scratch\n"
    assert value_at(text, "BASE_IMAGE") == PIN
    assert [a.name for a in parse(text).args] == ["PYTHON_IMAGE", "BASE_IMAGE", "OTHER"]


def test_continuations_and_comments_inside_them() -> None:
    text = f"ARG PYTHON_IMAGE=python:3.13 \\\n# a comment line inside the instruction\n    BASE_IMAGE={PIN}\nFROM scratch\n"
    assert value_at(text, "BASE_IMAGE") == PIN


def test_the_escape_directive_changes_the_continuation_character() -> None:
    text = f"# escape=`\nARG PYTHON_IMAGE=python:3.13 `\n    BASE_IMAGE={PIN}\nFROM scratch\n"
    assert value_at(text, "BASE_IMAGE") == PIN


def test_args_after_the_first_from_belong_to_their_stage() -> None:
    parsed = parse(f"FROM scratch AS first\nARG BASE_IMAGE={PIN}\n")
    assert parsed.global_args("BASE_IMAGE") == []
    assert [a.value for a in parsed.stage_args("BASE_IMAGE")] == [PIN]


def test_an_empty_default_has_a_place() -> None:
    text = 'ARG BASE_IMAGE=""\nARG RUNTIME_IMAGE=\nFROM scratch\n'
    args = {a.name: a for a in parse(text).args}
    assert text[args["BASE_IMAGE"].start - 1:args["BASE_IMAGE"].start + 1] == '""'
    assert text[args["RUNTIME_IMAGE"].start - 1] == "="


def test_stages_keep_their_image_word_and_lower_cased_name() -> None:
    parsed = parse("ARG B=x\nFROM --platform=$BUILDPLATFORM ${B} AS WheelHouse\nFROM python\n")
    assert [(s.image, s.name) for s in parsed.stages] == [("${B}", "wheelhouse"), ("python", None)]


def test_variables_in_a_default_are_not_literal() -> None:
    (arg,) = parse("ARG BASE_IMAGE=${REGISTRY}/w:t\nFROM scratch\n").args
    assert not arg.literal
