"""The console in a real headless Chromium (Debian's `chromium`, driven by Playwright), against
the escalation service as a process on real Kafka.

Playwright never downloads a browser here: it launches the machine's Chromium. Screenshots go
to .run/screenshots/ (git-ignored).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from playwright.async_api import Browser, Page, async_playwright

from attune_auth.principal import Role
from attune_schemas import Alert, MessageSent, RuptureAssessment, encode
from tests.identity import PASSWORD, seed, username
from tests.integration.conftest import TopicReader, bootstrap  # noqa: F401
from tests.integration.escalation_process import ROOT, EscalationProcess

SCREENSHOTS = ROOT / ".run" / "screenshots"
PROTOCOLS = """
default:
  steps: ["Join now and ask about safety directly."]
tenants:
  tenant-a:
    steps: ["Join now: the AI pauses.", "Ask about safety directly; agree a safety plan."]
    numbers: [{label: "Clinic crisis line", number: "0800 000 111"}]
"""


def chromium() -> str:
    found = os.environ.get("ATTUNE_CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.skip("Chromium is not installed (.ci/run installs Debian's chromium)")
    return found


@dataclass
class Console:
    process: EscalationProcess
    bootstrap: str
    browser: Browser

    @property
    def url(self) -> str:
        return self.process.url

    async def publish(self, a: Alert | RuptureAssessment | MessageSent) -> None:
        topic = (
            "alerts"
            if isinstance(a, Alert)
            else "conversation.events"
            if isinstance(a, MessageSent)
            else "rupture.assessments"
        )
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(
                f"{self.process.prefix}{topic}", encode(a), key=a.conversation_id.encode()
            )
        finally:
            await producer.stop()

    async def reader(self, topic: str) -> TopicReader:
        return await TopicReader(self.bootstrap, f"{self.process.prefix}{topic}").start()

    async def logged_in(self, tenant: str, role: Role = Role.CLINICIAN) -> Page:
        """A fresh browser context (its own cookies) with the tenant's user logged in."""
        context = await self.browser.new_context(viewport={"width": 1366, "height": 900})
        page = await context.new_page()
        await page.goto(f"{self.url}/console")
        assert page.url.endswith("/console/login")  # no session: the login page
        await page.get_by_label("Username").fill(username(tenant, role))
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Log in").click()
        await page.wait_for_url(f"{self.url}/console")
        await page.locator("#live[data-state=live]").wait_for()
        return page


@asynccontextmanager
async def running_console(
    bootstrap: str,  # noqa: F811
    workdir: Path,
    settings: dict[str, str] | None = None,
) -> AsyncIterator[Console]:
    """Escalation as a process (its own topics, the tests' identity) and a headless Chromium."""
    executable = chromium()
    await seed(workdir / "identity.db")
    protocols = workdir / "protocols.yaml"
    protocols.write_text(PROTOCOLS)
    process = EscalationProcess(
        bootstrap,
        workdir,
        settings={
            "ATTUNE_ESCALATION_GROUP_WAIT_SECONDS": "0",
            "ATTUNE_ESCALATION_CONSOLE_POLL_SECONDS": "0.2",
            "ATTUNE_ESCALATION_CRISIS_PROTOCOLS_FILE": str(protocols),
            **(settings or {}),
        },
        prefix=f"b{uuid.uuid4().hex[:10]}.",
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await process.start()
    try:
        async with async_playwright() as p:
            browser = await p.chromium.launch(
                executable_path=executable, headless=True, args=["--no-sandbox"]
            )
            try:
                yield Console(process, bootstrap, browser)
            finally:
                await browser.close()
    finally:
        process.stop()
        await process.delete_topics()


@pytest.fixture(scope="module")
async def console(
    bootstrap: str,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Console]:
    async with running_console(bootstrap, tmp_path_factory.mktemp("console")) as running:
        yield running
