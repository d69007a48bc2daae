"""HTTP routes: parse → call the service → return the schema. Identity only from the verified token."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from expense_service.models import TransactionType
from expense_service.schemas import (
    CategoryCreate,
    CategoryPage,
    CategoryPublic,
    CategoryUpdate,
    ImportReport,
    TransactionCreate,
    TransactionFilters,
    TransactionPage,
    TransactionPublic,
    TransactionUpdate,
)
from expense_service.service_categories import (
    create_category,
    delete_category,
    get_category,
    list_categories,
    rename_category,
)
from expense_service.service_csv import export_csv, export_filename
from expense_service.service_import import import_csv
from expense_service.service_queries import list_transactions
from expense_service.service_transactions import (
    create_transaction,
    delete_transaction,
    get_transaction,
    update_transaction,
)
from shared.auth import CurrentUser
from shared.errors import Problem
from shared.idempotency import IdempotencyKey, mark_replayed
from shared.runtime import Runtime
from shared.schemas import Pagination


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
Filters = Annotated[TransactionFilters, Query()]
CSV_TYPES = ("text/csv", "application/csv", "text/plain", "application/vnd.ms-excel")

expenses = APIRouter(prefix="/api/expenses", tags=["expenses"])
categories = APIRouter(prefix="/api/categories", tags=["categories"])


@expenses.post("", status_code=status.HTTP_201_CREATED, response_model=TransactionPublic)
async def create(body: TransactionCreate, user: CurrentUser, runtime: RuntimeDep, response: Response,
                 idempotency_key: IdempotencyKey = None) -> TransactionPublic:
    created, replayed = await create_transaction(runtime=runtime, user_id=user.id, data=body,
                                                 idempotency_key=idempotency_key)
    mark_replayed(response, replayed)
    response.headers["Location"] = f"/api/expenses/{created.id}"
    return created


@expenses.get("", response_model=TransactionPage)
async def list_(user: CurrentUser, runtime: RuntimeDep, filters: Filters, page: Pagination) -> TransactionPage:
    return await list_transactions(runtime=runtime, user_id=user.id, filters=filters, page=page)


@expenses.get("/export.csv", response_class=StreamingResponse,
              responses={200: {"content": {"text/csv": {}}, "description": "the filtered transactions as CSV"}})
async def export(user: CurrentUser, runtime: RuntimeDep, filters: Filters) -> StreamingResponse:
    chunks = await export_csv(runtime=runtime, user_id=user.id, filters=filters)
    return StreamingResponse(chunks, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{export_filename(date.today())}"',
        "Cache-Control": "no-store"})


@expenses.post("/import", response_model=ImportReport, openapi_extra={"requestBody": {"content": {
    "text/csv": {"schema": {"type": "string"}},
    "multipart/form-data": {"schema": {"type": "object", "properties": {"file": {"type": "string",
                                                                               "format": "binary"}}}}}}})
async def import_(request: Request, user: CurrentUser, runtime: RuntimeDep,
                  dry_run: Annotated[bool, Query(description="validate and report, import nothing")] = False,
                  ) -> ImportReport:
    """A CSV file (multipart field `file`, or the body as text/csv). All rows valid or nothing is imported;
    errors name the row (header = row 1) and the field. Rows imported before are skipped."""
    content = await _csv_content(request)
    return await import_csv(runtime=runtime, user_id=user.id, content=content, dry_run=dry_run)


async def _csv_content(request: Request) -> bytes:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        async with request.form(max_files=1, max_fields=5) as form:
            upload = form.get("file")
            if upload is None:
                raise Problem(422, "the multipart body needs a `file` field",
                              errors=[{"field": "file", "message": "required"}])
            return upload.encode() if isinstance(upload, str) else await upload.read()
    if content_type in CSV_TYPES:
        return await request.body()
    raise Problem(415, "send the CSV as text/csv or as multipart/form-data with a `file` field")


@expenses.get("/{expense_id}", response_model=TransactionPublic)
async def get(expense_id: str, user: CurrentUser) -> TransactionPublic:
    return await get_transaction(user_id=user.id, transaction_id=expense_id)


@expenses.patch("/{expense_id}", response_model=TransactionPublic)
async def update(expense_id: str, body: TransactionUpdate, user: CurrentUser,
                 runtime: RuntimeDep) -> TransactionPublic:
    return await update_transaction(runtime=runtime, user_id=user.id, transaction_id=expense_id, changes=body)


@expenses.delete("/{expense_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete(expense_id: str, user: CurrentUser, runtime: RuntimeDep) -> None:
    await delete_transaction(runtime=runtime, user_id=user.id, transaction_id=expense_id)


@categories.get("", response_model=CategoryPage)
async def list_categories_(user: CurrentUser, runtime: RuntimeDep, page: Pagination,
                           kind: TransactionType | None = None) -> CategoryPage:
    return await list_categories(runtime=runtime, user_id=user.id, kind=kind, page=page)


@categories.post("", status_code=status.HTTP_201_CREATED, response_model=CategoryPublic)
async def create_category_(body: CategoryCreate, user: CurrentUser, runtime: RuntimeDep) -> CategoryPublic:
    return await create_category(runtime=runtime, user_id=user.id, data=body)


@categories.get("/{category_id}", response_model=CategoryPublic)
async def get_category_(category_id: str, user: CurrentUser, runtime: RuntimeDep) -> CategoryPublic:
    return await get_category(runtime=runtime, user_id=user.id, category_id=category_id)


@categories.patch("/{category_id}", response_model=CategoryPublic)
async def rename_category_(category_id: str, body: CategoryUpdate, user: CurrentUser,
                           runtime: RuntimeDep) -> CategoryPublic:
    return await rename_category(runtime=runtime, user_id=user.id, category_id=category_id, data=body)


@categories.delete("/{category_id}", status_code=status.HTTP_204_NO_CONTENT,
                   responses={409: {"description": "transactions still use the category"}})
async def delete_category_(category_id: str, user: CurrentUser, runtime: RuntimeDep) -> None:
    await delete_category(runtime=runtime, user_id=user.id, category_id=category_id)
