"""OCDS 1.1 over HTTP: record packages, paginated release packages, the bulk download and
the local extension.

All of it is open data: anyone may read it, from any origin. What the packages hold is built by
``procure.record.ocds`` from the published records' frozen content; the views only load, page
and answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from flask import Response, request, stream_with_context
from flask_babel import gettext as _

from procure.api import openapi
from procure.api.blueprint import bp
from procure.db import get_session, utcnow
from procure.extensions import limiter
from procure.notifications.services import external_url
from procure.record import ocds

JSON_TYPE = "application/json; charset=utf-8"
PAGE_SIZE = 100      # releases in one page of api.ocds_releases
BULK_BATCH = 100     # records read at a time by the bulk download (memory: ~7 MB a batch)
# Costly public calls, rate limited per address (429 with Retry-After).
PAGE_LIMIT = "120 per minute"
BULK_LIMIT = "10 per hour"
_CURSOR = re.compile(openapi.CURSOR_PATTERN)


def _open(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _json(payload: Any, status: int = 200) -> Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return _open(Response(body, status=status, content_type=JSON_TYPE))


def _error(status: int, title: str, errors: dict[str, str] | None = None) -> Response:
    return _json({"status": status, "title": title, "errors": errors or {}}, status)


def _now() -> str:
    return utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")


@bp.get("/api/v1/ocds/records/<ocid>")
@limiter.limit(PAGE_LIMIT)
def ocds_record(ocid: str) -> Response:
    """The record package of one of our ocids (a challenge's or a phase's)."""
    pub = ocds.publication()
    releases = ocds.load_record(get_session(), ocid, pub)
    if releases is None:
        return _error(404, _("Not found"))
    package = ocds.record_package(
        pub, [ocds.record(ocid, releases)], uri=external_url("api.ocds_record", ocid=ocid),
        published_date=ocds.latest(releases) or _now())
    return _json(package)


@bp.get("/api/v1/ocds/releases")
@limiter.limit(PAGE_LIMIT)
def ocds_releases() -> Response:
    """A release package of up to PAGE_SIZE releases, record by record; ``links.next`` (an
    opaque ``cursor``) leads to the rest."""
    unknown = sorted(set(request.args) - {"cursor", "lang"})
    if unknown:
        return _error(400, _("The request is not valid"),
                      {name: _("Unknown parameter. The parameters are: %(names)s",
                               names="cursor") for name in unknown})
    cursor = request.args.get("cursor", "")
    after = (0, 0)
    if cursor:
        match = _CURSOR.fullmatch(cursor)
        if match is None:
            return _error(400, _("The request is not valid"),
                          {"cursor": _("Use the address in links.next")})
        after = (int(match.group(1)), int(match.group(2)))
    pub = ocds.publication()
    releases, following = ocds.page_of_releases(get_session(), pub, after=after, size=PAGE_SIZE)
    here = external_url("api.ocds_releases", **({"cursor": cursor} if cursor else {}))
    package = ocds.release_package(pub, releases, uri=here,
                                   published_date=ocds.latest(releases) or _now())
    if following is not None:
        package["links"] = {"next": external_url("api.ocds_releases",
                                                 cursor=f"{following[0]}.{following[1]}")}
    return _json(package)


@bp.get("/data/ocds/releases.json")
@limiter.limit(BULK_LIMIT)
def ocds_bulk() -> Response:
    """Every release of every published record, as one release package, written as it is read
    (memory stays flat however many records there are)."""
    pub = ocds.publication()
    head = json.dumps(ocds.envelope(pub, uri=external_url("api.ocds_bulk"), published_date=_now()),
                      ensure_ascii=False)

    def generate() -> Iterator[str]:
        # The view's own app context is torn down (its session closed) before the body is
        # sent; stream_with_context pushes it again for this generator, so take the session
        # here, and its teardown closes it when the download ends.
        session = get_session()
        yield head[:-1] + ',"releases":['
        separator = ""
        for release in ocds.stream_releases(session, pub, batch=BULK_BATCH):
            yield separator + json.dumps(release, ensure_ascii=False, separators=(",", ":"))
            separator = ","
        yield "]}\n"

    response = Response(stream_with_context(generate()), content_type=JSON_TYPE)
    response.headers["Content-Disposition"] = 'attachment; filename="releases.json"'
    return _open(response)


@bp.get("/ocds/extension.json")
def ocds_extension() -> Response:
    """The local extension's metadata (what the packages' ``extensions`` point to)."""
    return _json(ocds.extension_metadata(ocds.publication().base_url))


@bp.get("/ocds/<path:name>")
def ocds_extension_file(name: str) -> Response:
    """The local extension's release schema patch and codelists; nothing else."""
    found = ocds.extension_file(name)
    if found is None:
        return _error(404, _("Not found"))
    content, media = found
    return _open(Response(content, content_type=f"{media}; charset=utf-8"))
