"""Commands: ``flask --app wsgi db|create-admin|audit|accounts|demo|values|serve``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from procure.db import get_session, utcnow

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str | None = None):
    """Alembic's configuration, built in code (the project keeps no alembic.ini)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url",
                        (url or current_app.config["SQLALCHEMY_DATABASE_URL"]).replace("%", "%%"))
    return cfg


db_cli = AppGroup("db", help="Database migrations (Alembic).")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: head)."""
    from alembic import command

    command.upgrade(alembic_config(), revision)


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION."""
    from alembic import command

    command.downgrade(alembic_config(), revision)


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Write a new migration by comparing the models with the database."""
    from alembic import command

    import procure.models  # noqa: F401 - register every table

    command.revision(alembic_config(), message=message, autogenerate=True)


audit_cli = AppGroup("audit", help="The hash-chained audit log.")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Check every link of the audit chain; print OK or the first broken link."""
    from procure.audit.services import verify

    broken = verify(get_session())
    if broken is None:
        click.echo("OK: the audit chain is intact.")
        return
    click.echo(f"BROKEN at event {broken.seq}: {broken.reason}", err=True)
    sys.exit(1)


@click.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True, default="Administrator")
@click.password_option()
def create_admin(email: str, name: str, password: str) -> None:
    """Create a platform admin (or make an existing account one)."""
    from procure.accounts.services import create_admin as make_admin
    from procure.errors import RuleViolation

    try:
        user = make_admin(get_session(), email=email, name=name, password=password, now=utcnow())
    except RuleViolation as e:
        raise click.ClickException(f"refused: {e}") from None
    click.echo(f"{user.email} is an admin.")


accounts_cli = AppGroup("accounts", help="User accounts.")


@accounts_cli.command("reset-mfa")
@click.argument("email")
def accounts_reset_mfa(email: str) -> None:
    """Clear the authenticator of the account EMAIL (lost phone): its sessions end, and it sets
    up a new authenticator at its next sign-in."""
    from procure.accounts.services import reset_mfa
    from procure.errors import NotFound

    try:
        user = reset_mfa(get_session(), email=email, now=utcnow())
    except NotFound:
        raise click.ClickException(f"no account with the e-mail address {email}") from None
    click.echo(f"Two-step sign-in is reset for {user.email}; they will set it up again at sign-in.")


demo_cli = AppGroup("demo", help="Demonstration data.")


@demo_cli.command("load")
def demo_load() -> None:
    """Load the demo organisations and users (safe to run again) and print the sign-ins."""
    from procure.demo import SIGN_INS, load_demo
    from procure.demo_challenges import load_demo_challenges

    load_demo(get_session(), now=utcnow())
    for title in load_demo_challenges(get_session(), now=utcnow()):
        click.echo(f"Demo challenge: {title}")
    click.echo(f"\nDemo sign-ins (password for every account: {SIGN_INS['password']})")
    for email, what in SIGN_INS["accounts"]:
        click.echo(f"  {email:<34} {what}")
    click.echo(f"\nAccounts marked * use two-step sign-in with the demo authenticator key "
               f"{SIGN_INS['totp_key']}\n(add it to an authenticator app, or run "
               f"`flask --app wsgi demo code` for the current code).")


@demo_cli.command("code")
def demo_code() -> None:
    """Print the current two-step sign-in code of the demo accounts."""
    from procure.accounts.services import totp_code
    from procure.demo import DEMO_TOTP_SECRET

    click.echo(totp_code(DEMO_TOTP_SECRET, utcnow()))


@demo_cli.command("generate")
@click.option("--challenges", "count", type=click.IntRange(min=1), required=True,
              help="How many published challenges to make.")
@click.option("--seed", type=int, default=2026, show_default=True,
              help="The same seed makes the same challenges.")
@click.option("--batch", type=click.IntRange(min=1, max=20_000), default=2_000,
              show_default=True, help="Challenges per transaction.")
def demo_generate(count: int, seed: int, batch: int) -> None:
    """Make COUNT synthetic published challenges with their open records, in bulk (for load
    tests and benchmarks; loads the shared values first if they are missing)."""
    from procure.record.generate import generate
    from procure.values.services import load_seed

    session = get_session()
    load_seed(session, now=utcnow())

    def progress(made) -> None:
        if made.challenges % (batch * 10) == 0 and made.challenges < count:
            click.echo(f"  {made.challenges:,} of {count:,}")

    made = generate(session, challenges=count, seed=seed, now=utcnow(), batch=batch,
                    progress=progress)
    outcomes = ", ".join(f"{n:,} {name.replace('_', ' ')}"
                         for name, n in sorted(made.outcomes.items()))
    click.echo(f"Made {made.challenges:,} published challenges ({outcomes}) with {made.phases:,} "
               f"phases in {made.seconds:.1f}s ({made.challenges / made.seconds:,.0f} a second).")


values_cli = AppGroup("values", help="The shared value frameworks.")


@values_cli.command("load")
def values_load() -> None:
    """Load the value frameworks shipped with Procure (safe to run again)."""
    from procure.values.seed import load_seed_file
    from procure.values.services import list_frameworks, load_seed

    session = get_session()
    before = {(f.code, f.version) for f in list_frameworks(session)}
    try:
        counts = load_seed(session, now=utcnow())
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    for item in load_seed_file():
        state = "already loaded" if (item["code"], item["version"]) in before else "added"
        click.echo(f"  {item['code']} version {item['version']}: {state}")
    click.echo(f"Value frameworks: {counts['added']} added, {counts['unchanged']} unchanged.")


@click.command("serve")
@click.option("--port", type=int, default=None)
def serve(port: int | None) -> None:
    """Serve the site with a background worker and scheduler beside it (the embedded default)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    port = port or app.config["PORT"]
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "workers", "worker", "--beat", "--pool=solo",
         "--loglevel=WARNING", "--without-gossip", "--without-mingle",
         "--schedule", str(app.config["BROKER_DIR"] / "beat-schedule")],
        env=os.environ.copy(),
    )
    click.echo(f"\nProcure is at http://127.0.0.1:{port} (Ctrl+C stops it)\n")
    # Stop the worker too when this process is asked to stop.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        from werkzeug.serving import run_simple

        run_simple("127.0.0.1", port, app, threaded=True, use_reloader=False)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()


def init_cli(app: Flask) -> None:
    for command in (db_cli, audit_cli, accounts_cli, demo_cli, values_cli, create_admin, serve):
        app.cli.add_command(command)
