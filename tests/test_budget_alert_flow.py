"""End to end through the gateway: expenses → budget → budget.threshold_80 / budget.exceeded → email and
in-app notification, over the real broker, MongoDB-protocol server and SMTP server."""

from devtools.testing.waiting import wait_until

EMAIL, PASSWORD = "ada.budget@example.com", "a-long-and-Unusual-passphrase-42"
QUICK_MAIL = {"email_poll_seconds": 0.1, "weekly_report_enabled": False}


async def test_food_budget_warns_at_80_percent_and_when_exceeded_by_email_and_in_app(stack, smtp_server):
    await stack.start("user_service", "expense_service", "budget_service", "notification_service", "gateway",
                      overrides={"notification_service": QUICK_MAIL})
    spy = await stack.spy("budget.threshold_80", "budget.exceeded")
    gateway = stack.client("gateway")
    registered = await gateway.post("/api/auth/register", json={"email": EMAIL, "password": PASSWORD, "name": "Ada"})
    assert registered.status_code == 201, registered.text
    login = await gateway.post("/api/auth/login", json={"email": EMAIL, "password": PASSWORD})
    assert login.status_code == 200, login.text
    api = stack.client("gateway", headers={"Authorization": f"Bearer {login.json()['access_token']}"})

    categories = (await api.get("/api/categories", params={"kind": "expense", "limit": 100})).json()["items"]
    [food] = [c for c in categories if c["name"].lower() == "food"]
    budget = await api.post("/api/budgets", json={"name": "Food", "category_id": food["id"],
                                                  "limit_amount": "100.00", "currency": "EUR",
                                                  "period": {"kind": "monthly", "start_day": 1}})
    assert budget.status_code == 201, budget.text
    budget_id = budget.json()["id"]

    async def spend(amount: str) -> None:
        response = await api.post("/api/expenses", json={"type": "expense", "amount": amount, "currency": "EUR",
                                                         "category": food["id"], "description": "groceries"})
        assert response.status_code == 201, response.text

    async def spent_is(amount: str) -> bool:
        return (await api.get(f"/api/budgets/{budget_id}")).json()["current"]["spent"] == amount

    def budget_mails() -> list:
        return [m for m in smtp_server.sink.to(EMAIL) if "budget" in m.subject.lower()]

    async def in_app(kind: str) -> list:
        page = (await api.get("/api/notifications", params={"limit": 100})).json()
        return [n for n in page["items"] if n["type"] == kind]

    await spend("50.00")
    await wait_until(lambda: spent_is("50.00"), message="the first expense counted")
    await spend("35.00")
    [warning] = await spy.wait_for("budget.threshold_80")
    assert (warning["data"]["budget_id"], warning["data"]["spent"], warning["data"]["threshold_percent"]) == (
        budget_id, "85.00", 80)
    [mail] = await wait_until(budget_mails, timeout=20, message="the 80 % email")
    assert "Food" in mail.subject and "85.00" in mail.text()
    [note] = await wait_until(lambda: in_app("budget_threshold_80"), message="the in-app 80 % notification")
    assert note["data"]["budget_id"] == budget_id

    await spend("20.00")
    [exceeded] = await spy.wait_for("budget.exceeded")
    assert (exceeded["data"]["spent"], exceeded["data"]["limit_amount"]) == ("105.00", "100.00")
    await wait_until(lambda: len(budget_mails()) == 2, timeout=20, message="the exceeded email")
    await wait_until(lambda: in_app("budget_exceeded"), message="the in-app exceeded notification")

    assert len(spy.of_type("budget.threshold_80")) == 1 and len(spy.of_type("budget.exceeded")) == 1
    assert len(await in_app("budget_threshold_80")) == 1 and len(budget_mails()) == 2
    current = (await api.get(f"/api/budgets/{budget_id}")).json()["current"]
    assert (current["spent"], current["remaining"], current["status"]) == ("105.00", "-5.00", "exceeded")
    alerts = (await api.get("/api/budgets/alerts", params={"budget_id": budget_id})).json()
    assert [a["event_type"] for a in alerts["items"]] == ["budget.exceeded", "budget.threshold_80"]
