"""HTTP API: in-app notifications, channel preferences, the weekly report preview. Every route is scoped to
the caller from the verified token."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from shared.auth import CurrentUser
from shared.schemas import Pagination

from . import service
from .schemas import (
    MarkedRead,
    NotificationPage,
    NotificationPublic,
    PreferencesPublic,
    PreferencesUpdate,
    UnreadCount,
    WeeklyReport,
    WeeklyReportRequest,
)
from .service_preferences import get_preferences, update_preferences
from .service_reports import build_weekly_report
from .settings import Settings

router = APIRouter(prefix="/api/notifications", tags=["notifications"])


def _settings(request: Request) -> Settings:
    return request.app.state.settings


ServiceSettings = Annotated[Settings, Depends(_settings)]
UnreadFilter = Annotated[bool | None, Query(description="true: only unread; false: only read; absent: all")]


@router.get("", summary="My notifications, newest first")
async def list_notifications(user: CurrentUser, page: Pagination, unread: UnreadFilter = None) -> NotificationPage:
    return await service.list_notifications(user_id=user.id, unread=unread, page=page)


@router.get("/unread-count", summary="How many of my notifications are unread")
async def unread_count(user: CurrentUser) -> UnreadCount:
    return UnreadCount(unread=await service.unread_count(user_id=user.id))


@router.post("/read-all", summary="Mark all my notifications read")
async def mark_all_read(user: CurrentUser, settings: ServiceSettings) -> MarkedRead:
    return MarkedRead(updated=await service.mark_all_read(
        user_id=user.id, retention_days=settings.read_notification_retention_days))


@router.get("/preferences", summary="Which channels each notification type uses")
async def read_preferences(user: CurrentUser) -> PreferencesPublic:
    return await get_preferences(user_id=user.id)


@router.put("/preferences", summary="Turn channels on or off per notification type")
async def write_preferences(user: CurrentUser, body: PreferencesUpdate) -> PreferencesPublic:
    return await update_preferences(user_id=user.id, update=body)


@router.post("/reports/weekly/preview", summary="My weekly report, now (default: last week)")
async def preview_weekly_report(user: CurrentUser, settings: ServiceSettings,
                                body: WeeklyReportRequest | None = None) -> WeeklyReport:
    return await build_weekly_report(user_id=user.id, week=body.week if body else None,
                                     top_categories=settings.weekly_report_top_categories)


@router.get("/{notification_id}", summary="One of my notifications")
async def get_notification(user: CurrentUser, notification_id: str) -> NotificationPublic:
    return service.to_public(await service.get_notification(user_id=user.id, notification_id=notification_id))


@router.post("/{notification_id}/read", summary="Mark one of my notifications read")
async def mark_read(user: CurrentUser, notification_id: str, settings: ServiceSettings) -> NotificationPublic:
    return await service.mark_read(user_id=user.id, notification_id=notification_id,
                                   retention_days=settings.read_notification_retention_days)


@router.delete("/{notification_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a notification")
async def delete_notification(user: CurrentUser, notification_id: str) -> Response:
    await service.delete_notification(user_id=user.id, notification_id=notification_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
