"""Response models of the read side: the shapes of ``services.queries`` and the treaty
reports, for OpenAPI and for the clients. They allow extra keys, so a field the queries
add reaches clients before it is described here."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class View(BaseModel):
    model_config = ConfigDict(extra="allow")


# -- one request -------------------------------------------------------------------------


class Ref(View):
    reference: str
    request_id: str | None
    state: str | None


class Basis(View):
    """``type`` is ``instrument`` (a treaty in force between both States) or the kind of
    another basis a central authority recorded (``bilateral_treaty``, ``reciprocity``)."""

    type: str
    instrument: str | None = None
    title: str | None = None
    in_force_since: str | None = None
    articles: dict[str, str | None] | None = None
    text: str | None = None
    central_authority: str | None = None
    recorded_by: str | None = None
    recorded_at: str | None = None


class Consent(View):
    to_state: str
    given_by: str
    at: str | None
    message_id: str = Field(description="The signed message of the requesting State's node.")
    signed: bool = Field(description="False: a legacy local record, which allows nothing.")


class Handling(View):
    confidential: bool
    use_limited_to: str | None
    no_onward_transfer: bool
    consents: list[Consent]


class Links(View):
    related: Ref | None
    follow_up_of: Ref | None
    follow_up: Ref | None
    extends: Ref | None
    extended_by: list[Ref | None]
    forwarded_from: Ref | None
    forwarded_to: list[Ref | None]


class PhoneContact(View):
    at: str | None
    origin: str
    by: str
    counterpart: str
    summary: str
    confirmed_in_writing_by: str | None


class Result(View):
    summary: str
    evidence_ids: list[str]


class CodeEntry(View):
    code: str
    title: str | None
    article: str | None


class TimelineEntry(View):
    at: str | None
    origin: str
    actor: str
    action: str
    from_status: str | None
    to_status: str
    codes: list[CodeEntry]
    note: str
    message_id: str | None


class Deadline(View):
    key: str
    kind: str
    due_at: str | None
    status: str
    resolved_at: str | None
    missed_at: str | None
    escalated_at: str | None
    escalations: int
    overdue: bool | None = None


class Offence(View):
    number: int
    article: str | None
    title: str | None


class Provision(View):
    reference: str
    title: str
    dual_criminality_required: bool | None
    note: str | None


class DualCriminality(View):
    state: str
    instrument: str
    offence: Offence
    provisions: list[Provision]


class RequestView(View):
    """One request as this desk sees it (``services.queries.request_view``)."""

    id: str
    reference: str
    direction: str
    kind: str
    kind_title: str | None
    kind_article: str | None
    instrument: str
    status: str
    urgency: str
    requesting_state: str
    requested_state: str
    peer_node: str | None
    allowed_actions: list[str]
    elements: dict[str, Any]
    legal_basis: Basis | None
    other_basis: Basis | None
    handling: Handling
    preservation_until: str | None
    links: Links
    phone_contacts: list[PhoneContact]
    results: list[Result]
    timeline: list[TimelineEntry]
    deadlines: list[Deadline]
    dual_criminality: DualCriminality | None
    created_at: str | None
    sent_at: str | None
    received_at: str | None
    acknowledged_at: str | None
    closed_at: str | None


# -- lists -------------------------------------------------------------------------------


class RequestSummary(View):
    """Case metadata only: no content (auditors may list)."""

    id: str
    reference: str
    direction: str
    kind: str
    urgency: str
    status: str
    requesting_state: str
    requested_state: str
    created_at: str | None
    sent_at: str | None
    received_at: str | None
    acknowledged_at: str | None
    closed_at: str | None


class RequestList(View):
    items: list[RequestSummary]


class InboxItem(View):
    id: str
    reference: str
    kind: str
    urgency: str
    status: str
    requesting_state: str
    received_at: str | None
    acknowledged: bool
    next_deadline: Deadline | None


class Inbox(View):
    items: list[InboxItem]
    next_cursor: str | None = Field(
        description="Give it as `cursor` for the page after this one; null on the last page."
    )
    previous_cursor: str | None = Field(
        description="Give it as `cursor` for the page before this one; null on the first page."
    )


# -- directory ---------------------------------------------------------------------------


class LocalTime(View):
    zone: str
    utc_offset: str
    local_time: str


class NodeEntry(View):
    node_id: str
    state: str
    name: str
    url: str
    fingerprint: str
    status: str
    pinned_at: str | None
    time_zones: list[LocalTime]


class DutyOfficer(View):
    user_id: str
    username: str
    display_name: str
    position: str
    starts_at: str
    ends_at: str


class OnCall(View):
    at: str
    primary: DutyOfficer | None
    backup: DutyOfficer | None


class ContactPointEntry(View):
    state: str
    kind: str  # point_of_contact_24_7 | central_authority
    article: str
    article_confirmed: bool
    agency: str
    phones: list[str]
    emails: list[str]
    languages: list[str]  # ISO 639-1
    channels: list[str]
    requires_dual_criminality: bool | None  # null: unknown
    notes: str
    node_id: str | None
    last_verified: str  # YYYY-MM-DD
    verified_by: str
    stale: bool  # last verified over 180 days ago
    time_zones: list[LocalTime]


class Directory(View):
    node: NodeEntry
    on_call: OnCall
    peers: list[NodeEntry]
    contact_points: list[ContactPointEntry] = []


# -- treaty ------------------------------------------------------------------------------


class StatusSource(View):
    source: str
    as_of: str | None
    hypothetical: bool


class LegalBasis(View):
    instrument: str
    in_force_since: str


class Between(View):
    a: str
    b: str
    on: str
    legal_bases: list[LegalBasis]
    status_source: StatusSource


class Party(View):
    iso2: str
    in_force_from: str


class InstrumentStatus(View):
    instrument: str
    on: str
    counted_instruments: int
    entry_into_force: str | None
    parties: list[Party]
    status_source: StatusSource


class Ground(View):
    code: str
    article: str
    title: str
    applies_to: list[str]
    requires_reservation: str | None = None  # open only to a Party that reserved it
    not_for_convention_offences: bool = False  # never for an offence of the instrument


class DelayReason(View):
    code: str
    title: str
    legal: bool
    article: str


class Grounds(View):
    instrument: str
    refusal_article: str
    refusal_grounds: list[Ground]
    delay_reasons: list[DelayReason]
