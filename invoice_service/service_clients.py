"""Clients and the sender's business profile: every query scoped to the caller."""

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from invoice_service.models import BusinessProfile, Client, Invoice, InvoiceStatus, Party, utcnow
from invoice_service.schemas import ClientCreate, ClientUpdate, ProfileUpdate
from shared.errors import Conflict, NotFound, field_problem
from shared.ids import parse_object_id
from shared.schemas import PageParams


async def create_client(*, user_id: str, data: ClientCreate) -> Client:
    client = Client(user_id=user_id, **data.model_dump())
    await client.insert()
    return client


async def list_clients(*, user_id: str, page: PageParams) -> tuple[list[Client], int]:
    query = Client.find(Client.user_id == user_id)
    total = await query.count()
    items = await query.sort("+name", "+_id").skip(page.offset).limit(page.limit).to_list()
    return items, total


async def get_client(*, user_id: str, client_id: str, session: AsyncClientSession | None = None,
                     field: str | None = None) -> Client:
    """The caller's client; 404, or a 422 naming `field` when the id came from a request body."""
    try:
        oid = parse_object_id(client_id, "client")
    except NotFound:
        oid = None
    client = None if oid is None else await Client.find_one({"_id": oid, "user_id": user_id}, session=session)
    if client is None:
        if field:
            raise field_problem(field, "no such client")
        raise NotFound("client")
    return client


async def update_client(*, user_id: str, client_id: str, data: ClientUpdate) -> Client:
    client = await get_client(user_id=user_id, client_id=client_id)
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] is None:
        raise field_problem("name", "cannot be empty")
    for text_field in ("address", "tax_id"):
        if text_field in changes and changes[text_field] is None:
            changes[text_field] = ""
    for name, value in changes.items():
        setattr(client, name, value)
    client.updated_at = utcnow()
    await client.save()  # sent invoices keep their own snapshot: this rewrites none of them
    return client


async def delete_client(*, user_id: str, client_id: str) -> None:
    client = await get_client(user_id=user_id, client_id=client_id)
    # A draft still needs its client to be sent; sent invoices carry a snapshot and do not.
    drafts = await Invoice.find({"user_id": user_id, "client_id": str(client.id),
                                 "status": InvoiceStatus.DRAFT.value}).count()
    if drafts:
        raise Conflict(f"the client has {drafts} draft invoice(s); void them or move them to another client first")
    await client.delete()


def client_party(client: Client) -> Party:
    return Party(name=client.name, email=client.email, address=client.address, tax_id=client.tax_id)


async def get_profile(*, user_id: str, session: AsyncClientSession | None = None) -> BusinessProfile:
    """The caller's profile, or the defaults (unsaved) when none was set yet."""
    profile = await BusinessProfile.find_one({"user_id": user_id}, session=session)
    return profile or BusinessProfile(user_id=user_id)


async def put_profile(*, user_id: str, data: ProfileUpdate) -> BusinessProfile:
    values = {**data.model_dump(), "updated_at": utcnow()}
    # An upsert on the unique user_id: two concurrent first PUTs leave one profile (the loser updates).
    collection = BusinessProfile.get_pymongo_collection()
    try:
        await collection.update_one({"user_id": user_id}, {"$set": values}, upsert=True)
    except DuplicateKeyError:
        await collection.update_one({"user_id": user_id}, {"$set": values})
    return await get_profile(user_id=user_id)


def sender_party(profile: BusinessProfile) -> Party:
    return Party(name=profile.name, email=profile.email, address=profile.address, tax_id=profile.tax_id,
                 payment_details=profile.payment_details)
