"""The in-app notifications API: list with an unread filter, counts, mark read, mark all read, delete."""

from datetime import datetime, timedelta, timezone

from bson import ObjectId

from notification_service.models import Notification


async def seed(user_id: str, count: int) -> list[str]:
    base = datetime(2026, 11, 1, tzinfo=timezone.utc)
    docs = [Notification(user_id=user_id, type="invoice_paid", title=f"Paid {i}", body="...",
                         data={"invoice_id": f"inv-{i}"}, created_at=base + timedelta(minutes=i))
            for i in range(count)]
    await Notification.insert_many(docs)
    found = await Notification.find({"user_id": user_id}, sort=[("created_at", -1)]).to_list()
    return [str(d.id) for d in found]


async def test_list_newest_first_with_unread_filter_counts_and_mark_read(notifications):
    ids = await seed("u1", 5)
    await seed("u2", 2)
    api = notifications.api("u1")

    page = (await api.get("/api/notifications", params={"limit": 2})).json()
    assert page["total"] == 5 and page["limit"] == 2 and [i["id"] for i in page["items"]] == ids[:2]
    assert page["items"][0] == {**page["items"][0], "title": "Paid 4", "read": False, "read_at": None,
                                "data": {"invoice_id": "inv-4"}}
    assert (await api.get("/api/notifications/unread-count")).json() == {"unread": 5}

    read = (await api.post(f"/api/notifications/{ids[1]}/read")).json()
    assert read["read"] is True and read["read_at"]
    stored = await Notification.get(ObjectId(ids[1]))
    assert stored.purge_after - stored.read_at == timedelta(days=180)  # read ones expire, unread ones stay
    again = (await api.post(f"/api/notifications/{ids[1]}/read")).json()
    assert again["read_at"] == read["read_at"]  # reading twice keeps the first time
    assert (await api.get("/api/notifications/unread-count")).json() == {"unread": 4}

    unread = (await api.get("/api/notifications", params={"unread": "true"})).json()
    assert unread["total"] == 4 and ids[1] not in [i["id"] for i in unread["items"]]
    only_read = (await api.get("/api/notifications", params={"unread": "false"})).json()
    assert [i["id"] for i in only_read["items"]] == [ids[1]]

    assert (await api.post("/api/notifications/read-all")).json() == {"updated": 4}
    assert (await api.get("/api/notifications/unread-count")).json() == {"unread": 0}
    # The other user's notifications are untouched.
    assert (await notifications.api("u2").get("/api/notifications/unread-count")).json() == {"unread": 2}


async def test_delete_and_other_users_or_malformed_ids_are_404(notifications):
    mine = await seed("u1", 2)
    theirs = await seed("u2", 1)
    api = notifications.api("u1")

    assert (await api.delete(f"/api/notifications/{mine[0]}")).status_code == 204
    assert (await api.get(f"/api/notifications/{mine[0]}")).status_code == 404
    assert (await api.delete(f"/api/notifications/{mine[0]}")).status_code == 404
    assert (await api.get("/api/notifications")).json()["total"] == 1

    for path in (f"/api/notifications/{theirs[0]}", f"/api/notifications/{ObjectId()}", "/api/notifications/xyz"):
        for method, url in (("GET", path), ("POST", f"{path}/read"), ("DELETE", path)):
            r = await api.request(method, url)
            assert r.status_code == 404, (method, url)
            assert r.headers["content-type"] == "application/problem+json"
    other = (await notifications.api("u2").get(f"/api/notifications/{theirs[0]}")).json()
    assert other["read"] is False  # u1's attempts changed nothing


async def test_limits_are_capped_and_auth_is_required(notifications):
    await seed("u1", 3)
    api = notifications.api("u1")
    assert (await api.get("/api/notifications", params={"limit": 100})).status_code == 200
    for params in ({"limit": 101}, {"limit": 0}, {"offset": -1}, {"unread": "maybe"}):
        assert (await api.get("/api/notifications", params=params)).status_code == 422, params
    anonymous = notifications.stack.client("notification_service")
    assert (await anonymous.get("/api/notifications")).status_code == 401
    forged = notifications.stack.client("notification_service", headers={"Authorization": "Bearer abc.def.ghi"})
    assert (await forged.get("/api/notifications/unread-count")).status_code == 401
