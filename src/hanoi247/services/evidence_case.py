"""The chain of custody of a request's evidence as CASE/UCO JSON-LD (CASE 1.x, UCO 1.x).

Each item is a ``uco-observable:File`` with a ``FileFacet`` (name, size) and a
``ContentDataFacet`` carrying its SHA-256. Each custody event is a
``case-investigation:InvestigativeAction`` (when, performed by which officer or node, on
which file) whose result is a ``case-investigation:ProvenanceRecord`` naming the exhibit.
Every node has an IRI under ``urn:hanoi247:<node>:`` ending in a name-based UUID (version
5, as UCO suggests; the items' own UUIDv7 ids are outside the pattern UCO checks), stable
for the same item and event, so re-exports and two nodes' exports merge without clashes.
``case_validate`` (PyPI ``case-utils``) accepts the result: see
tests/evidence/test_evidence_cli.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.evidence import CustodyEvent, EvidenceItem

CONTEXT = {
    "case-investigation": "https://ontology.caseontology.org/case/investigation/",
    "uco-action": "https://ontology.unifiedcyberontology.org/uco/action/",
    "uco-core": "https://ontology.unifiedcyberontology.org/uco/core/",
    "uco-identity": "https://ontology.unifiedcyberontology.org/uco/identity/",
    "uco-observable": "https://ontology.unifiedcyberontology.org/uco/observable/",
    "uco-types": "https://ontology.unifiedcyberontology.org/uco/types/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def case_document(
    request: CooperationRequest,
    items: Sequence[EvidenceItem],
    events: Sequence[CustodyEvent],
    *,
    node_id: str,
) -> dict[str, Any]:
    """The JSON-LD document (``@context`` + ``@graph``) for ``request``'s evidence."""
    kb = f"urn:hanoi247:{node_id}:"
    graph: list[dict[str, Any]] = []
    for item in items:
        graph.append(_file(kb, item))
    actors: dict[str, str] = {}
    for n, event in enumerate(events, start=1):
        performer = actors.setdefault(event.actor, _iri(kb, "identity", event.actor))
        file_iri = _iri(kb, "file", event.item_id)
        key = f"{event.item_id}:{n}:{event.action.value}:{event.at.isoformat()}"
        record_iri = _iri(kb, "provenance-record", key)
        graph.append(
            {
                "@id": record_iri,
                "@type": "case-investigation:ProvenanceRecord",
                "case-investigation:exhibitNumber": f"{request.reference}/{event.item_id}",
                "uco-core:description": f"evidence:{event.action.value} at {event.node_id}",
                "uco-core:object": [{"@id": file_iri}],
            }
        )
        graph.append(
            {
                "@id": _iri(kb, "investigative-action", key),
                "@type": "case-investigation:InvestigativeAction",
                "uco-core:name": f"evidence:{event.action.value}",
                "uco-core:description": _description(event),
                "uco-action:startTime": {
                    "@type": "xsd:dateTime",
                    "@value": event.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                },
                "uco-action:performer": {"@id": performer},
                "uco-action:object": [{"@id": file_iri}],
                "uco-action:result": [{"@id": record_iri}],
            }
        )
    for actor, iri in actors.items():
        graph.append({"@id": iri, "@type": "uco-identity:Identity", "uco-core:name": actor})
    return {"@context": CONTEXT, "@graph": graph}


def _iri(kb: str, kind: str, key: str) -> str:
    return f"{kb}{kind}-{uuid.uuid5(uuid.NAMESPACE_URL, f'{kb}{kind}:{key}')}"


def _description(event: CustodyEvent) -> str:
    text = f"{event.action.value} by {event.actor} at node {event.node_id}; SHA-256 {event.sha256}"
    return f"{text} ({event.detail})" if event.detail else text


def _file(kb: str, item: EvidenceItem) -> dict[str, Any]:
    iri = _iri(kb, "file", item.item_id)
    return {
        "@id": iri,
        "@type": "uco-observable:File",
        "uco-core:hasFacet": [
            {
                "@id": _iri(kb, "file-facet", item.item_id),
                "@type": "uco-observable:FileFacet",
                "uco-observable:fileName": item.file_name,
                "uco-observable:sizeInBytes": {"@type": "xsd:integer", "@value": str(item.size)},
            },
            {
                "@id": _iri(kb, "content-data-facet", item.item_id),
                "@type": "uco-observable:ContentDataFacet",
                "uco-observable:mimeType": item.media_type,
                "uco-observable:hash": [
                    {
                        "@id": _iri(kb, "hash", item.item_id),
                        "@type": "uco-types:Hash",
                        "uco-types:hashMethod": "SHA256",
                        "uco-types:hashValue": {"@type": "xsd:hexBinary", "@value": item.sha256},
                    }
                ],
            },
        ],
    }
