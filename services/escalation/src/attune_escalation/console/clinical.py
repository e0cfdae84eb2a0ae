"""The words a clinician reads: markers by their 3RS names, signals, actions, repair moves.

Marker ids are the classifier's (models/ANNOTATION_GUIDE.md); the names are those of the
Rupture Resolution Rating System (3RS, Eubanks, Muran & Safran), with "therapist" read as the
AI assistant where the client is talking to it. The repair moves are the 3RS resolution
strategies, chosen per rupture type.
"""

from __future__ import annotations

from dataclasses import dataclass

WITHDRAWAL_MARKERS: dict[str, str] = {
    "denial": "Denial",
    "minimal_response": "Minimal response",
    "abstract_communication": "Abstract communication",
    "avoidant_storytelling": "Avoidant storytelling and/or shifting topic",
    "deferential_appeasing": "Being overly deferential and appeasing",
    "content_affect_split": "Content/affect split",
    "self_criticism_hopelessness": "Self-criticism and/or hopelessness",
}
CONFRONTATION_MARKERS: dict[str, str] = {
    "complaints_about_therapist": "Complaints/concerns about the therapist (the AI)",
    "rejecting_intervention": "Rejecting the therapist's intervention",
    "complaints_about_activities": "Complaints/concerns about the activities of therapy",
    "complaints_about_parameters": "Complaints/concerns about the parameters of therapy",
    "complaints_about_progress": "Complaints/concerns about progress in therapy",
    "defending_self": "Client defends self against the therapist",
    "control_pressure": "Efforts to control/pressure the therapist",
}
CRISIS_CATEGORIES: dict[str, str] = {
    "suicidal_ideation": "Suicidal ideation",
    "self_harm": "Self-harm",
    "harm_to_others": "Risk of harm to others",
    "abuse_disclosure": "Disclosure of abuse",
}
DISENGAGEMENT_SIGNALS: dict[str, str] = {
    "shorter_replies": "Replies much shorter than the client's own usual",
    "slower_replies": "Replies much slower than the client's own usual",
    "minimal_response_streak": "Several minimal replies in a row",
    "abandoned_after_ai_turn": "Left the conversation after an AI turn",
    "missed_sessions": "Missed sessions or check-ins",
    "low_feedback": "Low session rating",
}
FAMILIES: dict[str, str] = {
    "withdrawal": "Withdrawal marker",
    "confrontation": "Confrontation marker",
    "crisis": "Crisis language",
    "disengagement": "Disengagement signal",
}
KINDS: dict[str, str] = {
    "crisis": "Crisis",
    "rupture": "Alliance rupture",
    "disengagement": "Disengagement",
}
RUPTURE_TYPES: dict[str, str] = {
    "withdrawal": "Withdrawal rupture",
    "confrontation": "Confrontation rupture",
    "none": "No rupture type",
}
ACTIONS: dict[str, str] = {
    "opened": "Incident opened",
    "alert_grouped": "Further alert added",
    "severity_raised": "Severity raised",
    "notified": "Notified",
    "notification_failed": "Notification failed",
    "acknowledged": "Acknowledged",
    "joined": "Clinician joined; AI paused",
    "handed_back": "Handed back to the AI",
    "resolved": "Resolved",
    "escalated": "Paged (escalation chain)",
    "renotified": "Reminder sent",
    "reassigned": "Reassigned",
    "chain_exhausted": "Every tier paged without acknowledgement",
}
OUTCOMES: dict[str, str] = {
    "repaired": "Rupture repaired",
    "client_safe": "Client safe",
    "referred": "Referred on",
    "emergency_services": "Emergency services contacted",
    "no_response": "No response from the client",
    "false_alarm": "False alarm",
}
VERDICTS: dict[str, str] = {
    "true_rupture": "True rupture",
    "false_alarm": "False alarm",
    "crisis_confirmed": "Crisis confirmed",
    "wrong_type": "Wrong type",
}
ALL_MARKERS: dict[str, str] = {**WITHDRAWAL_MARKERS, **CONFRONTATION_MARKERS}


def marker_name(marker: str) -> str:
    """The clinical name of a marker, signal or crisis category; an unknown id, made readable."""
    for table in (ALL_MARKERS, CRISIS_CATEGORIES, DISENGAGEMENT_SIGNALS):
        if marker in table:
            return table[marker]
    return marker.replace("_", " ").capitalize()


@dataclass(frozen=True)
class RepairMove:
    name: str
    how: str  # what it sounds like, as an example to adapt


CLARIFY = RepairMove(
    "Clarify the misunderstanding",
    'Check what the client took the last reply to mean: "It sounds like that came across as '
    '... — is that right?"',
)
ACKNOWLEDGE = RepairMove(
    "Acknowledge the AI's part and apologise",
    'Own the misstep plainly, without defending it: "That suggestion missed what you were '
    "telling me. I'm sorry.\"",
)
INVITE = RepairMove(
    "Invite the client to say what did not help",
    "Open the door to feedback about the conversation itself: \"What about that didn't feel "
    'right for you?"',
)
CHANGE_TASK = RepairMove(
    "Change the task or goal",
    "Put the current exercise aside and return to what the client wants from today.",
)
RATIONALE = RepairMove(
    "Give a rationale",
    "Explain why the exercise or question was offered, and let the client decide whether it fits.",
)
VALIDATE = RepairMove(
    "Validate the client's stance",
    "Recognise the sense in the client's reaction: \"It makes sense you'd be frustrated if "
    'this feels like more of the same."',
)

REPAIR_MOVES: dict[str, tuple[RepairMove, ...]] = {
    # Withdrawal: the client moves away; make it safe to say what is wrong.
    "withdrawal": (INVITE, CLARIFY, VALIDATE, CHANGE_TASK),
    # Confrontation: the client moves against; take the AI's part first, then explain or change.
    "confrontation": (ACKNOWLEDGE, VALIDATE, INVITE, RATIONALE, CHANGE_TASK),
    # Disengagement without a named rupture: check in and renegotiate the work.
    "disengagement": (INVITE, CHANGE_TASK, CLARIFY),
}


def repair_moves(rupture_type: str, kinds: list[str]) -> tuple[str, tuple[RepairMove, ...]]:
    """(what the moves are for, the moves) for an incident's rupture type and alert kinds."""
    if rupture_type in ("withdrawal", "confrontation"):
        return RUPTURE_TYPES[rupture_type], REPAIR_MOVES[rupture_type]
    if "disengagement" in kinds or "rupture" in kinds:
        return KINDS["disengagement"], REPAIR_MOVES["disengagement"]
    return "", ()


SEVERITIES: dict[str, str] = {
    "critical": "Critical",
    "high": "High",
    "warning": "Warning",
}
SILENCE_STATES: dict[str, str] = {
    "active": "In force",
    "pending": "Starts later",
    "expired": "Ended",
}


def silence_matches(kind: str | None, severity: str | None, conversation_id: str | None) -> str:
    """What a silence mutes, in words: "Alliance rupture alerts, high severity, in one
    conversation"."""
    what = f"{KINDS.get(kind, kind)} alerts" if kind else "Alerts of any kind"
    if severity:
        what += f", {SEVERITIES.get(severity, severity).lower()} severity"
    return what + (" in one conversation" if conversation_id else " in every conversation")
