"""Talking to the web app in tests: in memory through ASGI, or over a real socket with uvicorn.

The in-memory client is httpx over ``ASGITransport`` (the app runs for real, just without a
socket) and keeps cookies between requests, so it signs in like a browser; the live server is
uvicorn in a background thread on 127.0.0.1 and a free port, for
the browser tests.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from wholeplace.governance.users import create_token, create_user


class AppClient:
    """Synchronous requests to an app in memory, keeping cookies like a browser; as a context
    manager, closes the app's stores. ``token`` sends an API token with every request."""

    def __init__(self, app: FastAPI, *, token: str | None = None) -> None:
        self.app = app
        self.cookies = httpx.Cookies()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def __enter__(self) -> AppClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.app.state.stores.close()

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        # A thread of its own, so the request runs in a fresh event loop even when another
        # library (Playwright's sync API in the browser tests) keeps one running in this thread.
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, self._request(method, url, **kwargs)).result()

    async def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app)
        headers = {**self.headers, **kwargs.pop("headers", {})}
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", cookies=self.cookies) as client:
            response = await client.request(method, url, headers=headers, **kwargs)
            self.cookies = httpx.Cookies(client.cookies)
            return response

    def csrf_token(self, page: str = "/sign-in") -> str:
        """The CSRF token of this client's session, as a form on ``page`` carries it."""
        found = CSRF_INPUT.search(self.get(page).text)
        assert found, f"{page} has no CSRF token"
        return found.group(1)

    def sign_in(self, email: str, password: str, *, next_path: str = "/") -> httpx.Response:
        """Sign in through the real form, as a person would."""
        data = {"email": email, "password": password, "next": next_path, "csrf_token": self.csrf_token()}
        return self.post("/sign-in", data=data)

    def declare_purpose(self, purpose: str) -> httpx.Response:
        """Choose the purpose of the session's reads through the purpose form."""
        form = {"purpose": purpose, "next": "/", "csrf_token": self.csrf_token("/purpose")}
        response = self.post("/purpose", data=form)
        assert response.status_code == 303, response.text
        return response


CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "correct horse battery staple"


def add_user(app: FastAPI, role: str = "analyst", partner: str = "police-testshire-police",
             email: str | None = None) -> str:
    """A local account with the test ``PASSWORD`` in the app's store; returns its email address."""
    email = email or f"{role}@{partner}.example.org"
    create_user(stores=app.state.stores, email=email, partner=partner, role=role, password=PASSWORD)
    return email


PURPOSE = "demand_analysis"  # the purpose test clients declare unless told otherwise


def signed_in(app: FastAPI, role: str = "analyst", partner: str = "police-testshire-police",
              purpose: str | None = PURPOSE) -> AppClient:
    """A client signed in through the sign-in form as a new user with ``role``, having declared ``purpose``."""
    client = AppClient(app)
    response = client.sign_in(add_user(app, role, partner), PASSWORD)
    assert response.status_code == 303, response.text
    if purpose is not None:
        client.declare_purpose(purpose)
    return client


def with_token(app: FastAPI, role: str = "analyst", partner: str = "police-testshire-police",
               purpose: str | None = PURPOSE) -> AppClient:
    """A client sending a new API token of a new user with ``role``, as a machine client would, declaring
    ``purpose`` in the Wholeplace-Purpose header of every request."""
    _, token = create_token(stores=app.state.stores, email=add_user(app, role, partner), name="tests")
    client = AppClient(app, token=token)
    if purpose is not None:
        client.headers["Wholeplace-Purpose"] = purpose
    return client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 until the block ends; yields the base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web app did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
