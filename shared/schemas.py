"""Contracts shared by every API: strict input models and the paginated page."""

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, ConfigDict

T = TypeVar("T")

MAX_PAGE_SIZE = 100


class StrictModel(BaseModel):
    """Request bodies: unknown fields are an error, strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def refuse_null(value: Any) -> Any:
    """For PATCH bodies: a field left out keeps its value, but an explicit null is an error naming the field.
    Use as `_no_null = field_validator("a", "b", mode="before")(refuse_null)`."""
    if value is None:
        raise ValueError("may not be null; leave the field out to keep it")
    return value


class PublicModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class PageParams(BaseModel):
    limit: int
    offset: int


def _page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="page size")] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


Pagination = Annotated[PageParams, Depends(_page_params)]
