"""Referral notifications reach a real SMTP server (aiosmtpd on loopback): the receiving side on a new
referral, both sides when the scheduled ``wholeplace referrals expire`` job expires one; and the emails
hold a reference, a status and a link, never the person's details."""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from tests.support.web_client import free_port
from tests.unit.test_referrals import RECEIVER, REFERRER, draft, person, seed_directory
from wholeplace.cli.main import app as cli
from wholeplace.referrals.notify import notifications_for, send_email
from wholeplace.referrals.service import make_referral
from wholeplace.settings import Settings
from wholeplace.store import open_stores


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler, port = Inbox(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def settings_for(tmp_path: Path, port: int) -> Settings:
    return Settings(data_dir=tmp_path / "data", smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False,
                    smtp_from="referrals@wholeplace.example", public_url="https://wholeplace.example/")


def test_a_new_referral_emails_the_receiving_side_without_person_details(tmp_path: Path,
                                                                        inbox: tuple[Inbox, int]) -> None:
    handler, port = inbox
    settings = settings_for(tmp_path, port)
    stores = open_stores(settings)
    try:
        seed_directory(stores, tmp_path)
        referrer, receiver = person(stores, REFERRER), person(stores, RECEIVER)
        made = make_referral(stores=stores, settings=settings, user=referrer, draft=draft())
        assert [n.email_status for n in notifications_for(stores=stores, email=receiver.email)] == ["sent"]
    finally:
        stores.close()
    assert len(handler.messages) == 1
    recipients, message = handler.messages[0]
    body = message.get_payload(decode=True).decode()
    assert recipients == [receiver.email] and message["From"] == "referrals@wholeplace.example"
    assert message["Subject"] == f"New referral {made.row.reference}"
    assert f"https://wholeplace.example/referrals/{made.row.id}" in body
    assert not any(detail in body for detail in ("Ada", "07700", "1980", "Food for a family"))


def test_the_expiry_job_expires_overdue_referrals_and_emails_both_sides(
        tmp_path: Path, inbox: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch) -> None:
    handler, port = inbox
    settings = settings_for(tmp_path, port)
    stores = open_stores(settings)
    try:
        seed_directory(stores, tmp_path)
        referrer, receiver = person(stores, REFERRER), person(stores, RECEIVER)
        made = make_referral(stores=stores, settings=settings, user=referrer, draft=draft(),
                             now=datetime(2026, 3, 2, 9, tzinfo=UTC))
    finally:
        stores.close()
    for name, value in {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port), "SMTP_STARTTLS": "false"}.items():
        monkeypatch.setenv(f"WHOLEPLACE_{name}", value)
    args = ["referrals", "expire", "--data-dir", str(settings.data_dir)]
    early = CliRunner().invoke(cli, [*args, "--now", "2026-03-16T20:00"])
    assert early.exit_code == 0 and "0 referrals expired." in early.output
    result = CliRunner().invoke(cli, [*args, "--now", "2026-03-17T08:00"])
    assert result.exit_code == 0, result.output
    assert f"1 referrals expired: {made.row.reference}." in result.output
    expired = [(to, m["Subject"]) for to, m in handler.messages[1:]]
    subject = f"Referral {made.row.reference} is now Expired"
    assert sorted(expired) == sorted([([referrer.email], subject), ([receiver.email], subject)])


def test_an_unreachable_server_is_reported_not_raised(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=free_port(), smtp_starttls=False)
    status = send_email(settings=settings, to="someone@example.org", subject="Referral R-AAAAAA", body="x")
    assert status.startswith("failed: ConnectionRefusedError")
