"""Sessions, CSRF and headers, checked with raw HTTP against the real server."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from console_access import Admin, ConsoleClient, add_admin, make_env, running

from portway.testing import ServerHandle


# These tests fail at most one login each, so they share one server (each with its own user).
@pytest.fixture
def portway_server(shared_server: ServerHandle) -> ServerHandle:
    return shared_server


@pytest.fixture
def admin(shared_admin: Admin) -> Admin:
    return shared_admin


def test_csrf_less_posts_are_rejected_and_change_nothing(console: str, admin: Admin) -> None:
    client = ConsoleClient(console)
    client.log_in(admin)
    form = {"name": "sneaky", "host": "127.0.0.1", "port": "9", "token": "x"}
    for data in (form, {**form, "csrf": "forged"}):
        response = client.post("/connections/echo/new", data)
        assert response.status_code == 403
        assert "CSRF" in response.text
    assert "sneaky" not in client.get("/connections").text
    # Logout without the token does not log out either.
    assert client.post("/logout", {}).status_code == 403
    assert client.get("/").status_code == 200


def test_login_form_needs_its_csrf_token(console: str, admin: Admin) -> None:
    client = ConsoleClient(console)
    client.get("/login")
    response = client.post("/login", {"username": admin.name, "password": admin.password})
    assert response.status_code == 403
    assert client.get("/").status_code == 303


def test_password_step_alone_is_not_a_session(console: str, admin: Admin) -> None:
    client = ConsoleClient(console)
    token = client.csrf("/login")
    response = client.post("/login", {"csrf": token, "username": admin.name, "password": admin.password})
    assert response.headers["location"].endswith("/login/factor")
    for path in ("/", "/connections", "/services", "/account"):
        page = client.get(path)
        assert page.status_code == 303 and page.headers["location"].endswith("/login"), path
    assert client.post("/account/recovery", {"csrf": token}).status_code == 403


def test_session_id_rotates_at_each_step_and_logout_ends_it(console: str, admin: Admin) -> None:
    client = ConsoleClient(console)
    token = client.csrf("/login")
    anonymous = client.cookie
    client.post("/login", {"csrf": token, "username": admin.name, "password": admin.password})
    half = client.cookie
    token = client.csrf("/login/factor")
    client.post("/login/factor", {"csrf": token, "code": admin.code()})
    full = client.cookie
    assert len({anonymous, half, full}) == 3
    # Earlier ids are dead: replaying the half-way cookie gets nothing.
    stale = ConsoleClient(console)
    stale.cookie = half
    assert stale.get("/").status_code == 303
    page = client.get("/")
    assert page.status_code == 200
    csrf = client.csrf("/")
    assert client.post("/logout", {"csrf": csrf}).status_code == 303
    # The server forgot the session: the same cookie no longer works.
    stale.cookie = full
    assert stale.get("/").status_code == 303


def test_cookie_and_security_headers(console: str, admin: Admin) -> None:
    response = httpx.get(console + "/login")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-portway=")
    for flag in ("HttpOnly", "Secure", "Path=/", "SameSite=strict"):
        assert flag.lower() in cookie.lower(), flag
    assert "domain=" not in cookie.lower()
    headers = response.headers
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"
    # Plain http here, so no HSTS (it is only sent over TLS).
    assert "strict-transport-security" not in headers


def test_recovery_code_works_once(console: str, portway_server: ServerHandle, admin: Admin) -> None:
    from portway.console.users import AdminUsers
    from portway.encryption import SecretBox
    from portway.store import Store

    store = Store.open(portway_server.env)
    codes = AdminUsers(store.db, SecretBox(portway_server.env.secrets_key)).new_recovery_codes(admin.name)
    store.close()

    def attempt(code: str) -> httpx.Response:
        client = ConsoleClient(console)
        token = client.csrf("/login")
        client.post("/login", {"csrf": token, "username": admin.name, "password": admin.password})
        token = client.csrf("/login/factor")
        return client.post("/login/factor", {"csrf": token, "code": code})

    assert attempt(codes[0].lower()).status_code == 303
    assert attempt(codes[0]).status_code == 401
    assert attempt(codes[1]).status_code == 303


def test_missing_factor_plugin_refuses_every_login(tmp_path: Path) -> None:
    env = make_env(tmp_path, second_factor="totp", disabled=("totp",))
    admin = add_admin(env, with_key=False)
    with running(env):
        client = ConsoleClient(env.base_url + "/admin")
        page = client.get("/login")
        assert page.status_code == 503
        assert "second_factor = &#39;totp&#39;" in page.text
        assert "plugin &#39;totp&#39; is disabled" in page.text
        assert "refuses every login" in page.text
        response = client.post("/login", {"username": admin.name, "password": admin.password})
        assert response.status_code == 503
        assert client.get("/").status_code == 303


def test_without_second_factor_the_password_logs_in(tmp_path: Path) -> None:
    env = make_env(tmp_path, second_factor="")
    # Plain-http deployments may turn Secure off; the cookie then cannot be a __Host- one.
    env.toml_path.write_text(
        env.toml_path.read_text().replace("[console]\n", "[console]\nsecure_cookies = false\n")
    )
    admin = add_admin(env, with_key=False)
    with running(env):
        client = ConsoleClient(env.base_url + "/admin", cookie_name="portway")
        token = client.csrf("/login")
        cookie = client.http.get(env.base_url + "/admin/login").headers["set-cookie"]
        assert (
            cookie.startswith("portway=") and "secure" not in cookie.lower() and "httponly" in cookie.lower()
        )
        response = client.post("/login", {"csrf": token, "username": admin.name, "password": admin.password})
        assert response.headers["location"].endswith("/admin/")
        assert client.get("/").status_code == 200


def test_user_without_a_key_cannot_log_in_when_totp_is_required(tmp_path: Path) -> None:
    env = make_env(tmp_path)
    admin = add_admin(env, with_key=False)
    with running(env):
        client = ConsoleClient(env.base_url + "/admin")
        token = client.csrf("/login")
        response = client.post("/login", {"csrf": token, "username": admin.name, "password": admin.password})
        assert response.status_code == 403
        assert "portway admin reset-totp" in response.text
        assert client.get("/").status_code == 303


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_hsts_only_over_tls() -> None:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from portway.console.security import SecurityHeaders

    app = Starlette(routes=[Route("/", lambda request: PlainTextResponse("hi"))])
    app.add_middleware(SecurityHeaders)
    over_tls = TestClient(app, base_url="https://console.example").get("/")
    assert over_tls.headers["strict-transport-security"].startswith("max-age=")
    plain = TestClient(app, base_url="http://console.example").get("/")
    assert "strict-transport-security" not in plain.headers


def test_notices_in_the_url_are_fixed_words_only(console: str, admin: Admin) -> None:
    client = ConsoleClient(console)
    client.log_in(admin)
    page = client.get("/connections?done=saved&notice=Call+555-0100+now")
    assert "The connection was saved." in page.text
    assert "555-0100" not in page.text
    assert "Call" not in client.get("/connections?done=Call+555-0100").text


def test_login_page_views_store_nothing_and_forged_ids_fail(
    console: str, portway_server: ServerHandle, admin: Admin
) -> None:
    from portway.database import Database

    db = Database.open(portway_server.env.store_url)
    try:

        def stored() -> int:
            with db.transaction() as tx:
                return int(tx.scalar("select count(*) from console_sessions"))

        before = stored()
        for _ in range(5):
            assert ConsoleClient(console).get("/login").status_code == 200
        assert stored() == before
    finally:
        db.close()
    client = ConsoleClient(console)
    token = client.csrf("/login")
    _, nonce, mac = client.cookie.split(".")
    client.cookie = f"a.{nonce}x.{mac}"  # the signature no longer matches
    response = client.post("/login", {"csrf": token, "username": admin.name, "password": admin.password})
    assert response.status_code == 403


def test_non_ascii_tokens_are_refused_not_crashed_on(console: str, admin: Admin) -> None:
    client = ConsoleClient(console)
    client.csrf("/login")
    response = client.post(
        "/login", {"csrf": "jeton-été", "username": admin.name, "password": admin.password}
    )
    assert response.status_code == 403
    raw_cookie = "__Host-portway=a.été.ü".encode()
    assert client.http.get(console + "/", headers={"cookie": raw_cookie}).status_code == 303
