"""What user_service's domain functions work with: the runtime, its settings, the key ring, the hasher."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from shared.runtime import Runtime
from user_service.keys import KeyRing
from user_service.passwords import PasswordHasher
from user_service.settings import Settings


@dataclass(frozen=True)
class UserServiceParts:
    runtime: Runtime
    settings: Settings
    keys: KeyRing
    hasher: PasswordHasher


EXTRAS_KEY = "user_service"


def parts_of(runtime: Runtime) -> UserServiceParts:
    return runtime.extras[EXTRAS_KEY]


def _parts(request: Request) -> UserServiceParts:
    return parts_of(request.app.state.runtime)


Parts = Annotated[UserServiceParts, Depends(_parts)]
