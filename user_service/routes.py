"""Thin HTTP handlers: parse, call the domain functions, answer with the public schema."""

import json
from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from shared.auth import CurrentUser
from shared.errors import Problem
from user_service import service, service_tokens
from user_service.context import Parts
from user_service.schemas import (
    ChangePasswordRequest,
    DeleteAccountRequest,
    ForgotPasswordAccepted,
    ForgotPasswordRequest,
    LoginRequest,
    ProfileUpdate,
    RefreshRequest,
    RegisterRequest,
    ResetPasswordRequest,
    TokenPair,
    UserPublic,
)

auth_router = APIRouter(prefix="/api/auth", tags=["auth"])
users_router = APIRouter(prefix="/api/users", tags=["users"])
jwks_router = APIRouter(tags=["auth"])

# OAuth2's password grant form (RFC 6749 §4.3.2). Not multipart: the gateway's per-email login limit reads JSON and
# this form only, so a multipart login would slip past it.
FORM_TYPES = ("application/x-www-form-urlencoded",)
NO_STORE = {"Cache-Control": "no-store"}  # token responses must never be cached (RFC 6749 §5.1)

_LOGIN_FORM_SCHEMA = {
    "type": "object", "required": ["username", "password"],
    "properties": {"username": {"type": "string", "description": "the account's email"},
                   "password": {"type": "string", "format": "password"},
                   "grant_type": {"type": "string", "enum": ["password"]}},
}
LOGIN_OPENAPI = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": LoginRequest.model_json_schema()},
    "application/x-www-form-urlencoded": {"schema": _LOGIN_FORM_SCHEMA},
}}}


@auth_router.post("/register", status_code=status.HTTP_201_CREATED, summary="Create an account")
async def register(data: RegisterRequest, parts: Parts) -> UserPublic:
    return service.public(await service.register(parts=parts, data=data))


async def _login_credentials(request: Request) -> LoginRequest:
    """JSON {email, password}, or the OAuth2 password form (username, password) that /docs sends."""
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if content_type in FORM_TYPES:
        form = await request.form(max_files=0, max_fields=10)
        raw: Any = {"email": form.get("username"), "password": form.get("password")}
        try:
            return LoginRequest.model_validate({k: v for k, v in raw.items() if v is not None})
        except ValidationError as exc:
            renamed = [{**e, "loc": ("body", "username" if e["loc"][0] == "email" else e["loc"][0])}
                       for e in exc.errors(include_url=False)]
            raise RequestValidationError(renamed) from None
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise Problem(415, "send JSON {email, password} or the form username=...&password=...")
    body = await request.body()
    try:
        return LoginRequest.model_validate_json(body)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])}
                                      for e in exc.errors(include_url=False)]) from None


@auth_router.post("/login", summary="Sign in: an access token and a refresh token", response_model=TokenPair,
                  openapi_extra=LOGIN_OPENAPI)
async def login(request: Request, parts: Parts) -> JSONResponse:
    credentials = await _login_credentials(request)
    tokens = await service_tokens.login(parts=parts, email=credentials.email, password=credentials.password)
    return JSONResponse(tokens.model_dump(mode="json"), headers=NO_STORE)


@auth_router.post("/refresh", summary="Rotate a refresh token", response_model=TokenPair)
async def refresh(data: RefreshRequest, parts: Parts) -> JSONResponse:
    tokens = await service_tokens.refresh(parts=parts, refresh_token=data.refresh_token)
    return JSONResponse(tokens.model_dump(mode="json"), headers=NO_STORE)


@auth_router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke this sign-in")
async def logout(data: RefreshRequest) -> Response:
    await service_tokens.logout(refresh_token=data.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@auth_router.post("/password/forgot", status_code=status.HTTP_202_ACCEPTED,
                  summary="Email a password-reset token (same answer whether or not the account exists)")
async def forgot_password(data: ForgotPasswordRequest, parts: Parts) -> ForgotPasswordAccepted:
    await service_tokens.request_password_reset(parts=parts, email=data.email)
    return ForgotPasswordAccepted()


@auth_router.post("/password/reset", status_code=status.HTTP_204_NO_CONTENT,
                  summary="Set a new password with a reset token (once); signs out every session")
async def reset_password(data: ResetPasswordRequest, parts: Parts) -> Response:
    await service_tokens.reset_password(parts=parts, token=data.token, new_password=data.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@users_router.get("/me", summary="My profile")
async def get_me(user: CurrentUser) -> UserPublic:
    return service.public(await service.get_account(user_id=user.id))


@users_router.patch("/me", summary="Change my profile (only the fields sent)")
async def update_me(changes: ProfileUpdate, user: CurrentUser, parts: Parts) -> UserPublic:
    return service.public(await service.update_profile(parts=parts, user_id=user.id, changes=changes))


@users_router.put("/me/password", status_code=status.HTTP_204_NO_CONTENT,
                  summary="Change my password; signs out every session")
async def change_password(data: ChangePasswordRequest, user: CurrentUser, parts: Parts) -> Response:
    await service.change_password(parts=parts, user_id=user.id, current_password=data.current_password,
                                  new_password=data.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@users_router.delete("/me", status_code=status.HTTP_204_NO_CONTENT,
                     summary="Delete my account (the current password in the body confirms it)")
async def delete_me(data: DeleteAccountRequest, user: CurrentUser, parts: Parts) -> Response:
    await service.delete_account(parts=parts, user_id=user.id, current_password=data.current_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@jwks_router.get("/.well-known/jwks.json", summary="Public keys that verify access tokens")
async def jwks(parts: Parts) -> Response:
    body = json.dumps(parts.keys.jwks())
    return Response(body, media_type="application/json", headers={"Cache-Control": "public, max-age=300"})
