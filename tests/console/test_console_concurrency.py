"""The login lockout holds when attempts arrive all at once, not only one after another.

Each attempt is reserved in the throttle table before its password or code is
checked, so at most ``FREE_FAILURES + 1`` are ever checked however many race.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from console_access import Admin, ConsoleClient

from portway.console.throttle import FREE_FAILURES
from portway.database import Database
from portway.testing import ServerHandle

CHECKED_AT_MOST = FREE_FAILURES + 1


def _all_at_once(jobs: list[Any]) -> list[int]:
    """Run the jobs on their own threads, released together; return their status codes."""
    gate = threading.Barrier(len(jobs))

    def run(job: Any) -> int:
        gate.wait()
        return int(job().status_code)

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


def _login_attempt(console: str, user: str, password: str) -> Any:
    client = ConsoleClient(console)
    token = client.csrf("/login")
    # A new connection for the post: preparing 150 clients takes longer than the server keeps an
    # idle keep-alive connection, and a post racing that close would fail for the wrong reason.
    client.http.close()
    client.http = httpx.Client(follow_redirects=False, timeout=30)
    return lambda: client.post("/login", {"csrf": token, "username": user, "password": password})


def test_150_concurrent_passwords_check_no_more_than_the_allowance(console: str, admin: Admin) -> None:
    jobs = [_login_attempt(console, admin.name, f"wrong-password-{i}") for i in range(149)]
    jobs.append(_login_attempt(console, admin.name, admin.password))  # the right one, last
    statuses = Counter(_all_at_once(jobs))
    assert 500 not in statuses, statuses
    # Only a checked attempt can answer 401 (wrong) or 303 (logged in); the rest were refused unchecked.
    assert statuses[401] + statuses[303] <= CHECKED_AT_MOST, statuses
    assert statuses[429] >= 150 - CHECKED_AT_MOST, statuses
    assert set(statuses) <= {401, 303, 429}, statuses


def test_40_concurrent_wrong_passwords_for_an_unknown_user(console: str, admin: Admin) -> None:
    statuses = Counter(_all_at_once([_login_attempt(console, "mallory", "guess-guess") for _ in range(40)]))
    assert statuses[401] <= CHECKED_AT_MOST, statuses
    assert statuses[401] + statuses[429] == 40, statuses


def test_60_concurrent_wrong_codes_on_one_session(console: str, admin: Admin) -> None:
    client = ConsoleClient(console)
    token = client.csrf("/login")
    response = client.post("/login", {"csrf": token, "username": admin.name, "password": admin.password})
    assert response.status_code == 303, response.text
    token = client.csrf("/login/factor")
    good = admin.code()
    wrong = "123456" if good != "123456" else "654321"

    def attempt() -> Any:
        return client.http.post(
            console + "/login/factor",
            data={"csrf": token, "code": wrong},
            headers={"cookie": f"{client.cookie_name}={client.cookie}"},
        )

    statuses = Counter(_all_at_once([attempt for _ in range(60)]))
    assert 500 not in statuses, statuses
    assert statuses[401] <= CHECKED_AT_MOST, statuses
    assert statuses[401] + statuses[429] == 60, statuses


def test_a_huge_user_name_is_cut_before_it_is_stored_or_shown(
    console: str, admin: Admin, portway_server: ServerHandle
) -> None:
    name = "x" * 20_000
    response = _login_attempt(console, name, "whatever-password")()
    assert response.status_code == 401
    assert name not in response.text
    db = Database.open(portway_server.env.store_url)
    try:
        with db.transaction() as tx:
            longest = tx.scalar("SELECT MAX(LENGTH(key)) FROM console_attempts")
    finally:
        db.close()
    assert longest <= 200
