"""Signed links to scheduled reports too large to attach: the file kept on the server for SCHEDULES_LINK_DAYS,
and a link whose signature (SECRET_KEY) names the run and the file, and expires with it.

The link is the recipients' access, as an attachment would be: whoever holds it gets that one file, which
was made in the owner's scope; nothing else is reachable through it. Each download is audited.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from flask import Blueprint, Response, current_app, request, send_file
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from auth.session import store as accounts
from reports.build import ReportFile

PREFIX = "/scheduled-reports/"
_SALT = "telemetry-scheduled-report"
_SAFE_NAME = re.compile(r"[A-Za-z0-9._-]+")
bp = Blueprint("scheduled_reports", __name__)


def folder() -> Path:
    return Path(current_app.config["ACCOUNTS_DB"]).parent / "scheduled-reports"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _max_age() -> int:
    return int(current_app.config["SCHEDULES_LINK_DAYS"] * 86400)


def keep(run_id: int, report: ReportFile, now: dt.datetime) -> tuple[str, dt.datetime]:
    """Store the file for its run; the link to it and when the link expires. Older files are deleted."""
    where = folder()
    where.mkdir(parents=True, exist_ok=True)
    _forget_expired(where)
    name = f"{run_id}-{report.filename}"
    (where / name).write_bytes(report.content)
    token = _serializer().dumps({"file": name, "type": report.mimetype})
    link = f"{current_app.config['PUBLIC_URL'].rstrip('/')}{PREFIX}{token}"
    return link, now + dt.timedelta(seconds=_max_age())


def _forget_expired(where: Path) -> None:
    oldest = dt.datetime.now(dt.UTC).timestamp() - _max_age()
    for path in where.iterdir():
        if path.stat().st_mtime < oldest:
            path.unlink(missing_ok=True)


@bp.get(f"{PREFIX}<token>")
def download(token: str) -> Response:
    """The file of a link this server signed, while it has not expired (410 after, 404 for any other)."""
    try:
        data = _serializer().loads(token, max_age=_max_age())
    except SignatureExpired:
        return Response("This link has expired; ask the report's owner to send it again.\n", 410,
                        mimetype="text/plain")  # fmt: skip
    except BadSignature:
        return Response("Not found.\n", 404, mimetype="text/plain")
    name = data["file"]
    path = folder() / name
    if not _SAFE_NAME.fullmatch(name) or not path.is_file():
        return Response("This report is no longer kept on the server.\n", 410, mimetype="text/plain")
    accounts().audit("link", "schedule_download", {"file": name}, request.remote_addr)
    download_name = name.partition("-")[2]
    return send_file(path, mimetype=data["type"], as_attachment=True, download_name=download_name, max_age=0)
