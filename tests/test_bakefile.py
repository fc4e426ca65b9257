"""The bake-file reader finds a variable's default the way bake does, comments and other attributes around it."""

from wheelbase.bakefile import variables

PIN = "localhost:5000/w/wheelhouse:py3.13-debian@sha256:" + "1" * 64


def test_a_comment_before_default_does_not_hide_it() -> None:
    text = f'variable "BASE_IMAGE" {{\n  # the wheelhouse\n  // pinned by wheelbase\n  /* and Renovate */\n  default = "{PIN}"\n}}\n'
    (found,) = variables(text)["BASE_IMAGE"]
    assert found.value == PIN and text[found.start:found.end] == PIN and found.line == 5


def test_other_attributes_and_one_line_blocks() -> None:
    text = f'variable "X" {{ description = "default = \\"no\\"" }}\nvariable "BASE_IMAGE" {{ description = "d"\n default = "{PIN}" }}\n'
    assert variables(text)["BASE_IMAGE"][0].value == PIN
    assert variables(text)["X"][0].value is None


def test_interpolation_is_not_a_plain_default() -> None:
    found = variables('variable "BASE_IMAGE" {\n  default = "${REGISTRY}/w:t"\n}\n')["BASE_IMAGE"][0]
    assert found.value is None and found.line == 2


def test_variables_inside_targets_are_not_variables() -> None:
    assert variables('target "t" {\n  args = { BASE_IMAGE = "x" }\n}\n') == {}
