"""One ledger: each participant's share is their own expense transaction, created, changed and deleted with the
group expense in one transaction, with its events; a share is changed through its group expense only."""

from devtools.testing.waiting import wait_until
from expense_service.tests.helpers import EXPENSES, GROUPS, client, db, group_of, nets, publish_event, start
from shared.events import UserRegistered


def shares_of(spy, routing_key: str, group_expense_id: str) -> dict[str, dict]:
    """The latest snapshot per member of that group expense's shares, from events of one kind."""
    out = {}
    for event in spy.of_type(routing_key):
        snap = event["data"]["after"] if routing_key == "expense.updated" else event["data"]["expense"]
        if snap["group_expense_id"] == group_expense_id:
            out[snap["user_id"]] = snap
    return out


async def only_transaction(api) -> dict:
    page = (await api.get(EXPENSES)).json()
    assert page["total"] == 1, page
    return page["items"][0]


async def test_shares_are_the_members_own_transactions_and_follow_every_change_of_the_group_expense(stack):
    await start(stack)
    spy = await stack.spy("expense.*", "group.expense_added")
    await publish_event(stack, UserRegistered(user_id="ada", email="ada@example.com", name="Ada"), user_id="ada")
    await wait_until(lambda: db(stack)["profiles"].count_documents({"user_id": "ada", "name": "Ada"}),
                     message="ada's profile")
    group = await group_of(stack, "ada", "bob", name="Trip")
    assert [(m["user_id"], m["name"], m["is_owner"]) for m in group["members"]] == [
        ("ada", "Ada", True), ("bob", "user bob", False)]  # no profile seen for bob: a short form of his id
    ada, bob = client(stack, "ada"), client(stack, "bob")
    expenses = f"{GROUPS}/{group['id']}/expenses"

    r = await ada.post(expenses, json={"amount": "50.00", "description": "Dinner", "category": "Food",
                                       "occurred_date": "2024-05-04"}, headers={"Idempotency-Key": "dinner-1"})
    assert r.status_code == 201, r.text
    dinner = r.json()
    assert r.headers["location"] == f"{expenses}/{dinner['id']}"
    assert (dinner["payer_id"], dinner["payer_name"], dinner["category"], dinner["split_mode"]) == (
        "ada", "Ada", "food", "equal")
    retry = await ada.post(expenses, json={"amount": "50.00", "description": "Dinner", "category": "Food",
                                           "occurred_date": "2024-05-04"}, headers={"Idempotency-Key": "dinner-1"})
    assert retry.json() == dinner and retry.headers["idempotent-replayed"] == "true"

    # Each member sees their own share as an ordinary expense, filed under their own "food".
    bob_share = await only_transaction(bob)
    assert (bob_share["amount"], bob_share["currency"], bob_share["category"], bob_share["occurred_date"]) == (
        "25.00", "EUR", "food", "2024-05-04")
    assert (bob_share["group_id"], bob_share["group_expense_id"]) == (group["id"], dinner["id"])
    assert (await only_transaction(ada))["amount"] == "25.00"
    await spy.wait_for("expense.created", 2)
    created = shares_of(spy, "expense.created", dinner["id"])
    assert {u: (s["amount"], s["revision"]) for u, s in created.items()} == {"ada": ("25.00", 1),
                                                                            "bob": ("25.00", 1)}
    assert created["bob"]["updated_at"] and created["bob"]["category_name"] == "food"
    [added] = await spy.wait_for("group.expense_added")
    assert added["user_id"] == "ada" and added["data"]["group_name"] == "Trip"
    assert added["data"]["shares"] == [{"user_id": "ada", "share": "25.00"}, {"user_id": "bob", "share": "25.00"}]

    # Bob files his share where he likes, but its amount, date and existence follow the group expense (409).
    share_url = f"{EXPENSES}/{bob_share['id']}"
    assert (await bob.patch(share_url, json={"amount": "1.00"})).status_code == 409
    assert (await bob.patch(share_url, json={"description": "mine"})).status_code == 409
    assert (await bob.delete(share_url)).status_code == 409
    r = await bob.patch(share_url, json={"category": "entertainment", "tags": ["holiday"], "amount": "25.00"})
    assert r.status_code == 200 and r.json()["category"] == "entertainment", r.text

    # The payer changes it to 80.00 split 25 % / 75 %: both shares are updated, bob keeps his category.
    r = await ada.patch(f"{expenses}/{dinner['id']}", json={
        "amount": "80.00", "split_mode": "percent",
        "participants": [{"user_id": "ada", "value": "25"}, {"user_id": "bob", "value": "75"}]})
    assert r.status_code == 200, r.text
    assert [(s["user_id"], s["value"], s["share"]) for s in r.json()["shares"]] == [
        ("ada", "25", "20.00"), ("bob", "75", "60.00")]
    await spy.wait_for("expense.updated", 3)  # bob's re-filing, then both shares
    updated = shares_of(spy, "expense.updated", dinner["id"])
    assert (updated["bob"]["amount"], updated["bob"]["category_name"], updated["bob"]["revision"]) == (
        "60.00", "entertainment", 3)
    assert (updated["ada"]["amount"], updated["ada"]["revision"]) == ("20.00", 2)
    assert (await only_transaction(bob))["amount"] == "60.00"
    assert nets(await _sheet(ada, group["id"])) == {"ada": "60.00", "bob": "-60.00"}

    # Bob is dropped from it: his share transaction is deleted, ada's becomes the whole amount.
    r = await ada.patch(f"{expenses}/{dinner['id']}", json={"split_mode": "equal",
                                                            "participants": [{"user_id": "ada"}]})
    assert r.status_code == 200 and r.json()["shares"] == [
        {"user_id": "ada", "name": "Ada", "value": None, "share": "80.00"}]
    [deleted] = await spy.wait_for("expense.deleted")
    assert (deleted["data"]["expense"]["id"], deleted["data"]["expense"]["revision"]) == (bob_share["id"], 4)
    assert (await bob.get(EXPENSES)).json()["total"] == 0
    assert (await only_transaction(ada))["amount"] == "80.00"

    # A change that changes nothing publishes nothing; deleting the group expense deletes ada's share too.
    assert (await ada.patch(f"{expenses}/{dinner['id']}", json={"amount": "80"})).status_code == 200
    assert (await ada.delete(f"{expenses}/{dinner['id']}")).status_code == 204
    await spy.wait_for("expense.deleted", 2)
    assert len(spy.of_type("expense.updated")) == 4
    assert (await ada.get(EXPENSES)).json()["total"] == 0
    assert (await ada.get(f"{expenses}/{dinner['id']}")).status_code == 404
    assert nets(await _sheet(bob, group["id"])) == {"ada": "0.00", "bob": "0.00"}


async def _sheet(api, group_id: str) -> dict:
    return (await api.get(f"{GROUPS}/{group_id}/balances")).json()


async def test_a_member_who_joined_later_owes_nothing_for_earlier_expenses(stack):
    await start(stack)
    group = await group_of(stack, "ada", "bob")
    ada, cyd = client(stack, "ada"), client(stack, "cyd")
    expenses = f"{GROUPS}/{group['id']}/expenses"
    before = (await ada.post(expenses, json={"amount": "30.00", "description": "Before cyd"})).json()
    joined = await cyd.post(f"{GROUPS}/join", json={"invite_code": group["invite_code"]})
    assert joined.status_code == 200 and joined.json()["my_balance"] == "0.00"

    # Editing the earlier expense keeps its participants: cyd still owes nothing for it.
    r = await ada.patch(f"{expenses}/{before['id']}", json={"amount": "40.00"})
    assert [(s["user_id"], s["share"]) for s in r.json()["shares"]] == [("ada", "20.00"), ("bob", "20.00")]
    assert nets(await _sheet(cyd, group["id"])) == {"ada": "20.00", "bob": "-20.00", "cyd": "0.00"}
    assert (await cyd.get(EXPENSES)).json()["total"] == 0
    # Later expenses include cyd by default.
    after = (await ada.post(expenses, json={"amount": "9.00", "description": "After cyd"})).json()
    assert [s["user_id"] for s in after["shares"]] == ["ada", "bob", "cyd"]
    assert (await only_transaction(cyd))["amount"] == "3.00"
    listed = (await cyd.get(expenses, params={"limit": 1})).json()
    assert listed["total"] == 2 and len(listed["items"]) == 1
