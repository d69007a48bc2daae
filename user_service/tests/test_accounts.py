"""Registration, sign-in and the profile, over real HTTP against a running user_service."""

from user_service.tests.conftest import PASSWORD, login, register


async def test_register_then_login_then_read_my_profile(api):
    user = await register(api, "Ada@Example.com", name="Ada", default_currency="usd", timezone="Europe/Berlin")
    assert user["email"] == "ada@example.com"
    assert user["default_currency"] == "USD"
    assert "password_hash" not in user and "password" not in user

    tokens = await login(api, "ADA@example.com")
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 900
    me = await api.get("/api/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200
    assert me.json()["id"] == user["id"]
    assert me.json()["name"] == "Ada" and me.json()["timezone"] == "Europe/Berlin"
    assert PASSWORD
