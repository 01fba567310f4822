"""Typed errors that mutations report to the caller instead of raising."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    IMMUTABLE = "IMMUTABLE"
    DUPLICATE = "DUPLICATE"
    TOO_MANY = "TOO_MANY"


Path = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UserError:
    field: Path
    code: ErrorCode
    message: str


@dataclass
class Errors:
    """Collects every problem of an input before anything is written."""

    items: list[UserError] = field(default_factory=list)

    def add(self, path: Sequence[str | int], code: ErrorCode, message: str) -> None:
        self.items.append(UserError(tuple(str(p) for p in path), code, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)


class ValidationFailed(Exception):
    """Raised inside a service to abandon its transaction; the API returns ``errors``."""

    def __init__(self, errors: Sequence[UserError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = list(errors)
