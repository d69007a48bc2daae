"""Registration, sign-in, the profile, password change and account deletion, over real HTTP."""

import asyncio

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from user_service.tests.conftest import PASSWORD, login, register, sign_up


async def test_register_then_login_then_read_my_profile(api):
    user = await register(api, "Ada@Example.com", name="Ada", default_currency="usd", timezone="Europe/Berlin")
    assert user["email"] == "ada@example.com"
    assert user["default_currency"] == "USD"
    assert not {"password", "password_hash"} & set(user)

    tokens = await login(api, "  ADA@example.com ")
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 900 and tokens["refresh_token"]
    me = await api.get("/api/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200
    assert me.json() | {"created_at": None, "updated_at": None} == {
        "id": user["id"], "email": "ada@example.com", "name": "Ada", "default_currency": "USD",
        "timezone": "Europe/Berlin", "monthly_income": None, "created_at": None, "updated_at": None}


async def test_the_docs_oauth2_password_form_signs_in_at_the_same_path(api):
    await register(api, "form@example.com")
    response = await api.post("/api/auth/login", data={"grant_type": "password", "username": "form@example.com",
                                                       "password": PASSWORD, "scope": ""})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    token = response.json()["access_token"]
    assert (await api.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})).status_code == 200


async def test_an_email_is_registered_once_whatever_its_case_even_at_the_same_moment(api):
    first, second = await asyncio.gather(
        api.post("/api/auth/register", json={"email": "bob@example.com", "password": PASSWORD}),
        api.post("/api/auth/register", json={"email": "BOB@EXAMPLE.COM", "password": PASSWORD}))
    assert sorted([first.status_code, second.status_code]) == [201, 409]
    again = await api.post("/api/auth/register", json={"email": " Bob@Example.com", "password": PASSWORD})
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


async def test_weak_passwords_are_refused_naming_the_field(api):
    cases = {
        "short-pw1": "at least 10 characters",
        "Password123": "commonly used",  # in the list as password123: checked case-insensitively
        "QWERTYUIOP": "commonly used",
        "carol.smith@example.com": "email",
    }
    for password, why in cases.items():
        response = await api.post("/api/auth/register", json={"email": "carol.smith@example.com",
                                                               "password": password})
        assert response.status_code == 422, password
        body = response.json()
        assert body["errors"][0]["field"] == "password" and why in body["errors"][0]["message"], body
    assert (await api.post("/api/auth/login", json={"email": "carol.smith@example.com",
                                                    "password": "Password123"})).status_code == 401


async def test_profile_changes_are_saved_and_announced(api, stack):
    account = await sign_up(api, "dora@example.com", name="Dora")
    spy = await stack.spy("user.profile_updated")
    response = await api.patch("/api/users/me", headers=account.auth, json={
        "name": "Dora D.", "default_currency": "gbp", "timezone": "America/New_York", "monthly_income": "2500.5"})
    assert response.status_code == 200, response.text
    profile = response.json()
    assert (profile["name"], profile["default_currency"], profile["timezone"], profile["monthly_income"]) == (
        "Dora D.", "GBP", "America/New_York", "2500.5")
    assert (await api.get("/api/users/me", headers=account.auth)).json() == profile

    [event] = await spy.wait_for("user.profile_updated")
    assert event["user_id"] == account.user_id
    assert event["data"] == {"user_id": account.user_id, "email": "dora@example.com", "name": "Dora D.",
                             "default_currency": "GBP", "timezone": "America/New_York", "monthly_income": "2500.5"}

    cleared = await api.patch("/api/users/me", headers=account.auth, json={"monthly_income": None})
    assert cleared.json()["monthly_income"] is None


async def test_profile_values_are_validated(api):
    account = await sign_up(api, "eve@example.com")
    bad = {
        "monthly_income": {"monthly_income": "-1"},
        "timezone": {"timezone": "Mars/Olympus_Mons"},
        "default_currency": {"default_currency": "ABC"},
        "name": {"name": None},
    }
    for field, body in bad.items():
        response = await api.patch("/api/users/me", headers=account.auth, json=body)
        assert response.status_code == 422 and response.json()["errors"][0]["field"] == field, response.text
    # An income must fit the minor unit of the default currency, also when the currency changes.
    too_precise = await api.patch("/api/users/me", headers=account.auth, json={"monthly_income": "10.005"})
    assert too_precise.status_code == 422 and too_precise.json()["errors"][0]["field"] == "monthly_income"
    assert (await api.patch("/api/users/me", headers=account.auth,
                            json={"monthly_income": "3000.50"})).status_code == 200
    to_yen = await api.patch("/api/users/me", headers=account.auth, json={"default_currency": "JPY"})
    assert to_yen.status_code == 422 and to_yen.json()["errors"][0]["field"] == "monthly_income"
    me = (await api.get("/api/users/me", headers=account.auth)).json()
    assert (me["default_currency"], me["monthly_income"]) == ("EUR", "3000.50")


async def test_changing_the_password_needs_the_current_one_and_signs_out_every_session(api):
    account = await sign_up(api, "fay@example.com")
    new_password = "violet-harbour-engine-7"
    wrong = await api.put("/api/users/me/password", headers=account.auth,
                          json={"current_password": "not-my-password-1", "new_password": new_password})
    assert wrong.status_code == 403 and wrong.json()["errors"][0]["field"] == "current_password"
    missing = await api.put("/api/users/me/password", headers=account.auth, json={"new_password": new_password})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "current_password"

    changed = await api.put("/api/users/me/password", headers=account.auth,
                            json={"current_password": PASSWORD, "new_password": new_password})
    assert changed.status_code == 204
    assert (await api.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})).status_code == 401
    assert (await api.post("/api/auth/login", json={"email": account.email, "password": PASSWORD})).status_code == 401
    await login(api, account.email, new_password)


async def test_deleting_the_account_needs_the_password_erases_it_and_announces_it(api, stack):
    account = await sign_up(api, "gus@example.com")
    spy = await stack.spy("user.deleted")
    wrong = await api.request("DELETE", "/api/users/me", headers=account.auth,
                              json={"current_password": "not-my-password-1"})
    assert wrong.status_code == 403
    deleted = await api.request("DELETE", "/api/users/me", headers=account.auth,
                                json={"current_password": PASSWORD})
    assert deleted.status_code == 204
    [event] = await spy.wait_for("user.deleted")
    assert event["data"] == {"user_id": account.user_id} and event["user_id"] == account.user_id

    assert (await api.get("/api/users/me", headers=account.auth)).status_code == 401
    assert (await api.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})).status_code == 401
    assert (await api.post("/api/auth/login", json={"email": account.email, "password": PASSWORD})).status_code == 401
    again = await register(api, account.email)  # the address is free again, for a new account
    assert again["id"] != account.user_id


async def test_an_outdated_password_hash_is_upgraded_at_the_next_login(api, stack):
    account = await sign_up(api, "hal@example.com")
    users = stack.runtime("user_service").database.db["users"]
    cheap = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8192, parallelism=1),)).hash(PASSWORD)
    await users.update_one({"email": account.email}, {"$set": {"password_hash": cheap}})

    await login(api, account.email)
    stored = (await users.find_one({"email": account.email}))["password_hash"]
    assert stored.startswith("$argon2id$") and "m=65536,t=3,p=4" in stored
    await login(api, account.email)  # and the upgraded hash still verifies


async def test_openapi_documents_login_as_json_and_as_the_oauth2_form(api):
    spec = (await api.get("/openapi.json")).json()
    login_body = spec["paths"]["/api/auth/login"]["post"]["requestBody"]["content"]
    assert {"application/json", "application/x-www-form-urlencoded"} <= set(login_body)
    [scheme] = spec["components"]["securitySchemes"].values()
    assert scheme["flows"]["password"]["tokenUrl"] == "/api/auth/login"
