"""One class per way to fail; each carries its exit code and one actionable sentence."""

from __future__ import annotations


class WheelbaseError(Exception):
    """Base class: the message is printed as `wheelbase: error: <message>`."""

    exit_code = 1


class UsageError(WheelbaseError):
    """Bad arguments or names given on the command line."""

    exit_code = 2


class RegistryError(WheelbaseError):
    """The registry did not answer, refused us, or has no such image or tag."""

    exit_code = 3


class PinError(WheelbaseError):
    """A Dockerfile has no pin, more than one, or cannot be parsed."""

    exit_code = 4


class StalePinError(WheelbaseError):
    """`pin --check` found a pin that is not the registry's current digest."""

    exit_code = 5


class EngineError(WheelbaseError):
    """The Docker engine or buildx failed or is missing; `output` keeps what it printed."""

    exit_code = 6

    def __init__(self, message: str, output: str = "", timed_out: bool = False) -> None:
        super().__init__(message)
        self.output = output
        self.timed_out = timed_out


class CompatibilityError(WheelbaseError):
    """A runtime or a dependency does not match the wheelhouse."""

    exit_code = 7


class FileError(WheelbaseError):
    """A file cannot be read or written as asked."""

    exit_code = 8


class AuditError(WheelbaseError):
    """A known vulnerability, or a package the audit could not check."""

    exit_code = 9
