"""`portail create-staff`, `invite-family`, `create-api-client`, `rotate-keys`: by hand.

They work on the auth database directly (as `portail migrate` does), so that the first
administrator can exist before any web page does; `invite-family` reads the families
database too, to refuse a family that is none. Next to a dev portal started with
`portail run --port-offset N --var DIR`, the same options point them at that portal (its
databases, and its port in the links they print and e-mail).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from services.auth import clients
from services.auth.config import AuthSettings
from services.auth.errors import FamiliesUnavailable, UnknownFamily
from services.auth.runtime import standalone
from services.auth.schemas import SERVICE_SCOPES, ApiClientCreate, InvitationCreate, StaffCreate
from services.auth.service import invite_family, invite_staff
from services.auth.sessions import activate_with_password
from services.auth.signing import rotate
from services.families.config import FamiliesSettings
from services.families.models import Family
from services.kit.bodies import field_errors
from services.kit.database import Database
from services.kit.problems import Problem
from services.kit.settings import load_settings

from ..registry import ROOT
from .devstack import _port_offset, portal_from_args

ACTOR = "command-line"


def _add_dev_portal_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--var", help="the state folder of the dev portal to act on (`portail run --var`)"
    )
    parser.add_argument(
        "--port-offset",
        type=_port_offset,
        help="the offset of the dev portal to act on (`portail run --port-offset`)",
    )


def _use_dev_portal(args: argparse.Namespace) -> None:
    """Set the environment of the dev portal the options name, before any settings load.

    Only when one is given: without them the environment is the operator's (production).
    """
    var, offset = getattr(args, "var", None), getattr(args, "port_offset", None)
    if var is None and offset is None:
        return
    named = argparse.Namespace(var=var or str(ROOT / "var"), port_offset=offset or 0)
    os.environ.update(portal_from_args(named).environment())


def _read_password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if args.set_password:
        first = getpass.getpass("Mot de passe : ")
        if first != getpass.getpass("Confirmez le mot de passe : "):
            raise SystemExit("Les deux mots de passe diffèrent.")
        return first
    return None


async def _create_staff(args: argparse.Namespace) -> int:
    data = StaffCreate(email=args.email, roles=[args.role])
    password = _read_password(args)
    settings = load_settings(AuthSettings)
    async with standalone(settings) as auth:
        async with auth.database.transaction() as session:
            invitation = await invite_staff(
                auth, session, email=data.email, roles=data.roles, actor=ACTOR
            )
        account = invitation.account
        if password is not None:
            await activate_with_password(auth, account_id=account.id, password=password)
            print(f"{account.email}: compte {args.role} actif ({account.id}).")
            print("À la première connexion, il faudra enrôler une application TOTP.")
        elif invitation.link is not None:
            print(f"{account.email}: invitation {args.role} ({account.id}).")
            until = f"{invitation.link.expires_at:%d/%m/%Y %H:%M}"
            print(f"Lien à usage unique, valable jusqu'au {until} UTC :")
            print(invitation.link.link)
    return 0


async def _invite_family(args: argparse.Namespace) -> int:
    data = InvitationCreate(
        email=args.email, family_id=args.family_id, rights=args.rights.split(",")
    )
    settings = load_settings(AuthSettings)
    await _require_existing_family(data.family_id)
    async with standalone(settings) as auth, auth.database.transaction() as session:
        invitation = await invite_family(
            auth,
            session,
            email=data.email,
            family_id=data.family_id,
            rights=data.rights,
            actor=ACTOR,
        )
    if invitation.link is None:
        print(f"{invitation.account.email}: famille {args.family_id} ajoutée à ce compte.")
    else:
        print(f"{invitation.account.email}: invitation pour la famille {args.family_id}.")
        print(invitation.link.link)
    return 0


async def _require_existing_family(family_id: str) -> None:
    """Refuse an id the families database has no family for (a child's, a made-up one).

    The command runs beside the databases with no token to show the gateway: it reads the
    families service's own database, configured as that service's (`FAMILIES_DATABASE_URL`).
    """
    database = Database(load_settings(FamiliesSettings).database_url, pool_size=1)
    try:
        async with database.reads() as connection:
            found = await connection.scalar(select(Family.id).where(Family.id == family_id))
    except (SQLAlchemyError, OSError) as exc:
        raise FamiliesUnavailable(
            "la base des familles (FAMILIES_DATABASE_URL) ne répond pas, rien n'a été créé :"
            f" {type(exc).__name__}."
        ) from None
    finally:
        await database.dispose()
    if found is None:
        raise UnknownFamily(f"aucune famille n'a l'identifiant {family_id}, rien n'a été créé.")


async def _create_api_client(args: argparse.Namespace) -> int:
    data = ApiClientCreate(name=args.name, scopes=args.scope)
    settings = load_settings(AuthSettings)
    async with standalone(settings) as auth:
        client, secret = await clients.create(auth, name=data.name, scopes=data.scopes, actor=ACTOR)
    print(f"client API « {client.name} » : {', '.join(client.scopes)}")
    print(f"client_id     {client.id}")
    print(f"client_secret {secret}")
    print("Le secret n'est affiché qu'une fois : seule son empreinte est gardée.")
    return 0


async def _rotate_keys(_args: argparse.Namespace) -> int:
    settings = load_settings(AuthSettings)
    async with standalone(settings) as auth:
        row = await rotate(auth.database, auth.sealer, settings, actor=ACTOR)
    print(
        f"nouvelle clé {row.kid} publiée ; elle signe à partir de {row.activates_at:%H:%M:%S} UTC"
    )
    return 0


def _runner(coroutine: Any) -> Any:
    def run(args: argparse.Namespace) -> int:
        _use_dev_portal(args)
        try:
            return int(asyncio.run(coroutine(args)))
        except ValidationError as exc:
            said = "; ".join(f"{e['field']}: {e['message']}" for e in field_errors(exc))
            print(f"refusé : {said}", file=sys.stderr)
            return 1
        except Problem as problem:
            details = "; ".join(e.get("message", "") for e in problem.errors or [])
            print(f"refusé : {problem.detail} {details}".strip(), file=sys.stderr)
            return 1

    return run


def register(commands: Any) -> None:
    """Add the account commands."""
    staff = commands.add_parser("create-staff", help="invite a staff member (prints the link)")
    staff.add_argument("email")
    staff.add_argument("--role", choices=("agent", "administrator"), required=True)
    how = staff.add_mutually_exclusive_group()
    how.add_argument("--set-password", action="store_true", help="ask the password here, twice")
    how.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    _add_dev_portal_options(staff)
    staff.set_defaults(handler=_runner(_create_staff))

    family = commands.add_parser("invite-family", help="invite a family account (prints the link)")
    family.add_argument("email")
    family.add_argument("--family-id", required=True)
    family.add_argument("--rights", default="book,invoices,edit", help="comma-separated")
    _add_dev_portal_options(family)
    family.set_defaults(handler=_runner(_invite_family))

    api_client = commands.add_parser(
        "create-api-client", help="an API client for a municipal system (prints its secret)"
    )
    api_client.add_argument("name")
    api_client.add_argument(
        "--scope",
        action="append",
        required=True,
        # No `choices`: a scope that opens nothing is refused by the schema, which says why.
        help="repeat for each right, e.g. --scope families:read --scope bookings:read; one of "
        + ", ".join(sorted(SERVICE_SCOPES)),
    )
    _add_dev_portal_options(api_client)
    api_client.set_defaults(handler=_runner(_create_api_client))

    keys = commands.add_parser("rotate-keys", help="publish a new token-signing key")
    keys.set_defaults(handler=_runner(_rotate_keys))
