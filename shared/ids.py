"""Ids are strings; a malformed one is simply not found (404), never a 500."""

from beanie import PydanticObjectId
from bson import ObjectId
from bson.errors import InvalidId

from shared.errors import NotFound


def parse_object_id(value: str, what: str = "resource") -> PydanticObjectId:
    try:
        return PydanticObjectId(ObjectId(value))
    except (InvalidId, TypeError):
        raise NotFound(what) from None
