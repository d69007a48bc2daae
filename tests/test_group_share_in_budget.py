"""Across services: a member's share of a group expense counts in that member's budget — and follows the group
expense when it is edited or deleted (expense_service's outbox → RabbitMQ → budget_service's ledger)."""

from datetime import date

from devtools.testing.waiting import wait_until

GROUPS = "/api/groups"


async def test_a_members_share_of_a_group_expense_counts_in_their_food_budget_and_follows_edits(stack):
    await stack.start("expense_service", "budget_service")
    ann = stack.client("expense_service", headers=stack.auth("ann"))
    ben = stack.client("expense_service", headers=stack.auth("ben"))
    ben_budgets = stack.client("budget_service", headers=stack.auth("ben"))

    categories = (await ben.get("/api/categories", params={"kind": "expense", "limit": 100})).json()["items"]
    [food] = [c for c in categories if c["name"] == "food"]
    budget = await ben_budgets.post("/api/budgets", json={
        "name": "Food", "category_id": food["id"], "limit_amount": "200.00", "currency": "EUR",
        "period": {"kind": "monthly", "start_day": 1}})
    assert budget.status_code == 201, budget.text
    budget_url = f"/api/budgets/{budget.json()['id']}"

    async def spent_becomes(amount: str) -> None:
        async def shows_it() -> bool:
            return (await ben_budgets.get(budget_url)).json()["current"]["spent"] == amount

        await wait_until(shows_it, timeout=20, message=f"ben's food budget to show {amount} spent")

    group = (await ann.post(GROUPS, json={"name": "Holiday", "currency": "EUR"})).json()
    joined = await ben.post(f"{GROUPS}/join", json={"invite_code": group["invite_code"]})
    assert joined.status_code == 200, joined.text

    # Ann pays 75.00 for dinner, split equally with ben, as food: ben's share is 37.50 (ann's is 37.50 too;
    # ann's own spending is her share, not the 75.00 she paid).
    created = await ann.post(f"{GROUPS}/{group['id']}/expenses", json={
        "amount": "75.00", "description": "Dinner", "category": "food", "occurred_date": date.today().isoformat()})
    assert created.status_code == 201, created.text
    expense_url = f"{GROUPS}/{group['id']}/expenses/{created.json()['id']}"
    await spent_becomes("37.50")

    # Ann corrects the bill to 91.00 and gives ben the larger part (shares 2:5): ben's share 65.00.
    edited = await ann.patch(expense_url, json={"amount": "91.00", "split_mode": "shares", "participants": [
        {"user_id": "ann", "value": "2"}, {"user_id": "ben", "value": "5"}]})
    assert edited.status_code == 200, edited.text
    assert [s["share"] for s in edited.json()["shares"]] == ["26.00", "65.00"]
    await spent_becomes("65.00")

    # Deleted: ben's budget no longer counts it.
    assert (await ann.delete(expense_url)).status_code == 204
    await spent_becomes("0.00")


async def test_the_other_participants_hear_of_a_group_expense_with_their_share(stack):
    await stack.start("expense_service", "notification_service", overrides={
        "notification_service": {"weekly_report_enabled": False}})
    ann = stack.client("expense_service", headers=stack.auth("ann"))
    group = (await ann.post(GROUPS, json={"name": "Holiday", "currency": "EUR"})).json()
    for member in ("ben", "cid"):
        api = stack.client("expense_service", headers=stack.auth(member))
        assert (await api.post(f"{GROUPS}/join", json={"invite_code": group["invite_code"]})).status_code == 200
    created = await ann.post(f"{GROUPS}/{group['id']}/expenses", json={
        "amount": "10.00", "description": "Museum", "split_mode": "exact", "participants": [
            {"user_id": "ann", "value": "4.00"}, {"user_id": "ben", "value": "6.00"}]})
    assert created.status_code == 201, created.text

    async def notes_of(user_id: str) -> list:
        api = stack.client("notification_service", headers=stack.auth(user_id))
        page = (await api.get("/api/notifications", params={"limit": 100})).json()
        return [n for n in page["items"] if n["type"] == "group_expense_added"]

    [note] = await wait_until(lambda: notes_of("ben"), timeout=20, message="ben's group notification")
    assert "Museum" in note["body"] and "6.00 EUR" in note["body"]
    assert note["data"] == {"group_id": group["id"], "group_expense_id": created.json()["id"]}
    assert await notes_of("ann") == [] and await notes_of("cid") == []  # the adder, and a non-participant
