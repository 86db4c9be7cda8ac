"""CareRoute: the application factory."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Mapping
from functools import cache

from dotenv import load_dotenv
from flask import Flask
from flask_babel import get_locale
from werkzeug.middleware.proxy_fix import ProxyFix

from app import models  # noqa: F401  (registers every table with the metadata)
from app.config import load_config
from app.database import configure_engine
from app.encryption import DataKeys
from app.extensions import babel, csrf, db, limiter, login_manager, migrate
from app.task_queue import celery_init_app


def create_app(settings: Mapping[str, str] | None = None) -> Flask:
    """Build the app from environment variables, with `settings` taking precedence.

    Tests pass settings in the same form an operator would set them, so the configuration
    path under test is the production one.
    """
    load_dotenv()
    app = Flask(__name__, template_folder="../templates", instance_relative_config=True)
    app.config.from_mapping(load_config({**os.environ, **(settings or {})}, app.instance_path))
    os.makedirs(app.instance_path, exist_ok=True)

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_security_headers(app)
    register_commands(app)
    configure_logging(app)
    if app.config["PROXY_FIX_HOPS"]:
        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )
    settle_start_up_objects()
    return app


@cache
def settle_start_up_objects() -> None:
    """Take what the process has loaded so far out of the garbage collector's sight.

    A full collection walks every object the collector tracks, and the modules, models and
    extensions loaded by now are ~170,000 of them: on the 2-core machine this runs on, each
    full collection took 100-200 ms, landing in whichever request or task happened to be
    running (the slowest of twenty loads of a console page). They live as long as the
    process, so the collector has nothing to find among them; `gc.freeze()` is the gc
    module's own answer. Once per process: tests build an app per test, and a test's app
    frozen would never be freed.
    """
    gc.collect()
    gc.freeze()


def register_extensions(app: Flask) -> None:
    from app.blueprints.staff.lead_rows import FLAG_WORDS, STATUS_WORDS
    from app.i18n import money, page_language, select_locale
    from app.reference_data import QUOTE_PARTS
    from app.services.accounts.sessions import load_login_session
    from app.services.leads.response_clock import clock_at

    app.extensions["data_keys"] = DataKeys(app.config["DATA_KEYS"])
    db.init_app(app)
    migrations = os.path.normpath(os.path.join(app.root_path, "..", "migrations"))
    migrate.init_app(app, db, directory=migrations, render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["quote_parts"] = QUOTE_PARTS
    app.jinja_env.globals["staff_clock"] = clock_at
    app.jinja_env.globals["status_words"] = STATUS_WORDS
    app.jinja_env.globals["lead_flag_words"] = FLAG_WORDS
    app.context_processor(page_language)
    app.add_template_filter(money)
    login_manager.init_app(app)
    login_manager.login_view = "staff.sign_in.login"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_login_session)
    celery_init_app(app)
    with app.app_context():
        configure_engine(db.engine)


def register_blueprints(app: Flask) -> None:
    from app.blueprints import (
        api,
        clinics,
        devmail,
        embed,
        inquiries,
        patient,
        portal,
        public,
        staff,
    )

    app.register_blueprint(public.bp)
    app.register_blueprint(inquiries.bp)
    app.register_blueprint(patient.bp)
    app.register_blueprint(embed.bp)
    app.register_blueprint(clinics.bp)
    # Each of these two registers its own sections under it, behind its sign-in check.
    app.register_blueprint(portal.bp)
    app.register_blueprint(staff.bp)
    api.register(app)
    if app.config["DEV_MAIL_VIEWER"]:
        app.register_blueprint(devmail.bp)


def register_errorhandlers(app: Flask) -> None:
    from app.web.errors import register

    register(app)


def register_security_headers(app: Flask) -> None:
    from app.security import add_security_headers

    app.after_request(add_security_headers)


def register_commands(app: Flask) -> None:
    from app.cli import commands

    for command in commands:
        app.cli.add_command(command)


def configure_logging(app: Flask) -> None:
    if not app.debug and not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
