"""Global ids as GraphQL IDs. A wrong type decodes to None, like an unknown id."""

from collections.abc import Sequence

import strawberry

from domain.global_ids import decode_global_id, encode_global_id


def to_global_id(type_name: str, pk: int) -> strawberry.ID:
    return strawberry.ID(encode_global_id(type_name, pk))


def from_global_id(global_id: str, type_name: str) -> int | None:
    return decode_global_id(global_id, type_name)


def from_global_ids(global_ids: Sequence[str], type_name: str) -> list[int | None]:
    return [decode_global_id(gid, type_name) for gid in global_ids]
