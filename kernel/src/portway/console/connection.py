"""One connection's page: its settings (secrets masked), Ping, and its type's Actions.

An Action (``declarations.Action``) is rendered generically from its
arguments model; the SFTP/FTP ``execute`` action is the command shell, the
MQ ``send`` action the send-message form. Results are shown as returned.
"""

from __future__ import annotations

import json
from typing import Any

from anyio import to_thread
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portway import actions
from portway.console import forms, records
from portway.console.items import notice_of
from portway.console.sessions import ConsoleSession
from portway.console.site import Site
from portway.declarations import Action, ConnectionType
from portway.errors import NotFoundError, PortwayError
from portway.pool import describe


class ConnectionPages:
    def __init__(self, site: Site) -> None:
        self.site = site

    def routes(self) -> list[Route]:
        page = self.site.page
        base = "/connections/{type}/{name}"
        return [
            Route(base, page(self.show), methods=["GET"]),
            Route(base + "/ping", page(self.ping), methods=["POST"]),
            Route(base + "/actions/{action}", page(self.action_form), methods=["GET"]),
            Route(base + "/actions/{action}", page(self.run_action), methods=["POST"]),
        ]

    async def show(self, request: Request, session: ConsoleSession, **extra: Any) -> Response:
        type_name, name = request.path_params["type"], request.path_params["name"]
        runtime = self.site.runtime
        try:
            declaration = runtime.plugins.connection_type(type_name)
            item = await to_thread.run_sync(runtime.catalog.show, "connection", type_name, name)
        except NotFoundError as exc:
            return self.site.render(request, "error.html", session, 404, title="Not found", message=str(exc))
        context: dict[str, Any] = {"ping_ms": None, "ping_error": ""}
        context.update(extra)
        return self.site.render(
            request,
            "connection.html",
            session,
            200 if not context["ping_error"] else 502,
            declaration=declaration,
            item=item,
            notice=notice_of(request, "connection"),
            **context,
        )

    async def ping(self, request: Request, session: ConsoleSession) -> Response:
        type_name, name = request.path_params["type"], request.path_params["name"]
        try:
            ms = await to_thread.run_sync(self.site.runtime.connections.ping, type_name, name)
        except PortwayError as exc:
            return await self.show(request, session, ping_error=getattr(exc, "reason", str(exc)))
        except Exception as exc:  # a plugin's own error: show it, do not 500
            return await self.show(request, session, ping_error=describe(exc))
        return await self.show(request, session, ping_ms=round(ms, 1))

    def _action(self, request: Request) -> tuple[ConnectionType, Action]:
        type_name = request.path_params["type"]
        declaration = self.site.runtime.plugins.connection_type(type_name)
        return declaration, actions.find(declaration, request.path_params["action"])

    async def action_form(self, request: Request, session: ConsoleSession) -> Response:
        try:
            declaration, action = self._action(request)
        except NotFoundError as exc:
            return self.site.render(request, "error.html", session, 404, title="Not found", message=str(exc))
        fields = forms.fields_of(action.arguments)
        values = {f.name: f.default for f in fields}
        return self._render_action(request, session, declaration, action, fields, values, {}, None, "")

    async def run_action(self, request: Request, session: ConsoleSession) -> Response:
        try:
            declaration, action = self._action(request)
        except NotFoundError as exc:
            return self.site.render(request, "error.html", session, 404, title="Not found", message=str(exc))
        form = request.state.form
        fields = forms.fields_of(action.arguments)
        arguments, errors = forms.parse(fields, form)
        values = forms.typed_values(fields, form)
        if not errors:
            try:
                action.arguments.model_validate(arguments)
            except ValidationError as exc:
                errors = forms.validation_errors(exc)
        if errors:
            return self._render_action(
                request, session, declaration, action, fields, values, errors, None, "", 400
            )
        type_name, name = request.path_params["type"], request.path_params["name"]
        try:
            result = await to_thread.run_sync(
                actions.run, self.site.runtime.connections, type_name, name, action.name, arguments
            )
        except PortwayError as exc:
            return self._render_action(
                request, session, declaration, action, fields, values, {}, None, str(exc), 502
            )
        except Exception as exc:
            return self._render_action(
                request, session, declaration, action, fields, values, {}, None, describe(exc), 502
            )
        return self._render_action(request, session, declaration, action, fields, values, {}, result, "")

    def _render_action(
        self,
        request: Request,
        session: ConsoleSession,
        declaration: ConnectionType,
        action: Action,
        fields: list[forms.FormField],
        values: dict[str, str],
        errors: dict[str, str],
        result: Any,
        failure: str,
        status: int = 200,
    ) -> Response:
        tables = records.tables_of(result)
        return self.site.render(
            request,
            "action.html",
            session,
            status,
            declaration=declaration,
            action=action,
            name=request.path_params["name"],
            fields=fields,
            values=values,
            errors=errors,
            ran=result is not None,
            result=_result_rows(result, skip={table.label for table in tables}),
            tables=tables,
            failure=failure,
        )


def _result_rows(result: Any, skip: set[str] | None = None) -> list[tuple[str, str, bool]]:
    """A result as (label, text, is_block) rows: each top-level key of a dict, else the whole value.

    Multi-line or long values (a transcript, a listing) are shown as a block,
    short ones (``ok: true``, a message id) inline; keys in ``skip`` are
    shown as tables instead (``records``).
    """
    if result is None:
        return []
    pairs = list(result.items()) if isinstance(result, dict) else [("result", result)]
    pairs = [(key, value) for key, value in pairs if str(key) not in (skip or set())]
    rows = []
    for key, value in pairs:
        text = _text(value)
        rows.append((str(key), text, "\n" in text or len(text) > 100 or key == "transcript"))
    return rows


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, default=str)
