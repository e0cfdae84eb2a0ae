"""A clinician's path through the console in a real browser, on real Kafka."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from attune_auth.principal import Role
from attune_runtime.clock import SystemClock
from attune_schemas import (
    Alert,
    AlertKind,
    CrisisCategory,
    Evidence,
    MarkerFamily,
    MessageSent,
    RuptureAssessment,
    RuptureType,
    Sender,
    Severity,
)
from attune_schemas.assessment import Engagement, TriggeringTurn
from tests.browser.conftest import SCREENSHOTS, Console
from tests.factories import alert, assessment, recent_turns
from tests.identity import user_bearer

pytestmark = pytest.mark.browser

EXCERPT = "there is no reason to keep going"
TRIGGER = "Have you tried writing three good things down each evening?"
FLAGGED = f"I just feel {EXCERPT} anymore."  # the excerpt at 12, as the evidence says


def crisis(tenant: str = "tenant-a") -> Alert:
    return alert(
        conversation_id=f"c-{uuid.uuid4().hex[:8]}",
        kind=AlertKind.CRISIS,
        severity=Severity.CRITICAL,
        tenant_id=tenant,
    ).model_copy(
        update={
            "crisis_categories": (CrisisCategory.SUICIDAL_IDEATION,),
            "rupture_type": RuptureType.WITHDRAWAL,
            "evidence": (
                Evidence(
                    marker="suicidal_ideation",
                    family=MarkerFamily.CRISIS,
                    message_id="m7",
                    start=12,
                    end=12 + len(EXCERPT),
                    excerpt=EXCERPT,
                ),
                Evidence(
                    marker="minimal_response",
                    family=MarkerFamily.WITHDRAWAL,
                    message_id="m5",
                    excerpt="ok",
                ),
            ),
            "triggering_turn": TriggeringTurn(message_id="m4", excerpt=TRIGGER, seconds_before=40),
            "model_version": "rupture-lr-browser",
            "recent_turns": recent_turns(
                (Sender.CLIENT, "Work has been a lot this month."),
                (Sender.AI, TRIGGER),
                (Sender.CLIENT, "ok"),
                (Sender.AI, "What feels hardest at the moment?"),
                (Sender.CLIENT, FLAGGED),
                first=3,
                until=datetime.now(UTC),
            ),
        }
    )


def engaged(conversation: str, at: datetime, length: float, latency: float) -> RuptureAssessment:
    return assessment(conversation_id=conversation, at=at).model_copy(
        update={
            "engagement": Engagement(
                reply_length_ratio=length, reply_latency_ratio=latency, client_turns_seen=6
            )
        }
    )


async def incident_json(console: Console, iid: str) -> dict[str, Any]:
    async with httpx.AsyncClient() as http:
        answer = await http.get(
            f"{console.url}/v1/incidents/{iid}",
            headers=user_bearer("tenant-a", Role.CLINICIAN, SystemClock()),
        )
    body: dict[str, Any] = answer.json()
    return body


async def test_a_crisis_arrives_live_is_joined_and_resolved_with_a_verdict(
    console: Console,
) -> None:
    page = await console.logged_in("tenant-a")
    await page.evaluate("window.notReloaded = true")
    control = await console.reader("conversation.control")
    a = crisis()
    start = datetime.now(UTC) - timedelta(minutes=4)
    for n, (length, latency) in enumerate([(1.1, 0.9), (0.9, 1.2), (0.5, 2.4), (0.2, 3.8)]):
        at = start + timedelta(minutes=n)
        await console.publish(engaged(a.conversation_id, at, length, latency))

    await console.publish(a)

    row = page.locator("#queue-rows tr.crisis")
    await expect(row).to_have_count(1, timeout=30_000)
    assert await page.evaluate("window.notReloaded === true")  # arrived without a reload
    await expect(row).to_contain_text("CRISIS")
    await expect(page.locator("#status")).to_contain_text("New crisis")
    waiting = row.locator("time.waiting")
    first = await waiting.inner_text()
    await expect(waiting).not_to_have_text(first, timeout=5_000)  # the waiting time counts up
    await page.screenshot(path=SCREENSHOTS / "queue.png", full_page=True)
    iid = await row.get_attribute("data-id")
    assert iid is not None and EXCERPT not in (await page.content())

    await row.get_by_role("link").click()
    await page.wait_for_url(f"**/console/incidents/{iid}")
    assert EXCERPT not in page.url
    await expect(page.locator("mark.evidence.fam-crisis")).to_have_text(EXCERPT)
    await expect(page.locator("li.turn.trigger")).to_contain_text("Likely triggering turn")
    await expect(page.locator("li.turn.trigger blockquote")).to_have_text(TRIGGER)
    timeline = page.get_by_role("list", name="Conversation timeline")
    await expect(timeline.locator(":scope > li.turn")).to_have_count(5)
    flagged = page.locator('li.turn.client.flagged[data-message="m7"]')
    await expect(flagged).to_contain_text("Flagged message")
    await expect(flagged.locator("blockquote")).to_have_text(FLAGGED)
    await expect(flagged.locator("blockquote mark.evidence.fam-crisis")).to_have_text(EXCERPT)
    await expect(page.locator('li.turn.ai[data-message="m6"] strong')).to_have_text("AI")
    await expect(page.get_by_text("Suicidal ideation").first).to_be_visible()
    await expect(page.get_by_role("heading", name="Crisis protocol")).to_be_visible()
    await expect(page.get_by_role("link", name="0800 000 111")).to_be_visible()
    await expect(
        page.get_by_role("heading", name="Repair moves: withdrawal rupture")
    ).to_be_visible()
    chart = page.get_by_role("img", name="Reply length and reply time against the client's usual")
    await expect(chart).to_be_visible()
    await expect(chart.locator("circle.dot.length")).to_have_count(4)
    await page.screenshot(path=SCREENSHOTS / "incident.png", full_page=True)

    await page.get_by_role("button", name="Acknowledge").click()
    await expect(page.locator("#incident-status")).to_have_text("acknowledged")
    await page.get_by_role("button", name="Join the conversation (pause the AI)").click()
    await expect(page.locator("#incident-status")).to_have_text("joined")
    await expect(page.locator("#ai-state")).to_have_text("paused")
    records = await control.wait_for(
        lambda vs: any(
            v["conversation_id"] == a.conversation_id and v["action"] == "clinician_joining"
            for v in vs
        )
    )
    ours = [v["action"] for v in records if v["conversation_id"] == a.conversation_id]
    assert "pause_ai" in ours  # the crisis paused it at once; joining keeps it paused
    await control.stop()
    said = "Hi, I'm Sam from the care team. I'm here with you now."
    await console.publish(
        MessageSent(
            event_id=uuid.uuid4(),
            conversation_id=a.conversation_id,
            tenant_id=a.tenant_id,
            occurred_at=datetime.now(UTC),
            message_id="m8",
            sender=Sender.CLINICIAN,
            text=said,
        )
    )
    joined = page.locator('li.turn.clinician[data-message="m8"]')
    for _ in range(60):  # the live conversation joins the timeline: seen on a reload
        await page.reload()
        if await joined.count():
            break
        await page.wait_for_timeout(500)
    await expect(joined.locator("blockquote")).to_have_text(said)
    await expect(joined.locator("strong").first).to_have_text("Clinician")

    await page.get_by_label("Outcome").select_option("client_safe")
    await page.get_by_label("This alert was").select_option("crisis_confirmed")
    await page.get_by_role("button", name="Resolve").click()
    await expect(page.get_by_text("Resolved by clinician@tenant-a")).to_be_visible()
    resolved = await incident_json(console, iid)
    assert resolved["status"] == "resolved" and resolved["outcome"] == "client_safe"
    [done] = [e for e in resolved["timeline"] if e["action"] == "resolved"]
    assert done["details"]["verdicts"] == 1

    await page.goto(f"{console.url}/console")
    await expect(page.locator(f'#queue-rows tr[data-id="{iid}"]')).to_have_count(0)
    await page.context.close()


async def test_another_tenants_clinician_never_sees_it(console: Console) -> None:
    a = crisis()
    await console.publish(a)
    mine = await console.logged_in("tenant-a")
    await expect(mine.locator("#queue-rows tr.crisis")).not_to_have_count(0, timeout=30_000)
    iid = await mine.locator("#queue-rows tr.crisis").first.get_attribute("data-id")

    theirs = await console.logged_in("tenant-b")
    await theirs.wait_for_timeout(1_000)  # a stream update or two: still nothing of tenant-a's
    await expect(theirs.locator("#queue-rows tr[data-id]")).to_have_count(0)
    answer = await theirs.goto(f"{console.url}/console/incidents/{iid}")
    assert answer is not None and answer.status == 404
    assert EXCERPT not in await theirs.content()
    await mine.context.close()
    await theirs.context.close()


async def focus_by_tab(page: Page, selector: str, limit: int = 40) -> None:
    """Press Tab until the element is focused: proves it is reachable by keyboard."""
    target = page.locator(selector)
    for _ in range(limit):
        if await target.evaluate("el => el === document.activeElement"):
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"{selector} not reachable with Tab")


async def test_the_whole_path_works_from_the_keyboard(console: Console) -> None:
    await console.publish(crisis())
    context = await console.browser.new_context()
    page = await context.new_page()
    await page.goto(f"{console.url}/console/login")
    # The username field takes the focus on load (autofocus); typing before that goes nowhere.
    await expect(page.locator("#username")).to_be_focused()
    await page.keyboard.type("clinician@tenant-a")
    await page.keyboard.press("Tab")
    await page.keyboard.type("correct horse battery staple")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{console.url}/console")
    await expect(page.locator("#queue-rows tr.crisis")).not_to_have_count(0, timeout=30_000)

    await focus_by_tab(page, "#queue-rows tr.crisis >> nth=0 >> a")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/console/incidents/*")
    # Someone else acknowledges it meanwhile: the open page says so without a reload.
    iid = await page.locator("article.incident").get_attribute("data-id")
    async with httpx.AsyncClient() as http:
        acked = await http.post(
            f"{console.url}/v1/incidents/{iid}/ack",
            headers=user_bearer("tenant-a", Role.SUPERVISOR, SystemClock()),
        )
    assert acked.status_code == 200
    await expect(page.locator("#changed")).to_contain_text("This incident is now acknowledged.")
    await focus_by_tab(page, "button[data-action=ack]")
    await page.keyboard.press("Enter")
    await expect(page.locator("#incident-status")).to_have_text("acknowledged")
    await focus_by_tab(page, "button[data-action=join]")
    await page.keyboard.press("Space")
    await expect(page.locator("#incident-status")).to_have_text("joined")
    await focus_by_tab(page, "button[data-action=handback]")
    await page.keyboard.press("Enter")
    await expect(page.locator("#ai-state")).to_have_text("talking with the client")
    await expect(page.locator("#incident-status")).to_have_text("acknowledged")
    await context.close()
