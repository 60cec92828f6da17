"""Reports: JSON series for a period beside the previous one, and CSV/XLSX exports.

``/reports/<report>`` answers one report; ``/reports/<report>/export`` and
``/exports/<list>`` send files, streamed. Each report and list has a route
of its own (no path parameter), so every route answers only for the
merchant of the key.
"""

from __future__ import annotations

from flask import Response
from flask import g
from flask import stream_with_context
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema
from marshmallow import fields
from marshmallow import validate

from hub.core import current_hub
from hub.reports.catalogue import REPORTS
from hub.reports.catalogue import run_report
from hub.reports.downloads import Download
from hub.reports.downloads import list_download
from hub.reports.downloads import report_download
from hub.reports.exports import FORMATS
from hub.reports.exports import LISTS

blp = Blueprint("reports", __name__, url_prefix="/reports", description="Reports")
exports_blp = Blueprint("exports", __name__, url_prefix="/exports", description="Exports")

_DAY = {"description": "A day in the merchant's timezone (YYYY-MM-DD)."}


class PeriodArgs(Schema):
    from_ = fields.Date(data_key="from", load_default=None, metadata=_DAY)
    to = fields.Date(load_default=None, metadata=_DAY)


class ExportArgs(PeriodArgs):
    format = fields.Str(load_default="csv", validate=validate.OneOf(FORMATS))


class ReportNamesSchema(Schema):
    reports = fields.List(fields.Str(), metadata={"description": "The reports' names."})


class ReportSchema(Schema):
    """One report: the period's totals and series, and the previous period's totals."""

    report = fields.Str()
    period = fields.Dict(metadata={"description": "from, to (local days) and timezone."})
    previous_period = fields.Dict()
    totals = fields.Dict()
    previous_totals = fields.Dict()
    series = fields.List(fields.Dict(), metadata={"description": "One entry per day or month."})
    cohorts = fields.List(fields.Dict())
    method = fields.Str(metadata={"description": "How the figures are computed, where it matters."})


_FILE = {
    "200": {
        "description": "The file, streamed.",
        "content": {media: {"schema": {"type": "string", "format": "binary"}}
                    for media in ("text/csv", "application/vnd.openxmlformats-officedocument"
                                  ".spreadsheetml.sheet")},
    }
}  # fmt: skip


def _send(download: Download) -> Response:
    return Response(
        stream_with_context(download.chunks),
        mimetype=download.media_type.split(";")[0],
        headers={
            "Content-Disposition": f'attachment; filename="{download.filename}"',
            "Cache-Control": "private, no-store",
        },
    )


@blp.route("")
class ReportList(MethodView):
    @blp.response(200, ReportNamesSchema)
    def get(self):
        """The reports there are, in the order the console lists them."""
        return {"reports": list(REPORTS)}


def _report_view(name: str) -> None:
    class ReportView(MethodView):
        @blp.arguments(PeriodArgs, location="query")
        @blp.response(200, ReportSchema)
        def get(self, args):
            return run_report(current_hub(), g.merchant_id, name, args["from_"], args["to"])

    class ReportExport(MethodView):
        @blp.arguments(ExportArgs, location="query")
        @blp.doc(responses=_FILE)
        def get(self, args):
            download = report_download(
                current_hub(), g.merchant_id, name, args["format"], args["from_"], args["to"]
            )
            return _send(download)

    ReportView.get.__doc__ = f"The {name} report for a period (default: the last 30 days)."
    ReportExport.get.__doc__ = f"The {name} report as CSV or XLSX (``format``), streamed."
    blp.route(f"/{name}", endpoint=f"report_{name}")(ReportView)
    blp.route(f"/{name}/export", endpoint=f"report_{name}_export")(ReportExport)


def _list_view(what: str) -> None:
    class ListExport(MethodView):
        @exports_blp.arguments(ExportArgs, location="query")
        @exports_blp.doc(responses=_FILE)
        def get(self, args):
            download = list_download(
                current_hub(), g.merchant_id, what, args["format"], args["from_"], args["to"]
            )
            return _send(download)

    ListExport.get.__doc__ = (
        f"Every {what} row of the period (default: the last 30 days) as CSV or XLSX, streamed."
    )
    exports_blp.route(f"/{what}", endpoint=f"export_{what}")(ListExport)


for _name in REPORTS:
    _report_view(_name)
for _what in LISTS:
    _list_view(_what)
