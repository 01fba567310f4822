"""Typed errors that commands raise and mutations report to the caller."""

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

    def raise_if_any(self) -> None:
        """Abandons the command, and the transaction it runs in, when anything was found."""
        if self.items:
            raise ValidationFailed(self.items)


class Refused(Exception):
    """A question a rule turns down (a query's argument out of bounds); the message is for the
    client. Commands refuse with ValidationFailed instead."""


class ValidationFailed(Exception):
    """How every command refuses: raised inside it to abandon its transaction, turned into the
    payload's user errors by the API. Paths name input fields in snake_case."""

    def __init__(self, errors: Sequence[UserError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = list(errors)

    @classmethod
    def one(cls, path: Sequence[str | int], code: ErrorCode, message: str) -> "ValidationFailed":
        errors = Errors()
        errors.add(path, code, message)
        return cls(errors.items)
