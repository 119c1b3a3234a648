"""
The connection form and the Test button in the web UI, with a real ``airflow api-server``
and Debian's Chromium, against the Control Room emulator.

Set ``AA_UI_UPDATE_SCREENSHOT=1`` to refresh ``docs/images/connection-form.png``.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

pytestmark = [pytest.mark.ui, pytest.mark.browser]

DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "images" / "connection-form.png"
MODE_LABELS = {"password": "Username + password", "api_key": "Username + API key", "token": "Pre-issued token"}


# -- driving the form -----------------------------------------------------------------


def open_add_dialog(page: Page) -> Locator:
    page.get_by_role("button", name="Add Connection").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("heading", name="Add Connection")).to_be_visible()
    return dialog


def choose_automation_anywhere(page: Page, dialog: Locator) -> None:
    dialog.get_by_role("combobox", name="Connection Type").click()
    page.get_by_role("option", name="Automation Anywhere", exact=True).click()
    expect(dialog.get_by_role("button", name="Extra Fields", exact=True)).to_be_visible()


def open_section(dialog: Locator, name: str) -> None:
    """Open one accordion section of the form (the form keeps only one open at a time)."""
    trigger = dialog.get_by_role("button", name=name, exact=True)
    if trigger.get_attribute("aria-expanded") != "true":
        trigger.click()
    expect(trigger).to_have_attribute("aria-expanded", "true")


def extra_field(dialog: Locator, name: str) -> Locator:
    """A conn-field input: the FlexibleForm names it ``element_<name>``."""
    return dialog.locator(f"input[name=element_{name}]")


def field_group(dialog: Locator, name: str) -> Locator:
    """The labelled row around a conn-field (label, input, description)."""
    return dialog.get_by_role("group").filter(has=dialog.page.locator(f"input[name=element_{name}]"))


def set_switch(dialog: Locator, name: str, on: bool) -> None:
    box = extra_field(dialog, name)
    if box.is_checked() != on:
        dialog.locator(f'[id="switch:element_{name}"]').click()  # the switch, over its 1 px checkbox
    expect(box).to_be_checked(checked=on)


def choose_auth_type(page: Page, dialog: Locator, auth_type: str) -> None:
    dialog.get_by_role("combobox", name="Auth type").click()
    page.get_by_role("option", name=MODE_LABELS[auth_type], exact=True).click()
    expect(extra_field(dialog, "auth_type")).to_have_value(auth_type)


def fill_connection(
    page: Page,
    conn_id: str,
    *,
    host: str,
    auth_type: str,
    login: str | None = None,
    password: str | None = None,
    api_key: str | None = None,
    token: str | None = None,
    multiple_login: bool | None = None,
    verify_ssl: bool | None = None,
    timeout: str | None = None,
) -> Locator:
    dialog = open_add_dialog(page)
    dialog.get_by_label("Connection ID").fill(conn_id)
    choose_automation_anywhere(page, dialog)
    open_section(dialog, "Standard Fields")
    dialog.get_by_label("Control Room URL", exact=True).fill(host)
    if login is not None:
        dialog.get_by_label("Username", exact=True).fill(login)
    if password is not None:
        dialog.get_by_label("Password", exact=True).fill(password)
    open_section(dialog, "Extra Fields")
    choose_auth_type(page, dialog, auth_type)
    if api_key is not None:
        extra_field(dialog, "api_key").fill(api_key)
    if token is not None:
        extra_field(dialog, "token").fill(token)
    if multiple_login is not None:
        set_switch(dialog, "multiple_login", multiple_login)
    if verify_ssl is not None:
        set_switch(dialog, "verify_ssl", verify_ssl)
    if timeout is not None:
        extra_field(dialog, "timeout").fill(timeout)
        expect(extra_field(dialog, "timeout")).to_have_value(timeout)
    return dialog


def save(page: Page, dialog: Locator, conn_id: str) -> None:
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("status").filter(has_text="Connection has been successfully created.")).to_be_visible()
    expect(connection_row(page, conn_id)).to_be_visible()


def connection_row(page: Page, conn_id: str) -> Locator:
    return page.get_by_role("row").filter(has=page.get_by_role("cell", name=conn_id, exact=True))


def press_test(page: Page, conn_id: str) -> Locator:
    """Press the row's Test button; returns the result toast."""
    connection_row(page, conn_id).get_by_role("button", name="Test Connection").click()
    toast = page.get_by_role("status").filter(has_text="Test Connection")
    expect(toast).to_be_visible()
    return toast


def assert_test_button_traffic(traffic, *, success: bool) -> None:
    """One test call, answered by the hook (after the #73298 re-send when that bug struck)."""
    assert len(traffic.exchanges) == 1, traffic.exchanges
    exchange = traffic.exchanges[0]
    assert exchange["status"] == 200, exchange
    assert exchange["answer"]["status"] is success, exchange


# -- the stored connection ------------------------------------------------------------


def stored_connection(api_server, conn_id: str) -> dict[str, Any]:
    """The row the API server saved, decrypted with the server's own Fernet key."""
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from cryptography.fernet import Fernet
    from sqlalchemy import select

    with create_session() as session:
        row = session.execute(
            select(
                Connection.conn_type,
                Connection.host,
                Connection.login,
                Connection.port,
                Connection._password,
                Connection.is_encrypted,
                Connection._extra,
                Connection.is_extra_encrypted,
            ).where(Connection.conn_id == conn_id)
        ).one_or_none()
    assert row is not None, f"connection {conn_id!r} was not saved"
    fernet = Fernet(api_server.fernet_key.encode())

    def plain(value: str | None, encrypted: bool) -> str | None:
        return fernet.decrypt(value.encode()).decode() if value and encrypted else value

    extra = plain(row._extra, row.is_extra_encrypted)
    return {
        "conn_type": row.conn_type,
        "host": row.host,
        "login": row.login,
        "port": row.port,
        "password": plain(row._password, row.is_encrypted),
        "extra": json.loads(extra) if extra else {},
        "encrypted": (row.is_encrypted, row.is_extra_encrypted),
    }


def delete_connection(conn_id: str) -> None:
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import delete

    with create_session() as session:
        session.execute(delete(Connection).where(Connection.conn_id == conn_id))


@pytest.fixture
def new_conn_id():
    """``new_conn_id(name)`` → ``aa_ui_<name>``, absent from the database; removed after the test."""
    made: list[str] = []

    def make(name: str) -> str:
        conn_id = f"aa_ui_{name}"
        delete_connection(conn_id)
        made.append(conn_id)
        return conn_id

    yield make
    for conn_id in made:
        delete_connection(conn_id)


# -- the screenshot -------------------------------------------------------------------


def screenshot_both_sections(page: Page, dialog: Locator, path: Path) -> None:
    """
    The filled dialog with its standard fields open, and beside it with its extra fields open
    (the form keeps one section open at a time): two real screenshots, put side by side.
    """
    shots = []
    for section in ("Standard Fields", "Extra Fields"):
        open_section(dialog, section)
        shots.append(base64.b64encode(dialog.screenshot(animations="disabled")).decode())
    canvas = page.context.new_page()
    try:
        images = "".join(f'<img src="data:image/png;base64,{shot}">' for shot in shots)
        canvas.set_content(
            "<body style='margin:0;background:#f4f6f8'>"
            f"<div id=both style='display:inline-flex;gap:16px;padding:16px;align-items:flex-start'>{images}</div>"
            "</body>"
        )
        expect(canvas.locator("img").nth(1)).to_be_visible()
        canvas.locator("#both").screenshot(path=str(path))
    finally:
        canvas.close()
    open_section(dialog, "Extra Fields")


# -- tests ----------------------------------------------------------------------------


def test_the_form_offers_the_provider_fields_and_the_saved_connection_passes_the_test_button(
    page, api_server, aa_emulator, new_conn_id, connection_test_traffic, tmp_path
):
    conn_id = new_conn_id("password")
    credentials = aa_emulator.credentials("password")
    dialog = open_add_dialog(page)
    dialog.get_by_label("Connection ID").fill(conn_id)
    choose_automation_anywhere(page, dialog)

    # Standard fields: relabelled, with placeholders; port and schema hidden.
    open_section(dialog, "Standard Fields")
    host = dialog.get_by_label("Control Room URL", exact=True)
    login = dialog.get_by_label("Username", exact=True)
    password = dialog.get_by_label("Password", exact=True)
    expect(host).to_have_attribute("name", "host")
    expect(host).to_have_attribute(
        "placeholder", "https://mycompany.my.automationanywhere.digital (http:// only for test servers)"
    )
    expect(login).to_have_attribute("name", "login")
    expect(password).to_have_attribute("name", "password")
    expect(password).to_have_attribute("type", "password")
    expect(dialog.locator("input[name=port]")).to_have_count(0)
    expect(dialog.locator("input[name=schema]")).to_have_count(0)
    host.fill(aa_emulator.url)
    login.fill(credentials["login"])
    password.fill(credentials["password"])

    # Extra fields: the auth-mode dropdown with friendly labels, masked secrets, switches, timeout.
    open_section(dialog, "Extra Fields")
    expect(field_group(dialog, "auth_type")).to_contain_text("Auth type")
    dialog.get_by_role("combobox", name="Auth type").click()
    expect(page.get_by_role("option")).to_have_text(list(MODE_LABELS.values()))
    page.get_by_role("option", name=MODE_LABELS["password"], exact=True).click()
    expect(extra_field(dialog, "auth_type")).to_have_value("password")
    for name, label in (("api_key", "API key"), ("token", "Token")):
        expect(field_group(dialog, name)).to_contain_text(label)
        expect(extra_field(dialog, name)).to_have_attribute("type", "password")
    expect(field_group(dialog, "multiple_login")).to_contain_text("Multiple login")
    # The help says when it is needed, before sessions end each other in a deployment.
    expect(field_group(dialog, "multiple_login")).to_contain_text("Allow multiple sessions")
    expect(extra_field(dialog, "multiple_login")).not_to_be_checked()
    expect(field_group(dialog, "verify_ssl")).to_contain_text("Verify TLS certificates")
    expect(extra_field(dialog, "verify_ssl")).to_be_checked()
    expect(field_group(dialog, "timeout")).to_contain_text("Timeout (seconds)")
    expect(extra_field(dialog, "timeout")).to_have_value("30")
    set_switch(dialog, "multiple_login", True)
    extra_field(dialog, "timeout").fill("15")

    shot = tmp_path / "connection-form.png"
    screenshot_both_sections(page, dialog, shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    if os.environ.get("AA_UI_UPDATE_SCREENSHOT") == "1":
        DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, DOCS_SCREENSHOT)

    save(page, dialog, conn_id)
    stored = stored_connection(api_server, conn_id)
    assert stored["conn_type"] == "automation_anywhere"
    assert (stored["host"], stored["login"], stored["password"]) == (
        aa_emulator.url,
        credentials["login"],
        credentials["password"],
    )
    assert stored["port"] is None
    assert stored["encrypted"] == (True, True)  # password and extra (API key, token) at rest
    assert stored["extra"] == {
        "auth_type": "password",
        "api_key": None,
        "token": None,
        "multiple_login": True,
        "session_cache": False,
        "verify_ssl": True,
        "timeout": 15,
        "max_response_bytes": 67108864,
    }

    toast = press_test(page, conn_id)
    expect(toast).to_contain_text("Test Connection Successful")
    expect(toast).to_contain_text(f"Connected to {aa_emulator.url} as '{credentials['login']}' (auth_type='password')")
    assert_test_button_traffic(connection_test_traffic, success=True)
    assert aa_emulator.counters.logins(credentials["login"]) == 1


@pytest.mark.parametrize("auth_type", ["api_key", "token"])
def test_api_key_and_token_connections_from_the_form_pass_the_test_button(
    page, api_server, aa_emulator, new_conn_id, connection_test_traffic, auth_type
):
    conn_id = new_conn_id(auth_type)
    credentials = aa_emulator.credentials(auth_type)
    secret = credentials[auth_type]
    dialog = fill_connection(
        page,
        conn_id,
        host=aa_emulator.url,
        auth_type=auth_type,
        login=credentials["login"] or None,
        verify_ssl=False,  # the other switch position (the emulator speaks plain HTTP anyway)
        timeout="5",
        **{auth_type: secret},
    )
    expect(extra_field(dialog, auth_type)).to_have_attribute("type", "password")
    expect(extra_field(dialog, auth_type)).to_have_value(secret)
    save(page, dialog, conn_id)
    stored = stored_connection(api_server, conn_id)
    assert stored["extra"]["auth_type"] == auth_type and stored["extra"][auth_type] == secret
    assert stored["extra"]["verify_ssl"] is False and stored["extra"]["timeout"] == 5

    toast = press_test(page, conn_id)
    expect(toast).to_contain_text("Test Connection Successful")
    expect(toast).to_contain_text(f"Connected to {aa_emulator.url}")
    expect(toast).to_contain_text(f"(auth_type='{auth_type}')")
    assert_test_button_traffic(connection_test_traffic, success=True)
    assert aa_emulator.counters.logins() == (1 if auth_type == "api_key" else 0)


def test_a_wrong_password_shows_the_refusal_after_the_test_button(
    page, aa_emulator, new_conn_id, connection_test_traffic
):
    conn_id = new_conn_id("wrong_password")
    login = aa_emulator.credentials("password")["login"]
    dialog = fill_connection(
        page, conn_id, host=aa_emulator.url, auth_type="password", login=login, password="not-the-password"
    )
    save(page, dialog, conn_id)

    toast = press_test(page, conn_id)
    expect(toast).to_contain_text("Test Connection Failed")
    expect(toast).to_contain_text(f"Login refused for user '{login}' (auth_type='password'): check the password")
    expect(toast).to_contain_text("HTTP 401")
    assert_test_button_traffic(connection_test_traffic, success=False)
    assert "not-the-password" not in connection_test_traffic.exchanges[0]["answer"]["message"]
