"""user_service: what signed-in clients do most — read the profile, rotate the refresh token, fetch the JWKS —
plus profile edits and the occasional fresh sign-in (Argon2: deliberately expensive)."""

import random
import time

from locust import task

from load.base import ApiUser

TIMEZONES = ("UTC", "Europe/Berlin", "Europe/Lisbon", "America/New_York", "Asia/Tokyo")


class AccountUser(ApiUser):
    @task(10)
    def my_profile(self) -> None:
        self.get("/api/users/me", name="/api/users/me")

    @task(2)
    def edit_profile(self) -> None:
        self.send("PATCH", "/api/users/me", name="/api/users/me", json={
            "timezone": random.choice(TIMEZONES), "monthly_income": f"{random.randint(1800, 5200)}.00"})

    @task(3)
    def rotate_refresh_token(self) -> None:
        response = self.client.post("/api/auth/refresh", json={"refresh_token": self.account.refresh_token},
                                    name="/api/auth/refresh")
        if response.status_code == 200:
            tokens = response.json()
            self.account.access_token, self.account.refresh_token = tokens["access_token"], tokens["refresh_token"]
            self.account.expires_at = time.time() + tokens["expires_in"]

    @task(3)
    def jwks(self) -> None:
        self.client.get("/.well-known/jwks.json", name="/.well-known/jwks.json")

    @task(1)
    def sign_in(self) -> None:
        response = self.client.post("/api/auth/login", name="/api/auth/login",
                                    json={"email": self.account.email, "password": self.account.password})
        if response.status_code == 200:
            self.client.post("/api/auth/logout", name="/api/auth/logout",
                             json={"refresh_token": response.json()["refresh_token"]})
