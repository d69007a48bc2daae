"""user.deleted: the user's clients, profile, invoices and counters are erased; nobody else's."""

import aio_pika

from devtools.testing.waiting import wait_until
from invoice_service.tests.helpers import add_client, create_invoice, sent_invoice
from shared.events import Envelope, UserDeleted


async def publish(stack, event: UserDeleted) -> None:
    envelope = Envelope.wrap(event, producer="user_service", user_id=event.user_id)
    connection = await aio_pika.connect(stack.amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(stack.exchange, aio_pika.ExchangeType.TOPIC, durable=True)
        await exchange.publish(aio_pika.Message(envelope.model_dump_json().encode(), message_id=envelope.event_id),
                               routing_key=event.ROUTING_KEY)


async def test_user_deleted_erases_their_clients_profile_invoices_and_counters(stack):
    await stack.start("invoice_service")
    leaving = stack.client("invoice_service", headers=stack.auth("leaving"))
    staying = stack.client("invoice_service", headers=stack.auth("staying"))
    invoice = await sent_invoice(leaving)
    await leaving.post(f"/api/invoices/{invoice['id']}/payments", json={"amount": "10.00"},
                       headers={"Idempotency-Key": "k1"})
    kept = await sent_invoice(staying)
    db = stack.runtime("invoice_service").database.db
    collections = ("clients", "business_profiles", "invoices", "invoice_counters", "idempotency_keys")

    async def leftovers() -> dict[str, int]:
        return {name: await db[name].count_documents({"user_id": "leaving"}) for name in collections}

    assert all((await leftovers()).values())
    await publish(stack, UserDeleted(user_id="leaving"))

    await wait_until(lambda: _all_zero(leftovers()), timeout=15, message="the leaving user's data erased")
    assert (await leaving.get("/api/invoices")).json()["total"] == 0
    assert (await leaving.get("/api/business-profile")).json()["name"] == ""
    assert (await staying.get(f"/api/invoices/{kept['id']}")).status_code == 200
    assert (await staying.get("/api/clients")).json()["total"] == 1
    # The counter went with the rest: a returning user starts again at 0001.
    fresh = await create_invoice(leaving, await add_client(leaving))
    assert fresh["number"] == "INV-2026-0001"


async def _all_zero(counts) -> bool:
    return not any((await counts).values())
