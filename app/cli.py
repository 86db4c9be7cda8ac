"""Command-line entry points, `flask --app app <group> <command>`: their names and output
are what operators' scripts call, so they stay stable."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType

import click
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from cryptography.fernet import Fernet
from flask import current_app
from flask.cli import AppGroup

from app import demo, demo_leads
from app.extensions import db
from app.models import StaffRole
from app.relay import run_relay
from app.services import audit
from app.services.accounts import passwords, staff
from app.services.answers.business_hours import DeadlinePolicy
from app.services.clinics.catalog import load_catalog
from app.services.integrations import partners
from app.services.privacy.key_rotation import rotate_keys

log = logging.getLogger(__name__)

catalog_cli = AppGroup("catalog", help="The procedure catalogue.")
staff_cli = AppGroup("staff", help="Staff accounts.")
demo_cli = AppGroup("demo", help="Fictional demo data for development.")
outbox_cli = AppGroup("outbox", help="The outbox relay.")
devmail_cli = AppGroup("devmail", help="The development mail catcher.")
partner_cli = AppGroup("partner", help="Partner sites that send patients.")
# Also a Flask plugin command (pyproject's `flask.commands` entry point): Flask finds it
# without building the app, so `keys generate` works in production before DATA_KEYS exists,
# while `keys rotate` still builds the app, which refuses to start without them.
keys_cli = AppGroup("keys", help="The data keys that encrypt health data at rest.")


@catalog_cli.command("load")
def catalog_load() -> None:
    """Create or refresh the procedure catalogue (safe to run again)."""
    result = load_catalog(db.session)
    click.echo(f"catalogue: {result.created} created, {result.updated} updated")


@staff_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in StaffRole]), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password as one line from stdin.")
def staff_create(email: str, role: str, password_stdin: bool) -> None:
    """Create a staff account; the password never appears on the command line."""
    if not password_stdin:
        raise click.UsageError("pass --password-stdin and the password on standard input")
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = staff.create_staff(db.session, email, StaffRole(role), password)
    except passwords.WeakPassword as exc:
        raise click.ClickException(str(exc)) from exc
    except staff.StaffEmailTaken as exc:
        raise click.ClickException(f"a staff account for {exc} exists already") from exc
    click.echo(f"created {user.role.value} {user.email}")


@partner_cli.command("create")
@click.argument("name")
@click.option("--origin", "origins", multiple=True, help="A site that may frame the form.")
def partner_create(name: str, origins: tuple[str, ...]) -> None:
    """Register a partner site and make its first API key (shown this once)."""
    try:
        created, first = partners.create_partner(
            db.session, name, list(origins), audit.Actor.system("cli")
        )
    except partners.OriginRefused as exc:
        raise click.BadParameter(f"{exc} is not an origin like https://blog.example") from exc
    click.echo(f"public id: {created.public_id}")
    click.echo(f"API key: {first.secret}")


@demo_cli.command("load")
def demo_load() -> None:
    """Demo clinics, a demo admin account and 60 days of demo leads."""
    if current_app.config["CAREROUTE_ENV"] == "production":
        raise click.ClickException("demo data is never loaded in production")
    load_catalog(db.session)
    added = demo.load_demo_clinics(db.session)
    admin = demo.ensure_demo_admin(db.session)
    leads = demo_leads.load_demo_leads(
        db.session, current_app.config["UPLOAD_DIR"], DeadlinePolicy.from_config(current_app.config)
    )
    click.echo(
        f"demo: {added} clinics and {leads} leads added; "
        f"staff sign-in {admin.email} / {demo.DEMO_ADMIN_PASSWORD}"
    )


@outbox_cli.command("relay")
@click.option("--once", is_flag=True, help="Publish one batch and exit.")
def outbox_relay(once: bool) -> None:
    """Publish committed outbox rows to the broker, continuously."""
    stop = threading.Event()
    _stop_on_signals(stop, "relay")
    published = run_relay(current_app._get_current_object(), stop, once=once)  # type: ignore[attr-defined]
    click.echo(f"relay: {published} published")


def _stop_on_signals(stop: threading.Event, process: str) -> None:
    """SIGTERM (honcho, a supervisor) and SIGINT (Ctrl-C) end a long-running command's loop,
    so it finishes what it is doing and exits cleanly."""

    def _handler(signum: int, _frame: FrameType | None) -> None:
        log.info("%s stopping on signal %d", process, signum)
        stop.set()

    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)


@devmail_cli.command("serve")
def devmail_serve() -> None:
    """An SMTP server on loopback that keeps every message for /dev/mail."""
    config = current_app.config
    controller = Controller(
        Mailbox(config["MAILCATCHER_DIR"]), hostname="127.0.0.1", port=config["MAILCATCHER_PORT"]
    )
    controller.start()
    click.echo(f"mail catcher on 127.0.0.1:{config['MAILCATCHER_PORT']}, see /dev/mail")
    stop = threading.Event()
    _stop_on_signals(stop, "mail catcher")
    stop.wait()
    controller.stop()


@keys_cli.command("generate", with_appcontext=False)
def keys_generate() -> None:
    """Print a new key: put it first in DATA_KEYS, deploy, then run `keys rotate`.

    Needs no app: the first key is made before the app can start with it."""
    click.echo(Fernet.generate_key().decode())


@keys_cli.command("rotate")
@click.option("--batch", type=click.IntRange(min=1), default=500, show_default=True)
def keys_rotate(batch: int) -> None:
    """Re-encrypt every lead and attachment under the newest key (safe to run again)."""
    result = rotate_keys(
        db.session,
        current_app.config["UPLOAD_DIR"],
        batch=batch,
        progress=lambda done: click.echo(f"rotated {done.leads} leads, {done.files} files"),
    )
    click.echo(f"done: {result.leads} leads and {result.files} files re-encrypted")


commands = [catalog_cli, staff_cli, demo_cli, outbox_cli, devmail_cli, keys_cli, partner_cli]
