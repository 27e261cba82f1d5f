from __future__ import annotations

from beanie import PydanticObjectId
from bson import ObjectId
from bson.errors import InvalidId

from madhur_gql.errors import BadUserInput


def parse_object_id(value: str, *, field: str = "id") -> PydanticObjectId:
    try:
        return PydanticObjectId(ObjectId(value))
    except (InvalidId, TypeError) as exc:
        raise BadUserInput(f"'{value}' is not a valid id.", field=field) from exc
