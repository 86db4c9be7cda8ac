"""/dev/mail: the development mail catcher's messages (registered in development only)."""

from __future__ import annotations

import mailbox
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy

from flask import Blueprint, Response, abort, current_app, render_template
from flask.typing import ResponseReturnValue

bp = Blueprint("devmail", __name__, url_prefix="/dev/mail")


def _maildir() -> mailbox.Maildir:
    return mailbox.Maildir(current_app.config["MAILCATCHER_DIR"], factory=None, create=True)


def _parse(message: mailbox.Message) -> EmailMessage:
    return message_from_bytes(message.as_bytes(), policy=default_policy)


def _part(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    return part.get_content() if part is not None else ""


@bp.get("")
def inbox() -> ResponseReturnValue:
    box = _maildir()
    messages = sorted(
        ((key, _parse(box[key])) for key in box.iterkeys()),
        key=lambda item: box.get_message(item[0]).get_date(),
        reverse=True,
    )
    return render_template("devmail/inbox.html", messages=messages)


@bp.get("/<key>")
def message(key: str) -> ResponseReturnValue:
    box = _maildir()
    if key not in box:
        abort(404)
    parsed = _parse(box[key])
    return render_template(
        "devmail/message.html", key=key, message=parsed, text=_part(parsed, "plain")
    )


@bp.get("/<key>/html")
def message_html(key: str) -> ResponseReturnValue:
    """The HTML part on its own, sandboxed so nothing in it can run."""
    box = _maildir()
    if key not in box:
        abort(404)
    response = Response(_part(_parse(box[key]), "html"), mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'"
    )
    return response
