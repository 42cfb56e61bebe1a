"""Typed application keys of the notifications service."""

from __future__ import annotations

from aiohttp import web

from .config import NotificationsSettings

NOTIFICATIONS_SETTINGS: web.AppKey[NotificationsSettings] = web.AppKey(
    "notifications_settings", NotificationsSettings
)
