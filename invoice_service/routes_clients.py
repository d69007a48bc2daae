"""Clients and the business profile: thin handlers over service_clients."""

from fastapi import APIRouter, Response, status

from invoice_service import service_clients as service
from invoice_service.models import BusinessProfile, Client
from invoice_service.schemas import ClientCreate, ClientPage, ClientPublic, ClientUpdate, ProfilePublic, ProfileUpdate
from shared.auth import CurrentUser
from shared.schemas import Pagination

clients_router = APIRouter(prefix="/api/clients", tags=["clients"])
profile_router = APIRouter(prefix="/api/business-profile", tags=["business profile"])


def _public(client: Client) -> ClientPublic:
    return ClientPublic.model_validate({**client.model_dump(exclude={"id"}), "id": str(client.id)})


@clients_router.post("", status_code=status.HTTP_201_CREATED, response_model=ClientPublic, summary="Add a client")
async def create_client(body: ClientCreate, user: CurrentUser) -> ClientPublic:
    return _public(await service.create_client(user_id=user.id, data=body))


@clients_router.get("", response_model=ClientPage, summary="Your clients, by name")
async def list_clients(user: CurrentUser, page: Pagination) -> ClientPage:
    items, total = await service.list_clients(user_id=user.id, page=page)
    return ClientPage(items=[_public(c) for c in items], total=total, limit=page.limit, offset=page.offset)


@clients_router.get("/{client_id}", response_model=ClientPublic, summary="One client")
async def get_client(client_id: str, user: CurrentUser) -> ClientPublic:
    return _public(await service.get_client(user_id=user.id, client_id=client_id))


@clients_router.patch("/{client_id}", response_model=ClientPublic,
                      summary="Change a client (sent invoices keep the details they were sent with)")
async def update_client(client_id: str, body: ClientUpdate, user: CurrentUser) -> ClientPublic:
    return _public(await service.update_client(user_id=user.id, client_id=client_id, data=body))


@clients_router.delete("/{client_id}", status_code=status.HTTP_204_NO_CONTENT,
                       summary="Remove a client (409 while a draft invoice still uses it)")
async def delete_client(client_id: str, user: CurrentUser) -> Response:
    await service.delete_client(user_id=user.id, client_id=client_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _profile(profile: BusinessProfile) -> ProfilePublic:
    return ProfilePublic.model_validate(profile.model_dump())


@profile_router.get("", response_model=ProfilePublic, summary="Your business profile (defaults until set)")
async def get_profile(user: CurrentUser) -> ProfilePublic:
    return _profile(await service.get_profile(user_id=user.id))


@profile_router.put("", response_model=ProfilePublic,
                    summary="Set your business profile: the sender printed on invoices, and the number pattern")
async def put_profile(body: ProfileUpdate, user: CurrentUser) -> ProfilePublic:
    return _profile(await service.put_profile(user_id=user.id, data=body))
