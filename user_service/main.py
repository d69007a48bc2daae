"""user_service: accounts, sign-in and the signing keys. Run with `uvicorn --factory user_service.main:create_app`."""

from fastapi import FastAPI

from shared.app import create_service_app
from shared.auth import TokenVerifier
from shared.runtime import Runtime
from user_service.context import EXTRAS_KEY, UserServiceParts
from user_service.keys import KeyRing
from user_service.models import MODELS
from user_service.passwords import PasswordHasher
from user_service.routes import auth_router, jwks_router, users_router
from user_service.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    keys = KeyRing.from_settings(settings)
    hasher = PasswordHasher(settings)
    # Its own tokens are verified against its own key ring, never over HTTP (and never a JWT_PUBLIC_KEY).
    verifier = TokenVerifier(settings.model_copy(update={"jwt_public_key": None}), static_keys=keys.public_keys())

    async def prepare(runtime: Runtime) -> None:
        runtime.extras[EXTRAS_KEY] = UserServiceParts(runtime=runtime, settings=settings, keys=keys, hasher=hasher)
        await hasher.prepare()

    return create_service_app(settings, title="User service", routers=[auth_router, users_router, jwks_router],
                              models=MODELS, on_start=[prepare], verifier=verifier)
