"""The runtime end to end on real RabbitMQ and a real MongoDB-protocol server: outbox → bus → idempotent consumer."""

import json

import aio_pika

from devtools.testing.waiting import wait_until
from shared.consumer import HandlerContext
from shared.events import UserDeleted, UserRegistered
from shared.runtime import Runtime
from shared.settings import ServiceSettings


async def record_registration(event: UserRegistered, ctx: HandlerContext) -> None:
    await ctx.db["seen"].insert_one({"user_id": event.user_id}, session=ctx.session)


async def explode(event: UserDeleted, ctx: HandlerContext) -> None:
    raise RuntimeError("handler always fails")


def make_settings(stack, name: str) -> ServiceSettings:
    return ServiceSettings(
        service_name=name, environment="test", mongodb_url=stack.mongo_url, mongodb_db=stack.database_name(name),
        amqp_url=stack.amqp_url, amqp_exchange=stack.exchange, amqp_queue_prefix=stack.queue_prefix,
        amqp_retry_delays_ms=(50, 100), outbox_poll_seconds=0.2)


async def test_event_published_through_outbox_is_consumed_once_even_when_redelivered(stack):
    consumer = Runtime(make_settings(stack, "notification_service"),
                       handlers={UserRegistered: [record_registration], UserDeleted: [explode]})
    producer = Runtime(make_settings(stack, "user_service"))
    await consumer.start()
    await producer.start()
    try:
        async with producer.transaction() as tx:
            envelope = await tx.publish(UserRegistered(user_id="u1", email="a@example.com"), user_id="u1")
        seen = consumer.database.db["seen"]
        await wait_until(lambda: seen.count_documents({"user_id": "u1"}), message="the event consumed")

        # Redeliver the same envelope by hand: nothing changes.
        await producer.bus.publish("user.registered", json.dumps(envelope.model_dump(mode="json")).encode(),
                                   message_id=envelope.event_id)
        async with producer.transaction() as tx:
            await tx.publish(UserRegistered(user_id="u2", email="b@example.com"), user_id="u2")
        await wait_until(lambda: seen.count_documents({"user_id": "u2"}), message="the later event")
        assert await seen.count_documents({"user_id": "u1"}) == 1

        # A failing handler is retried, then dead-lettered; a poison message goes straight there.
        async with producer.transaction() as tx:
            await tx.publish(UserDeleted(user_id="u1"), user_id="u1")
        await producer.bus.publish("user.registered", b"not json", message_id="poison")
        connection = await aio_pika.connect(stack.amqp_url)
        async with connection:
            channel = await connection.channel()

            async def dlq_depth() -> int:
                queue = await channel.declare_queue(f"{stack.queue_prefix}notification_service.dlq", durable=True)
                return queue.declaration_result.message_count

            async def both_dead_lettered() -> bool:
                return await dlq_depth() >= 2

            await wait_until(both_dead_lettered, timeout=10, message="the failing and the poison message dead-lettered")

        # The queue keeps flowing after the poison message.
        async with producer.transaction() as tx:
            await tx.publish(UserRegistered(user_id="u3", email="c@example.com"), user_id="u3")
        await wait_until(lambda: seen.count_documents({"user_id": "u3"}), message="flow after poison")
    finally:
        await producer.stop()
        await consumer.stop()

