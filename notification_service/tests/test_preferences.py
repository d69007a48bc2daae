"""Channel preferences: defaults all on, each channel switchable, the reset email always on."""

from datetime import date

from shared.events import BudgetExceeded, BudgetThreshold80, PasswordResetRequested

from .conftest import seed_user

ALERT = dict(budget_id="b1", budget_name="Fun", period_start=date(2026, 11, 1), period_end=date(2026, 11, 30),
             limit_amount="100.00", currency="EUR")


async def test_defaults_are_all_channels_on_and_the_reset_email_is_always_on(notifications):
    body = (await notifications.api("u1").get("/api/notifications/preferences")).json()["types"]
    assert body["budget_exceeded"] == {"email": True, "in_app": True, "available": ["email", "in_app"],
                                       "always_on": []}
    assert body["password_reset"] == {"email": True, "in_app": False, "available": ["email"],
                                      "always_on": ["email"]}
    assert all(t["email"] for t in body.values())


async def test_email_off_keeps_in_app_and_in_app_off_keeps_email(notifications, publisher):
    n = notifications
    await seed_user(n, "u1", "ada@example.com")
    api = n.api("u1")
    r = await api.put("/api/notifications/preferences",
                      json={"types": {"budget_threshold_80": {"email": False}, "budget_exceeded": {"in_app": False}}})
    assert r.status_code == 200, r.text
    assert r.json()["types"]["budget_threshold_80"]["email"] is False
    assert r.json()["types"]["budget_threshold_80"]["in_app"] is True
    assert r.json()["types"]["budget_exceeded"] == {**r.json()["types"]["budget_exceeded"], "email": True,
                                                    "in_app": False}

    await publisher.publish(BudgetThreshold80(**ALERT, threshold_percent=80, spent="85.00"), user_id="u1")
    await publisher.publish(BudgetExceeded(**ALERT, threshold_percent=100, spent="120.00"), user_id="u1")
    [mail] = await n.mails_to("ada@example.com")
    assert mail.subject == "Budget exceeded: Fun"
    await n.count("notifications", {"user_id": "u1", "type": "budget_threshold_80"})
    assert await n.db["notifications"].count_documents({"user_id": "u1", "type": "budget_exceeded"}) == 0
    assert await n.db["emails"].count_documents({"user_id": "u1"}) == 1

    listed = (await api.get("/api/notifications")).json()
    assert [item["type"] for item in listed["items"]] == ["budget_threshold_80"]


async def test_preferences_are_per_user_and_kept_across_updates(notifications):
    api = notifications.api("u1")
    await api.put("/api/notifications/preferences", json={"types": {"weekly_report": {"email": False}}})
    await api.put("/api/notifications/preferences", json={"types": {"invoice_paid": {"in_app": False}}})
    mine = (await api.get("/api/notifications/preferences")).json()["types"]
    assert mine["weekly_report"]["email"] is False and mine["invoice_paid"]["in_app"] is False
    theirs = (await notifications.api("u2").get("/api/notifications/preferences")).json()["types"]
    assert theirs["weekly_report"]["email"] is True and theirs["invoice_paid"]["in_app"] is True


async def test_the_reset_email_cannot_be_turned_off_and_is_sent_anyway(notifications, publisher):
    n = notifications
    api = n.api("u1")
    r = await api.put("/api/notifications/preferences", json={"types": {"password_reset": {"email": False}}})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "types.password_reset.email"
    r = await api.put("/api/notifications/preferences", json={"types": {"password_reset": {"in_app": True}}})
    assert r.status_code == 422
    await publisher.publish(PasswordResetRequested(user_id="u1", email="ada@example.com", reset_token="rst_abc",
                                                   expires_at="2099-01-01T00:00:00Z"), user_id="u1")
    await n.mails_to("ada@example.com")


async def test_malformed_preference_updates_are_422(notifications):
    api = notifications.api("u1")
    for body in ({"types": {"no_such_type": {"email": False}}},
                 {"types": {"welcome": {"sms": True}}},
                 {"types": {"welcome": {"email": "no"}}},
                 {"types": {}, "extra": 1}):
        r = await api.put("/api/notifications/preferences", json=body)
        assert r.status_code == 422, body
        assert r.headers["content-type"] == "application/problem+json"
    assert (await notifications.stack.client("notification_service").get(
        "/api/notifications/preferences")).status_code == 401
