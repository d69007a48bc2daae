"""Groups: who sees what (non-members get 404), who may change what, invite codes, leaving, deleted accounts."""

import asyncio
from decimal import Decimal

from bson import ObjectId

from devtools.testing.waiting import wait_until
from expense_service.tests.helpers import EXPENSES, GROUPS, client, db, group_of, nets, publish_event, start
from shared.events import UserDeleted


async def test_non_members_get_404_for_the_group_and_everything_in_it(stack):
    await start(stack)
    group = await group_of(stack, "ada", "bob")
    gid = group["id"]
    expense = (await client(stack, "bob").post(f"{GROUPS}/{gid}/expenses", json={
        "amount": "12.00", "description": "Taxi"})).json()
    settlement = (await client(stack, "bob").post(f"{GROUPS}/{gid}/settlements", json={
        "from_user": "ada", "to_user": "bob", "amount": "6.00"})).json()  # ada paid bob her half
    eve = client(stack, "eve")
    reads = [f"{GROUPS}/{gid}", f"{GROUPS}/{gid}/members", f"{GROUPS}/{gid}/balances", f"{GROUPS}/{gid}/expenses",
             f"{GROUPS}/{gid}/expenses/{expense['id']}", f"{GROUPS}/{gid}/settlements", f"{GROUPS}/not-an-id",
             f"{GROUPS}/{'0' * 24}/expenses"]
    for path in reads:
        r = await eve.get(path)
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json", (path, r.text)
    writes = [("PATCH", f"{GROUPS}/{gid}", {"name": "Mine"}), ("POST", f"{GROUPS}/{gid}/invite-code", None),
              ("POST", f"{GROUPS}/{gid}/leave", None), ("DELETE", f"{GROUPS}/{gid}/members/bob", None),
              ("POST", f"{GROUPS}/{gid}/expenses", {"amount": "1.00", "description": "x"}),
              ("PATCH", f"{GROUPS}/{gid}/expenses/{expense['id']}", {"amount": "1.00"}),
              ("DELETE", f"{GROUPS}/{gid}/expenses/{expense['id']}", None),
              ("POST", f"{GROUPS}/{gid}/settlements", {"from_user": "eve", "to_user": "ada", "amount": "1.00"}),
              ("DELETE", f"{GROUPS}/{gid}/settlements/{settlement['id']}", None)]
    for method, path, body in writes:
        r = await eve.request(method, path, json=body)
        assert r.status_code == 404, (method, path, r.status_code, r.text)
    assert (await eve.get(GROUPS)).json() == {"items": [], "total": 0, "limit": 20, "offset": 0}
    # Nothing changed for the members.
    ada = client(stack, "ada")
    assert (await ada.get(f"{GROUPS}/{gid}")).json()["name"] == "Flat"
    assert nets((await ada.get(f"{GROUPS}/{gid}/balances")).json()) == {"ada": "0.00", "bob": "0.00"}
    # Someone else's expense id under a group one belongs to is not found either.
    other = await group_of(stack, "eve")
    assert (await eve.get(f"{GROUPS}/{other['id']}/expenses/{expense['id']}")).status_code == 404


async def test_only_the_adder_or_the_owner_changes_an_expense_and_only_the_owner_manages_the_group(stack):
    await start(stack)
    group = await group_of(stack, "ada", "bob", "cyd")
    gid = group["id"]
    ada, bob, cyd = client(stack, "ada"), client(stack, "bob"), client(stack, "cyd")
    url = f"{GROUPS}/{gid}/expenses/" + (await bob.post(f"{GROUPS}/{gid}/expenses", json={
        "amount": "30.00", "description": "Pizza"})).json()["id"]
    # cyd is a member (she sees it) but neither added it nor owns the group: 403.
    assert (await cyd.get(url)).status_code == 200
    for method, body in (("PATCH", {"description": "Mine now"}), ("DELETE", None)):
        r = await cyd.request(method, url, json=body)
        assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json", r.text
    assert (await bob.patch(url, json={"description": "Pizza night"})).json()["description"] == "Pizza night"
    assert (await ada.patch(url, json={"payer_id": "cyd"})).json()["payer_id"] == "cyd"  # the owner may
    assert nets((await ada.get(f"{GROUPS}/{gid}/balances")).json()) == {
        "ada": "-10.00", "bob": "-10.00", "cyd": "20.00"}

    # Managing the group is the owner's: rename and new invite code (403 for members).
    assert (await bob.patch(f"{GROUPS}/{gid}", json={"name": "Bob's"})).status_code == 403
    assert (await bob.post(f"{GROUPS}/{gid}/invite-code")).status_code == 403
    assert (await bob.delete(f"{GROUPS}/{gid}/members/cyd")).status_code == 403
    r = await ada.patch(f"{GROUPS}/{gid}", json={"name": "Flat 3B"})
    assert r.status_code == 200 and r.json()["name"] == "Flat 3B"

    # A new invite code: the old one stops working at once, the new one lets people in.
    old_code = group["invite_code"]
    assert len(old_code) >= 22  # ≥ 128 bits, URL-safe base64
    new_code = (await ada.post(f"{GROUPS}/{gid}/invite-code")).json()["invite_code"]
    assert new_code != old_code and len(new_code) >= 22
    dan = client(stack, "dan")
    assert (await dan.post(f"{GROUPS}/join", json={"invite_code": old_code})).status_code == 404
    joined = await dan.post(f"{GROUPS}/join", json={"invite_code": new_code})
    assert joined.status_code == 200 and [m["user_id"] for m in joined.json()["members"]][-1] == "dan"
    again = await dan.post(f"{GROUPS}/join", json={"invite_code": new_code})  # joining twice changes nothing
    assert len(again.json()["members"]) == 4
    assert (await bob.get(f"{GROUPS}/{gid}")).json()["invite_code"] == new_code  # members may invite

    # The owner removes a settled member; the removed member no longer sees the group.
    assert (await ada.delete(f"{GROUPS}/{gid}/members/dan")).status_code == 204
    assert (await dan.get(f"{GROUPS}/{gid}")).status_code == 404
    assert (await ada.delete(f"{GROUPS}/{gid}/members/dan")).status_code == 404

    # Bad input names the field: a payer or participant outside the group, impossible splits, odd amounts.
    expenses = f"{GROUPS}/{gid}/expenses"
    for body, field in [
        ({"payer_id": "dan"}, "payer_id"),
        ({"split_mode": "equal", "participants": [{"user_id": "ada"}, {"user_id": "zed"}]}, "participants.1.user_id"),
        ({"split_mode": "percent", "participants": [{"user_id": "ada", "value": "60"},
                                                    {"user_id": "bob", "value": "30"}]}, "participants"),
        ({"split_mode": "exact"}, "participants"),
        ({"amount": "10.001"}, "amount"), ({"amount": 10.5}, "amount"), ({"amount": "0"}, "amount"),
        ({"description": ""}, "description"), ({"category": "no such"}, "category"), ({"surprise": 1}, "surprise"),
    ]:
        r = await bob.post(expenses, json={"amount": "10.00", "description": "x", **body})
        assert r.status_code == 422 and field in [e["field"] for e in r.json()["errors"]], (body, r.text)
    for body in ({"name": ""}, {"name": "ok", "currency": "XYZ"}, {"currency": "EUR"}):
        assert (await ada.post(GROUPS, json=body)).status_code == 422, body


async def test_a_deleted_account_leaves_its_groups_and_the_owner_role_passes_on(stack):
    await start(stack)
    group = await group_of(stack, "ada", "bob", "cyd", "dan")
    gid = group["id"]
    bob, dan = client(stack, "bob"), client(stack, "dan")
    await client(stack, "ada").post(f"{GROUPS}/{gid}/expenses", json={"amount": "120.00", "description": "Rent"})
    # dan pays ada his 30.00 and leaves, then deletes his account as well.
    await dan.post(f"{GROUPS}/{gid}/settlements", json={"from_user": "dan", "to_user": "ada", "amount": "30.00"})
    assert (await dan.post(f"{GROUPS}/{gid}/leave")).status_code == 204
    await publish_event(stack, UserDeleted(user_id="dan"), user_id="dan")

    await publish_event(stack, UserDeleted(user_id="ada"), user_id="ada")

    async def ada_gone() -> bool:
        found = await db(stack)["groups"].find_one({"_id": ObjectId(gid)})
        return all(m["user_id"] != "ada" for m in found["members"]) and \
            {(f["user_id"], f["reason"]) for f in found["former_members"]} == {("ada", "deleted"), ("dan", "deleted")}

    await wait_until(ada_gone, message="ada's membership ended")
    view = (await bob.get(f"{GROUPS}/{gid}")).json()
    assert view["owner_id"] == "bob" and [m["user_id"] for m in view["members"]] == ["bob", "cyd"]
    # The shared history stays: ada is still owed, shown as a deleted user, and can still be squared.
    sheet = (await bob.get(f"{GROUPS}/{gid}/balances")).json()
    assert [(b["user_id"], b["name"], b["is_member"], b["departed"], b["net"]) for b in sheet["balances"]] == [
        ("bob", "user bob", True, None, "-30.00"), ("cyd", "user cyd", True, None, "-30.00"),
        ("ada", "deleted user", False, "deleted", "60.00")]
    assert (await bob.get(f"{GROUPS}/{gid}/expenses")).json()["items"][0]["payer_name"] == "deleted user"
    assert (await db(stack)["transactions"].count_documents({"user_id": "ada"})) == 0
    # Nobody may move a former member's balance further, only square it.
    assert (await bob.post(f"{GROUPS}/{gid}/settlements", json={"from_user": "bob", "to_user": "ada",
                                                                "amount": "61.00"})).status_code == 409
    [expense] = (await bob.get(f"{GROUPS}/{gid}/expenses")).json()["items"]
    assert (await bob.delete(f"{GROUPS}/{gid}/expenses/{expense['id']}")).status_code == 409  # bob owns it now
    r = await bob.patch(f"{GROUPS}/{gid}/expenses/{expense['id']}", json={"description": "Rent (May)"})
    assert r.status_code == 200  # a change that moves nobody's balance is fine
    assert (await bob.post(f"{GROUPS}/{gid}/settlements", json={"from_user": "bob", "to_user": "ada",
                                                                "amount": "30.00"})).status_code == 201
    assert (await bob.get(EXPENSES)).json()["items"][0]["description"] == "Rent (May)"
    # The erased accounts' shares are not written again by the edit.
    assert await db(stack)["transactions"].count_documents({"user_id": {"$in": ["ada", "dan"]}}) == 0


async def test_concurrent_expenses_and_a_leave_never_lose_a_share(stack):
    await start(stack)
    group = await group_of(stack, "ada", "bob")
    gid = group["id"]
    ada, bob = client(stack, "ada"), client(stack, "bob")
    # Ten expenses at once by both members, while bob (settled now) tries to leave: every write is serialised on
    # the group, so the balances add up, and bob either left before any share of his or is still in with them.
    posts = [api.post(f"{GROUPS}/{gid}/expenses", json={"amount": "1.00", "description": f"e{i}"})
             for i, api in enumerate([ada, bob] * 5)]
    results = await asyncio.gather(*posts, bob.post(f"{GROUPS}/{gid}/leave"))
    leave = results[-1]
    assert {r.status_code for r in results[:-1]} <= {201, 404}, [r.text for r in results]
    sheet = (await ada.get(f"{GROUPS}/{gid}/balances")).json()
    recorded = (await ada.get(f"{GROUPS}/{gid}/expenses", params={"limit": 100})).json()["total"]
    assert recorded == sum(r.status_code == 201 for r in results[:-1]) >= 5  # ada's five at least
    assert sum(Decimal(b["paid"]) for b in sheet["balances"]) == recorded  # no lost update of the balances
    assert sum(Decimal(b["net"]) for b in sheet["balances"]) == 0
    if leave.status_code == 204:
        assert nets(sheet).get("bob", "0.00") == "0.00"
    else:
        assert leave.status_code == 409
