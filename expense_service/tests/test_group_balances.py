"""Balances of a group checked against a hand computation; the suggested transfers settle everyone."""

from expense_service.tests.helpers import GROUPS, balances, client, group_of, nets, start


async def test_three_members_three_split_modes_balances_and_transfers_match_the_hand_computation(stack):
    await start(stack)
    group = await group_of(stack, "ann", "ben", "cat")
    gid = group["id"]
    ann, ben, cat = client(stack, "ann"), client(stack, "ben"), client(stack, "cat")
    expenses = f"{GROUPS}/{gid}/expenses"

    # E1, equal, ann pays 100.00 for all three (default participants: every member, in joining order):
    #   100.00 / 3 = 33.333… → 33.33 each and the leftover cent to the first listed: ann 33.34, ben 33.33, cat 33.33
    r = await ann.post(expenses, json={"amount": "100.00", "description": "Groceries"})
    assert r.status_code == 201, r.text
    assert [(s["user_id"], s["share"]) for s in r.json()["shares"]] == [
        ("ann", "33.34"), ("ben", "33.33"), ("cat", "33.33")]
    # E2, exact, ben pays 60.00: ann 10.00, ben 20.00, cat 30.00
    r = await ben.post(expenses, json={"amount": "60.00", "description": "Internet", "split_mode": "exact",
                                       "participants": [{"user_id": "ann", "value": "10.00"},
                                                        {"user_id": "ben", "value": "20"},
                                                        {"user_id": "cat", "value": "30.00"}]})
    assert r.status_code == 201, r.text
    # E3, shares, cat pays 10.00 for ann (weight 2) and ben (weight 1); cat takes no part:
    #   quotas 666.67 and 333.33 cents → floors 666 + 333 = 999, the leftover cent to the larger remainder (ann)
    #   → ann 6.67, ben 3.33
    r = await cat.post(expenses, json={"amount": "10.00", "description": "Cleaning", "payer_id": "cat",
                                       "split_mode": "shares", "participants": [{"user_id": "ann", "value": "2"},
                                                                                {"user_id": "ben", "value": "1"}]})
    assert r.status_code == 201, r.text
    assert [(s["user_id"], s["share"]) for s in r.json()["shares"]] == [("ann", "6.67"), ("ben", "3.33")]

    # paid:  ann 100.00, ben 60.00, cat 10.00
    # owed:  ann 33.34 + 10.00 + 6.67 = 50.01; ben 33.33 + 20.00 + 3.33 = 56.66; cat 33.33 + 30.00 = 63.33
    # net:   ann 100.00 - 50.01 = 49.99; ben 60.00 - 56.66 = 3.34; cat 10.00 - 63.33 = -53.33  (sum 0)
    sheet = await balances(cat, gid)
    assert sheet["currency"] == "EUR"
    assert [(b["user_id"], b["paid"], b["owed"], b["net"]) for b in sheet["balances"]] == [
        ("ann", "100.00", "50.01", "49.99"), ("ben", "60.00", "56.66", "3.34"), ("cat", "10.00", "63.33", "-53.33")]
    # Greedy: the largest debtor (cat -53.33) pays the largest creditor (ann 49.99) 49.99 → cat -3.34 left,
    # which goes to ben (3.34): two transfers for three people.
    assert [(t["from_user"], t["to_user"], t["amount"]) for t in sheet["transfers"]] == [
        ("cat", "ann", "49.99"), ("cat", "ben", "3.34")]
    assert (await ann.get(f"{GROUPS}/{gid}")).json()["my_balance"] == "49.99"

    # Settling needs a party to the payment: ann cannot record what cat paid ben.
    settlements = f"{GROUPS}/{gid}/settlements"
    assert (await ann.post(settlements, json={"from_user": "cat", "to_user": "ben", "amount": "3.34"})
            ).status_code == 403
    # cat records the first payment, ben (the payee) the second: every balance is then zero.
    payment = {"from_user": "cat", "to_user": "ann", "amount": "49.99"}
    first = await cat.post(settlements, json=payment, headers={"Idempotency-Key": "cat-pays-ann"})
    second = await ben.post(settlements, json={"from_user": "cat", "to_user": "ben", "amount": "3.34"})
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    retried = await cat.post(settlements, json=payment, headers={"Idempotency-Key": "cat-pays-ann"})
    assert retried.json() == first.json() and retried.headers["idempotent-replayed"] == "true"  # paid once
    # The key names that payment in that group: in another group it is refused, never a replay of this one.
    elsewhere = (await group_of(stack, "cat", "ann", name="Other"))["id"]
    reused = await cat.post(f"{GROUPS}/{elsewhere}/settlements", json=payment,
                            headers={"Idempotency-Key": "cat-pays-ann"})
    assert reused.status_code == 422 and reused.json()["errors"][0]["field"] == "Idempotency-Key"
    assert second.json()["recorded_by"] == "ben" and second.json()["currency"] == "EUR"
    sheet = await balances(ann, gid)
    assert nets(sheet) == {"ann": "0.00", "ben": "0.00", "cat": "0.00"} and sheet["transfers"] == []
    assert [(b["user_id"], b["sent"], b["received"]) for b in sheet["balances"]] == [
        ("ann", "0.00", "49.99"), ("ben", "0.00", "3.34"), ("cat", "53.33", "0.00")]
    listed = (await ben.get(settlements)).json()
    assert listed["total"] == 2 and {s["amount"] for s in listed["items"]} == {"49.99", "3.34"}

    # A payment recorded by mistake is undone by a party; the balances go back.
    mistake = (await ann.post(settlements, json={"from_user": "ann", "to_user": "ben", "amount": "5.00"})).json()
    assert nets(await balances(ann, gid)) == {"ann": "5.00", "ben": "-5.00", "cat": "0.00"}
    assert (await cat.delete(f"{settlements}/{mistake['id']}")).status_code == 403
    assert (await ben.delete(f"{settlements}/{mistake['id']}")).status_code == 204
    assert nets(await balances(ann, gid)) == {"ann": "0.00", "ben": "0.00", "cat": "0.00"}

    # Leaving needs a settled balance: now everyone could leave; a new debt blocks it again (409).
    await ann.post(expenses, json={"amount": "9.00", "description": "Bread", "split_mode": "equal",
                                   "participants": [{"user_id": "ann"}, {"user_id": "cat"}]})
    r = await cat.post(f"{GROUPS}/{gid}/leave")
    assert r.status_code == 409 and "4.50" in r.json()["detail"]
    assert (await ann.delete(f"{GROUPS}/{gid}/members/cat")).status_code == 409  # the owner cannot remove her
    await cat.post(settlements, json={"from_user": "cat", "to_user": "ann", "amount": "4.50"})
    assert (await cat.post(f"{GROUPS}/{gid}/leave")).status_code == 204
    assert (await cat.get(f"{GROUPS}/{gid}")).status_code == 404
    members = (await ann.get(f"{GROUPS}/{gid}/members")).json()
    assert [m["user_id"] for m in members["items"]] == ["ann", "ben"] and members["total"] == 2


async def test_settlements_and_expenses_in_a_zero_decimal_currency_stay_exact(stack):
    await start(stack)
    group = await group_of(stack, "kenji", "yui", "sora", currency="JPY")
    api = client(stack, "kenji")
    expenses = f"{GROUPS}/{group['id']}/expenses"
    # 1000 JPY at 33.3 / 33.3 / 33.4 %: quotas 333, 333, 334 — no minor unit to split.
    r = await api.post(expenses, json={"amount": "1000", "description": "Ramen", "split_mode": "percent",
                                       "participants": [{"user_id": "kenji", "value": "33.3"},
                                                        {"user_id": "yui", "value": "33.3"},
                                                        {"user_id": "sora", "value": "33.4"}]})
    assert r.status_code == 201, r.text
    assert [s["share"] for s in r.json()["shares"]] == ["333", "333", "334"]
    assert (await api.post(expenses, json={"amount": "10.5", "description": "x"})).status_code == 422
    sheet = await balances(api, group["id"])
    assert nets(sheet) == {"kenji": "667", "yui": "-333", "sora": "-334"}
    assert [(t["from_user"], t["to_user"], t["amount"]) for t in sheet["transfers"]] == [
        ("sora", "kenji", "334"), ("yui", "kenji", "333")]
