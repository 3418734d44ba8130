"""The media type of an evidence file, sniffed from its first bytes.

A client's ``Content-Type`` or the file's extension are claims; the node records what the
bytes are. The table covers the formats evidence usually comes in (images, PDF, archives,
packet captures, disk and mail exports); anything else is ``text/plain`` when the head
decodes as UTF-8 without control characters, else ``application/octet-stream``.
"""

from __future__ import annotations

SNIFF_BYTES = 512  # how much of the head the sniffer needs

_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"%PDF-", "application/pdf"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"PK\x03\x04", "application/zip"),
    (0, b"PK\x05\x06", "application/zip"),
    (0, b"\x1f\x8b", "application/gzip"),
    (0, b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (0, b"Rar!\x1a\x07", "application/vnd.rar"),
    (0, b"\xd4\xc3\xb2\xa1", "application/vnd.tcpdump.pcap"),
    (0, b"\xa1\xb2\xc3\xd4", "application/vnd.tcpdump.pcap"),
    (0, b"\x0a\x0d\x0d\x0a", "application/x-pcapng"),
    (0, b"SQLite format 3\x00", "application/vnd.sqlite3"),
    (0, b"age-encryption.org/v1\n", "application/age-encrypted"),
    (0, b"-----BEGIN PGP MESSAGE-----", "application/pgp-encrypted"),
    (0, b"\x7fELF", "application/x-executable"),
    (0, b"MZ", "application/vnd.microsoft.portable-executable"),
    (0, b"EVF\x09\x0d\x0a\xff\x00", "application/x-ewf"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
    (0, b"{\\rtf", "application/rtf"),
    (0, b"<?xml", "application/xml"),
    (257, b"ustar", "application/x-tar"),
)


def sniff_media_type(head: bytes) -> str:
    """The media type of a file whose first bytes are ``head`` (give ``SNIFF_BYTES``)."""
    for offset, magic, media_type in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return media_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if head.lstrip()[:1] in (b"{", b"[") and _is_text(head):
        return "application/json"
    if head.startswith((b"From ", b"Return-Path:", b"Received:")) and _is_text(head):
        return "message/rfc822"
    if not head:
        return "application/octet-stream"
    return "text/plain" if _is_text(head) else "application/octet-stream"


def _is_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the end of the head
            return False
        text = head[: exc.start].decode("utf-8")
    return all(ch in "\t\n\r\f" or ord(ch) >= 32 for ch in text) and "\x7f" not in text
