"""HTTP handlers of "Contacter la structure" (recipients, captcha, threads) and of the news."""

from __future__ import annotations

import time

from aiohttp import web
from redis.exceptions import RedisError

from services.kit.app import REDIS
from services.kit.bodies import json_response, read_json, read_query
from services.kit.identity import caller, require_family, require_staff
from services.kit.keys import DATABASE, HTTP_CLIENT
from services.kit.openapi import operation
from services.kit.problems import ServiceUnavailable, TooManyRequests

from . import contact, news
from .captcha import Captcha
from .family_names import names_of_callers_families
from .keys import NOTIFICATIONS_SETTINGS
from .models import ContactMessage, ContactPost, ContactRecipient
from .schemas import (
    ChallengeRead,
    ContactMessageCreate,
    MessagePage,
    MessageQuery,
    MessageSummary,
    NewsList,
    NewsRead,
    NewsWrite,
    PostRead,
    RecipientList,
    RecipientRead,
    RecipientStaffRead,
    RecipientWrite,
    ReplyCreate,
    ThreadRead,
)
from .views import PAGE_QUERY, family_of

routes = web.RouteTableDef()
HOUR = 3600


def client_ip(request: web.Request) -> str:
    """The gateway's last X-Forwarded-For hop (it overwrites the header), else the peer."""
    hops = ",".join(request.headers.getall("X-Forwarded-For", [])).split(",")
    last = hops[-1].strip() if hops else ""
    return (last or request.remote or "unknown")[:64]


async def within_limit(request: web.Request, key: str, limit: int) -> None:
    """Count one attempt in this hour's window; 429 with `Retry-After` over `limit`."""
    redis = request.app[REDIS]
    window = int(time.time()) // HOUR
    name = f"notifications:contact:{key}:{window}"
    try:
        count = await redis.incr(name)
        if count == 1:
            await redis.expire(name, HOUR)
    except RedisError:
        # Fail closed, like the gateway's contact bucket: unmetered, the form is a spam relay.
        raise ServiceUnavailable(
            "Sending messages is unavailable; try again shortly.", headers={"Retry-After": "5"}
        ) from None
    if count > limit:
        retry = HOUR - int(time.time()) % HOUR
        raise TooManyRequests(
            "Too many messages; try again later.", headers={"Retry-After": str(retry)}
        )


def captcha_of(request: web.Request) -> Captcha:
    """The captcha with this app's settings and Redis."""
    return Captcha(request.app[NOTIFICATIONS_SETTINGS], request.app[REDIS])


def summary(message: ContactMessage, recipient_name: str) -> MessageSummary:
    """A thread's list entry."""
    return MessageSummary(
        id=message.id,
        family_id=message.family_id,
        recipient_id=message.recipient_id,
        recipient_name=recipient_name,
        subject=message.subject,
        state=message.state,
        created_at=message.created_at,
        last_activity_at=message.last_activity_at,
    )


def thread(
    message: ContactMessage, recipient: ContactRecipient, posts: list[ContactPost]
) -> ThreadRead:
    """A thread with its posts."""
    return ThreadRead(
        **summary(message, recipient.name).model_dump(),
        posts=[PostRead.model_validate(p) for p in posts],
    )


# --- recipients and captcha ---------------------------------------------------------------


@routes.get("/contact-recipients")
@operation(
    "Who families may write to (names; staff also get addresses and inactive ones)",
    tags=("contact",),
    response=RecipientList,
    errors=(401,),
    query={"all": "boolean"},
)
async def read_recipients(request: web.Request) -> web.Response:
    """GET /contact-recipients: the form's choices; `?all=true` for staff's settings page."""
    identity = caller(request)
    staff = identity.role == "staff"
    async with request.app[DATABASE].sessions() as session:
        rows = await contact.list_recipients(
            session, include_inactive=staff and request.query.get("all") == "true"
        )
    items: list[RecipientStaffRead] | list[RecipientRead]
    if staff:
        items = [RecipientStaffRead.model_validate(r) for r in rows]
    else:
        items = [RecipientRead.model_validate(r) for r in rows]
    return json_response(RecipientList(items=items))


@routes.post("/contact-recipients")
@operation(
    "Add a recipient (staff)",
    tags=("contact",),
    request=RecipientWrite,
    response=RecipientStaffRead,
    status=201,
    errors=(403, 422),
)
async def create_recipient(request: web.Request) -> web.Response:
    """POST /contact-recipients."""
    require_staff(request)
    data = await read_json(request, RecipientWrite)
    async with request.app[DATABASE].transaction() as session:
        row = await contact.save_recipient(session, recipient_id=None, **data.model_dump())
        body = RecipientStaffRead.model_validate(row)
    return json_response(body, status=201)


@routes.put("/contact-recipients/{recipient_id}")
@operation(
    "Change a recipient (staff)",
    tags=("contact",),
    request=RecipientWrite,
    response=RecipientStaffRead,
    errors=(403, 404, 422),
)
async def update_recipient(request: web.Request) -> web.Response:
    """PUT /contact-recipients/{id}: name, address, active, position."""
    require_staff(request)
    data = await read_json(request, RecipientWrite)
    async with request.app[DATABASE].transaction() as session:
        row = await contact.save_recipient(
            session, recipient_id=request.match_info["recipient_id"][:36], **data.model_dump()
        )
        body = RecipientStaffRead.model_validate(row)
    return json_response(body)


@routes.get("/contact/challenge")
@operation(
    "A captcha challenge for the contact form (single use, expires)",
    tags=("contact",),
    response=ChallengeRead,
    errors=(401,),
)
async def read_challenge(request: web.Request) -> web.Response:
    """GET /contact/challenge: solved in the browser, sent back with the message."""
    caller(request)
    return json_response(ChallengeRead(**captcha_of(request).challenge()))


# --- threads ------------------------------------------------------------------------------


@routes.post("/families/{family_id}/contact-messages")
@operation(
    "Send a message to the structure (captcha, per-account and per-IP limits)",
    tags=("contact",),
    request=ContactMessageCreate,
    response=ThreadRead,
    status=201,
    errors=(404, 422, 429, 503),
)
async def create_message(request: web.Request) -> web.Response:
    """POST: checked in order — sizes, limits, recipient, captcha — then stored; nothing is
    sent unless every check passed (the e-mails are rows of the same transaction)."""
    family_id = family_of(request)
    identity = caller(request)
    settings = request.app[NOTIFICATIONS_SETTINGS]
    data = await read_json(request, ContactMessageCreate)
    contact.check_sizes(settings, subject=data.subject, body=data.body)
    await within_limit(
        request, f"account:{identity.subject}", settings.contact_per_account_per_hour
    )
    await within_limit(request, f"ip:{client_ip(request)}", settings.contact_per_ip_per_hour)
    async with request.app[DATABASE].sessions() as session:
        await contact.active_recipient(session, data.recipient_id)
    await captcha_of(request).verify(data.captcha, http=request.app[HTTP_CLIENT])
    # Asked before the transaction: no database connection waits on the families service.
    family_name = (await names_of_callers_families(request)).get(family_id)
    async with request.app[DATABASE].transaction() as session:
        recipient = await contact.active_recipient(session, data.recipient_id)
        message = await contact.create_message(
            session,
            settings,
            family_id=family_id,
            account_id=identity.subject,
            recipient=recipient,
            subject=data.subject,
            body=data.body,
            family_name=family_name,
        )
        _, _, posts = await contact.get_thread(session, message.id, family_ids=None)
        body = thread(message, recipient, posts)
    return json_response(body, status=201)


@routes.get("/families/{family_id}/contact-messages")
@operation(
    "A family's threads, newest activity first",
    tags=("contact",),
    response=MessagePage,
    errors=(404, 422),
    query=PAGE_QUERY,
)
async def read_family_messages(request: web.Request) -> web.Response:
    """GET: the threads of "Contacter la structure"."""
    family_id = family_of(request)
    query = read_query(request, MessageQuery)
    async with request.app[DATABASE].sessions() as session:
        rows, total = await contact.list_messages(
            session, family_id=family_id, state=query.state, page=query.page,
            page_size=query.page_size,
        )  # fmt: skip
    return json_response(
        MessagePage(
            items=[summary(m, name) for m, name in rows],
            page=query.page,
            page_size=query.page_size,
            total=total,
        )
    )


@routes.get("/contact-messages")
@operation(
    "Staff's inbox: every thread, newest activity first",
    tags=("contact",),
    response=MessagePage,
    errors=(403, 422),
    query={**PAGE_QUERY, "state": "string"},
)
async def read_inbox(request: web.Request) -> web.Response:
    """GET /contact-messages?state=open: the threads waiting for staff."""
    require_staff(request)
    query = read_query(request, MessageQuery)
    async with request.app[DATABASE].sessions() as session:
        rows, total = await contact.list_messages(
            session, family_id=None, state=query.state, page=query.page,
            page_size=query.page_size,
        )  # fmt: skip
    return json_response(
        MessagePage(
            items=[summary(m, name) for m, name in rows],
            page=query.page,
            page_size=query.page_size,
            total=total,
        )
    )


def _family_ids_of(request: web.Request) -> frozenset[str] | None:
    identity = caller(request)
    return None if identity.role == "staff" else identity.family_ids


@routes.get("/contact-messages/{message_id}")
@operation(
    "A thread and its posts (the family's own, or any for staff)",
    tags=("contact",),
    response=ThreadRead,
    errors=(401, 404),
)
async def read_thread(request: web.Request) -> web.Response:
    """GET /contact-messages/{id}: another family's thread answers 404, like a missing one."""
    family_ids = _family_ids_of(request)
    async with request.app[DATABASE].sessions() as session:
        message, recipient, posts = await contact.get_thread(
            session, request.match_info["message_id"], family_ids=family_ids
        )
    return json_response(thread(message, recipient, posts))


@routes.post("/contact-messages/{message_id}/replies")
@operation(
    "Reply in a thread: staff's reply reaches the family by e-mail and in the portal",
    tags=("contact",),
    request=ReplyCreate,
    response=ThreadRead,
    status=201,
    errors=(401, 404, 422),
)
async def create_reply(request: web.Request) -> web.Response:
    """POST /contact-messages/{id}/replies."""
    identity = caller(request)
    family_ids = _family_ids_of(request)
    settings = request.app[NOTIFICATIONS_SETTINGS]
    data = await read_json(request, ReplyCreate)
    contact.check_sizes(settings, subject=None, body=data.body)
    # A parent's reply names the family to the recipient; staff's goes to the family itself.
    family_names = await names_of_callers_families(request)
    async with request.app[DATABASE].transaction() as session:
        message, recipient, _ = await contact.get_thread(
            session, request.match_info["message_id"], family_ids=family_ids
        )
        if identity.role != "staff":
            require_family(request, message.family_id)
        await contact.reply(
            session,
            settings,
            message=message,
            recipient=recipient,
            role="staff" if identity.role == "staff" else "family",
            author_id=identity.subject,
            body=data.body,
            family_name=family_names.get(message.family_id),
        )
        message, recipient, posts = await contact.get_thread(session, message.id, family_ids=None)
        body = thread(message, recipient, posts)
    return json_response(body, status=201)


# --- news ---------------------------------------------------------------------------------


@routes.get("/news")
@operation("Every news, newest first (staff)", tags=("news",), response=NewsList, errors=(403,))
async def read_news(request: web.Request) -> web.Response:
    """GET /news: what staff published, current or not."""
    require_staff(request)
    async with request.app[DATABASE].sessions() as session:
        rows = await news.list_all(session)
    return json_response(NewsList(items=[NewsRead.model_validate(n) for n in rows]))


@routes.post("/news")
@operation(
    "Publish a news (staff)",
    tags=("news",),
    request=NewsWrite,
    response=NewsRead,
    status=201,
    errors=(403, 422),
)
async def create_news(request: web.Request) -> web.Response:
    """POST /news: shown on the dashboard between `visible_from` and `visible_until`."""
    identity = require_staff(request)
    data = await read_json(request, NewsWrite)
    async with request.app[DATABASE].transaction() as session:
        row = await news.save(session, news_id=None, author=identity.subject, **data.model_dump())
        body = NewsRead.model_validate(row)
    return json_response(body, status=201)


@routes.put("/news/{news_id}")
@operation(
    "Change a news (staff)",
    tags=("news",),
    request=NewsWrite,
    response=NewsRead,
    errors=(403, 404, 422),
)
async def update_news(request: web.Request) -> web.Response:
    """PUT /news/{id}."""
    identity = require_staff(request)
    data = await read_json(request, NewsWrite)
    async with request.app[DATABASE].transaction() as session:
        row = await news.save(
            session,
            news_id=request.match_info["news_id"],
            author=identity.subject,
            **data.model_dump(),
        )
        body = NewsRead.model_validate(row)
    return json_response(body)


@routes.delete("/news/{news_id}")
@operation("Withdraw a news (staff)", tags=("news",), status=204, errors=(403, 404))
async def delete_news(request: web.Request) -> web.Response:
    """DELETE /news/{id}."""
    require_staff(request)
    async with request.app[DATABASE].transaction() as session:
        await news.delete(session, request.match_info["news_id"])
    return web.Response(status=204)
