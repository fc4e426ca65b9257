"""The build args of a compose file, read by a YAML parser, with where each value sits.

`docker compose build` and `docker buildx bake` (which reads compose.yaml too) pass a service's
`build.args` to its Dockerfile, where they override an ARG's default: a stale image there is a
stale pin. The file is read by PyYAML's composer, which keeps every node's place in the text and
resolves anchors and aliases to the node they name, so a value shared through an anchor is found,
checked and rewritten once, where it is written. Merge keys (`<<: *defaults`) are followed as
Compose follows them: keys written in the mapping win. An arg given by interpolation (`${...}`)
or as a bare name (taken from the environment) has no value wheelbase can know: it is reported as
such, so a caller can refuse it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

import yaml

NAMES = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml",
         "compose.override.yaml", "compose.override.yml", "docker-compose.override.yml", "docker-compose.override.yaml")


class Unsure(ValueError):
    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class BuildArg:
    service: str
    dockerfile: str  # the Dockerfile the service builds, relative to the compose file's folder
    name: str
    value: str | None  # None: interpolated, escaped, or taken from the environment
    start: int  # the value's span in the text (inside any quotes)
    end: int
    line: int
    node: int  # the YAML node's identity: an anchor's value shared by aliases is one node


def _mapping(node: yaml.Node | None) -> dict[str, yaml.Node]:
    """A mapping's keys and values, merge keys followed (explicit keys first, then each merged mapping's)."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    own: dict[str, yaml.Node] = {}
    merged: dict[str, yaml.Node] = {}
    for key, value in node.value:
        if key.tag == "tag:yaml.org,2002:merge" or key.value == "<<":
            for source in value.value if isinstance(value, yaml.SequenceNode) else [value]:
                for name, inner in _mapping(source).items():
                    merged.setdefault(name, inner)
        else:
            own[str(key.value)] = value
    return {**merged, **own}


def _scalar(text: str, node: yaml.ScalarNode) -> tuple[str | None, int, int]:
    """A scalar's value if the text says it as it is (plain, or quoted without escapes), and its span."""
    start, end = node.start_mark.index, node.end_mark.index
    if node.style in ("'", '"'):
        start, end = start + 1, end - 1
    raw = text[start:end]
    if node.style in ("|", ">") or raw != node.value or "$" in raw or "\n" in raw:
        return None, node.start_mark.index, node.end_mark.index
    return node.value, start, end


def build_args(text: str) -> list[BuildArg]:
    """Every service's build args that are written in the file, with the Dockerfile each service builds."""
    try:
        document = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise Unsure(f"it is not valid YAML ({getattr(exc, 'problem', None) or exc})", mark.line + 1 if mark else None) from exc
    found: list[BuildArg] = []
    for service, definition in _mapping(_mapping(document).get("services")).items():
        build = _mapping(definition).get("build")
        if build is None or isinstance(build, yaml.ScalarNode):
            continue
        settings = _mapping(build)
        context = settings.get("context")
        dockerfile = settings.get("dockerfile")
        where = str(PurePosixPath(context.value if isinstance(context, yaml.ScalarNode) else ".")
                    / (dockerfile.value if isinstance(dockerfile, yaml.ScalarNode) else "Dockerfile"))
        args = settings.get("args")
        if isinstance(args, yaml.MappingNode):
            for name, value in _mapping(args).items():
                if isinstance(value, yaml.ScalarNode) and value.tag != "tag:yaml.org,2002:null":
                    plain, start, end = _scalar(text, value)
                else:
                    plain, start, end = None, value.start_mark.index, value.end_mark.index
                found.append(BuildArg(service, where, name, plain, start, end, value.start_mark.line + 1, id(value)))
        elif isinstance(args, yaml.SequenceNode):
            for item in args.value:
                if not isinstance(item, yaml.ScalarNode):
                    continue
                name, equals, _ = item.value.partition("=")
                plain, start, end = _scalar(text, item)
                if equals and plain is not None:
                    offset = len(name) + 1
                    found.append(BuildArg(service, where, name, plain[offset:], start + offset, end, item.start_mark.line + 1,
                                          id(item)))
                else:
                    found.append(BuildArg(service, where, name, None, start, end, item.start_mark.line + 1, id(item)))
    return found
