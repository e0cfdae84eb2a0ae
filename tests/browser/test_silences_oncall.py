"""Silences and on call in a real browser: a supervisor silences a conversation's rupture
alerts (a silence that could match a crisis is refused, the reason shown at its field), a
clinician reads them, and a clinician takes this shift and sees themself on call."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import expect

from attune_auth.principal import Role
from attune_runtime.clock import SystemClock
from tests.browser.conftest import SCREENSHOTS, Console, running_console
from tests.identity import user_bearer, username

pytestmark = pytest.mark.browser

POLICIES = """
schedules:
  clinic-a-primary:
    time_zone: Europe/London
    rotation: {participants: [dr-ada, dr-ben], start_date: 2026-01-05, handoff: "09:00",
               shift_days: 1}
policies:
  - name: clinic-a
    tenants: [tenant-a]
    tiers: [{notify: [{schedule: clinic-a-primary}]}]
  - name: everyone-else
    tiers: [{}]
"""


@pytest.fixture(scope="module")
async def console(
    bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Console]:
    """The console with an escalation policy that pages tenant-a's schedule."""
    workdir = tmp_path_factory.mktemp("oncall")
    policies = workdir / "policies.yaml"
    policies.write_text(POLICIES)
    settings = {"ATTUNE_ESCALATION_POLICIES_FILE": str(policies)}
    async with running_console(bootstrap, workdir, settings) as running:
        yield running


async def test_a_supervisor_creates_a_silence_and_a_crisis_matching_one_is_refused(
    console: Console,
) -> None:
    page = await console.logged_in("tenant-a", Role.SUPERVISOR)
    await page.get_by_role("link", name="Silences").click()
    await page.wait_for_url(f"{console.url}/console/silences")
    await page.get_by_label("Why").fill("integration retries during maintenance")

    # Any kind, any severity: it could match a crisis.
    await page.get_by_role("button", name="Create silence").click()

    kind = page.get_by_label("Kind of alert")
    await expect(page.locator("#error-kind")).to_contain_text("could match a crisis alert")
    await expect(kind).to_have_attribute("aria-invalid", "true")
    await expect(kind).to_be_focused()
    await expect(page.locator("table.silences tr[data-id]")).to_have_count(0)
    await page.screenshot(path=SCREENSHOTS / "silence-refused.png", full_page=True)

    await kind.select_option("rupture")
    await page.get_by_label("Conversation (empty: every conversation)").fill("conv-noisy")
    await page.get_by_label("For", exact=True).select_option(label="4 hours")
    await page.get_by_role("button", name="Create silence").click()

    row = page.locator("table.silences tr[data-state=active]")
    await expect(row).to_have_count(1, timeout=15_000)
    await expect(row).to_contain_text("Alliance rupture alerts in one conversation: conv-noisy")
    await expect(row).to_contain_text(username("tenant-a", Role.SUPERVISOR))
    await expect(row).to_contain_text("integration retries during maintenance")
    await page.screenshot(path=SCREENSHOTS / "silences.png", full_page=True)

    # A clinician reads it, and cannot act.
    reader = await console.logged_in("tenant-a")
    await reader.goto(f"{console.url}/console/silences")
    await expect(reader.locator("table.silences tr[data-state=active]")).to_have_count(1)
    await expect(reader.locator("#new-silence")).to_have_count(0)
    await expect(reader.locator("button[data-expire]")).to_have_count(0)

    # The supervisor expires it.
    await row.get_by_role("button", name="Expire the silence").click()
    await expect(page.locator("table.silences tr[data-state=expired]")).to_have_count(1)


async def test_a_clinician_takes_this_shift_and_sees_themself_on_call(console: Console) -> None:
    me = username("tenant-a", Role.CLINICIAN)
    page = await console.logged_in("tenant-a")
    await page.get_by_role("link", name="On call").click()
    await page.wait_for_url(f"{console.url}/console/oncall")
    row = page.locator('tr[data-schedule="clinic-a-primary"]')
    await expect(row.locator("td.now")).to_contain_text("by the rotation")
    await expect(row.locator("td.now")).not_to_contain_text("(you)")

    # By keyboard: focus the button, press Enter.
    await row.get_by_role("button", name="Take this shift of clinic-a-primary").focus()
    await page.keyboard.press("Enter")

    await expect(row.locator("td.now")).to_contain_text(f"{me} (you)", timeout=15_000)
    await expect(row.locator("td.now")).to_contain_text("shift taken, until")
    await expect(row.get_by_role("button", name="Take this shift of")).to_be_disabled()
    await page.screenshot(path=SCREENSHOTS / "oncall.png", full_page=True)
    async with httpx.AsyncClient() as http:
        answer = await http.get(
            f"{console.url}/v1/oncall",
            headers=user_bearer("tenant-a", Role.CLINICIAN, SystemClock()),
        )
    [schedule] = answer.json()
    assert (schedule["now"]["clinician"], schedule["now"]["source"]) == (me, "taken")
