"""Connection and channel pages: list, create, edit, delete, from each type's settings model.

Forms come from the plugin's pydantic model (:mod:`portway.console.forms`);
saving goes through :class:`~portway.catalog.Catalog`, which validates the
whole item before it writes anything, so a bad form saves nothing.
"""

from __future__ import annotations

from typing import Any, Literal

from anyio import to_thread
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portway.console import forms
from portway.console.sessions import ConsoleSession
from portway.console.site import Site
from portway.errors import ConfigError, ConflictError, NotFoundError, PortwayError, SettingError
from portway.pool import PoolSettings
from portway.sealed import MASK
from portway.settings_marks import audience_fields
from portway.store import StoredItem

Kind = Literal["connection", "channel"]
POOL = "pool."


class ItemPages:
    """CRUD pages for one kind of catalog item."""

    def __init__(self, site: Site, kind: Kind) -> None:
        self.site = site
        self.kind = kind
        self.path = f"/{kind}s"

    def routes(self) -> list[Route]:
        p, page = self.path, self.site.page
        return [
            Route(p, page(self.index), methods=["GET"]),
            Route(p + "/{type}/new", page(self.new_form), methods=["GET"]),
            Route(p + "/{type}/new", page(self.create), methods=["POST"]),
            Route(p + "/{type}/{name}/edit", page(self.edit_form), methods=["GET"]),
            Route(p + "/{type}/{name}/edit", page(self.update), methods=["POST"]),
            Route(p + "/{type}/{name}/delete", page(self.delete), methods=["POST"]),
        ]

    def types(self) -> dict[str, Any]:
        plugins = self.site.runtime.plugins
        return dict(plugins.connection_types if self.kind == "connection" else plugins.channel_types)

    def model(self, type_name: str) -> type[BaseModel]:
        return self.site.runtime.catalog.model_for(self.kind, type_name)

    def fields(self, type_name: str) -> list[forms.FormField]:
        found = forms.fields_of(self.model(type_name))
        if self.kind == "connection":
            found += forms.fields_of(PoolSettings, POOL)
        return found

    async def index(self, request: Request, session: ConsoleSession) -> Response:
        catalog = self.site.runtime.catalog
        items = await to_thread.run_sync(catalog.list, self.kind)
        failures = self.site.runtime.channels.failures if self.kind == "channel" else {}
        pickups = await to_thread.run_sync(self._pickups) if self.kind == "channel" else {}
        return self.site.render(
            request,
            f"{self.kind}s.html",
            session,
            types=self.types(),
            items=items,
            failures=failures,
            pickups=pickups,
            notice=notice_of(request, self.kind),
        )

    def _pickups(self) -> dict[tuple[str, str], dict[str, Any]]:
        """What the pickup channels report (last poll, counts, lease holder, last error), by (type, name)."""
        channels = self.site.runtime.channels
        return {
            key: channels.status(*key)
            for key, (_stamp, runner) in list(channels.running.items())
            if callable(getattr(runner, "status", None))
        }

    async def new_form(self, request: Request, session: ConsoleSession) -> Response:
        type_name = request.path_params["type"]
        if type_name not in self.types():
            return self._missing_type(request, session, type_name)
        fields = self.fields(type_name)
        values = {f.name: f.default for f in fields}
        return self._form(request, session, type_name, "", fields, values, {}, "")

    async def edit_form(self, request: Request, session: ConsoleSession) -> Response:
        type_name, name = request.path_params["type"], request.path_params["name"]
        if type_name not in self.types():
            return self._missing_type(request, session, type_name)
        try:
            item = await to_thread.run_sync(self.site.runtime.catalog.show, self.kind, type_name, name)
        except NotFoundError as exc:
            return self.site.render(request, "error.html", session, 404, title="Not found", message=str(exc))
        fields = self.fields(type_name)
        secrets_set = {k for k, v in item.settings.items() if v == MASK}
        return self._form(request, session, type_name, name, fields, shown(fields, item), {}, "", secrets_set)

    async def create(self, request: Request, session: ConsoleSession) -> Response:
        return await self._save(request, session, editing=False)

    async def update(self, request: Request, session: ConsoleSession) -> Response:
        return await self._save(request, session, editing=True)

    async def delete(self, request: Request, session: ConsoleSession) -> Response:
        type_name, name = request.path_params["type"], request.path_params["name"]
        runtime = self.site.runtime
        try:
            await to_thread.run_sync(runtime.catalog.delete, self.kind, type_name, name)
        except NotFoundError as exc:
            return self.site.render(request, "error.html", session, 404, title="Not found", message=str(exc))
        await to_thread.run_sync(runtime.refresh)
        return self.site.redirect(request, f"{self.path}?done=deleted")

    async def _save(self, request: Request, session: ConsoleSession, *, editing: bool) -> Response:
        type_name = request.path_params["type"]
        if type_name not in self.types():
            return self._missing_type(request, session, type_name)
        form = request.state.form
        name = request.path_params["name"] if editing else str(form.get("name", "")).strip()
        fields = self.fields(type_name)
        item = None
        if editing:
            try:
                item = await to_thread.run_sync(self.site.runtime.catalog.show, self.kind, type_name, name)
            except NotFoundError as exc:
                return self.site.render(
                    request, "error.html", session, 404, title="Not found", message=str(exc)
                )
        before = shown(fields, item)
        own = forms.changes([f for f in fields if not f.name.startswith(POOL)], form, before)
        pool = forms.changes([f for f in fields if f.name.startswith(POOL)], form, before, prefix=POOL)
        errors = {**own.errors, **pool.errors}
        if not editing and not name:
            errors["name"] = "required; give the new item a name"
        page_error = ""
        cleared = False
        if not errors:
            try:
                cleared = await to_thread.run_sync(lambda: self._write(type_name, name, own, pool, editing))
            except SettingError as exc:
                key = (POOL if exc.item.endswith(" pool") else "") + exc.field.split(".")[0]
                if any(f.name == key for f in fields):
                    errors[key] = exc.problem
                else:
                    page_error = str(exc)
            except ConflictError as exc:
                errors["name"] = str(exc)
            except ConfigError as exc:
                if exc.where.startswith(f"{self.kind} name"):
                    errors["name"] = exc.problem
                else:
                    page_error = str(exc)
            except PortwayError as exc:
                page_error = str(exc)
        if errors or page_error:
            values = forms.typed_values(fields, form)
            return self._form(
                request, session, type_name, name, fields, values, errors, page_error, status=400
            )
        await to_thread.run_sync(self.site.runtime.refresh)
        done = "cleared" if cleared else "saved"
        if self.kind == "connection":
            return self.site.redirect(request, f"/connections/{_q(type_name)}/{_q(name)}?done={done}")
        return self.site.redirect(request, f"{self.path}?done={done}")

    def _write(
        self, type_name: str, name: str, own: forms.Changes, pool: forms.Changes, editing: bool
    ) -> bool:
        """Create or update the item with what the form changed; whether stored secrets were cleared."""
        catalog = self.site.runtime.catalog
        pool_arg = pool.set if self.kind == "connection" else None
        if not editing:
            catalog.create(self.kind, type_name, name, own.set, pool_arg)
            return False
        unset = own.unset + tuple(POOL + key for key in pool.unset)
        return bool(catalog.update(self.kind, type_name, name, own.set, pool_arg, unset=unset).cleared)

    def _form(
        self,
        request: Request,
        session: ConsoleSession,
        type_name: str,
        name: str,
        fields: list[forms.FormField],
        values: dict[str, str],
        errors: dict[str, str],
        page_error: str,
        secrets_set: set[str] | None = None,
        status: int = 200,
    ) -> Response:
        editing = request.url.path.endswith("/edit")
        declaration = self.types()[type_name]
        audience = sorted(audience_fields(self.model(type_name)))
        return self.site.render(
            request,
            "item_form.html",
            session,
            status,
            kind=self.kind,
            section=self.path,
            type_name=type_name,
            summary=getattr(declaration, "summary", ""),
            name=name,
            editing=editing,
            fields=[f for f in fields if not f.name.startswith(POOL)],
            pool_fields=[f for f in fields if f.name.startswith(POOL)],
            values=values,
            errors=errors,
            page_error=page_error,
            secrets_set=secrets_set or set(),
            secret_note=_secret_note(audience) if editing else "",
            env_prefix=self.site.runtime.catalog.env_prefix,
            name_value=name if editing else str(request.state.form.get("name", "")) if status != 200 else "",
        )

    def _missing_type(self, request: Request, session: ConsoleSession, type_name: str) -> Response:
        installed = ", ".join(sorted(self.types())) or "none"
        return self.site.render(
            request,
            "error.html",
            session,
            404,
            title="Unknown type",
            message=f"no {self.kind} type named {type_name!r} is installed (installed: {installed})",
        )


def notice_of(request: Request, kind: str) -> str:
    """The message for ``?done=...`` after a redirect.

    Only fixed words travel in the URL, so a crafted link cannot make the
    console display text of an attacker's choosing.
    """
    return {
        "saved": f"The {kind} was saved.",
        "cleared": (
            f"The {kind} was saved. Where it connects or who it logs in as changed, so its stored "
            "secrets were cleared: edit it and give them again if they are still needed."
        ),
        "deleted": f"The {kind} was deleted.",
    }.get(request.query_params.get("done", ""), "")


def shown(fields: list[forms.FormField], item: StoredItem | None) -> dict[str, str]:
    """What a form shows: each field's default, or the item's stored value (secrets never)."""
    values = {f.name: f.default for f in fields}
    if item is not None:
        values.update(forms.shown_values(fields, item.settings))
        values.update(forms.shown_values([f for f in fields if f.name.startswith(POOL)], item.pool, POOL))
    return values


def _secret_note(audience: list[str]) -> str:
    if not audience:
        return ""
    names = audience[0] if len(audience) == 1 else ", ".join(audience[:-1]) + " or " + audience[-1]
    return f"Changing {names} clears this stored secret unless you type it again."


def _q(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")
