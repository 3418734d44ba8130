"""Evidence in S3-compatible object storage (production; SeaweedFS, MinIO, Ceph RGW, AWS).

Client: **boto3**. Its multipart-upload calls (create / upload_part / complete / abort)
map one to one onto the writer's contract (parts stream out as they fill, ``commit``
completes, ``abort`` discards), so a 4 GiB upload holds one 8 MiB part in memory and an
interrupted one leaves nothing readable. It is the client every S3-compatible server tests
against, and path-style addressing (what self-hosted servers need) is one config flag.
obstore is faster on many small objects, but evidence is few large objects where the
network is the limit, and its multipart API hides the abort we need to guarantee
"nothing partial".

Keys: ``blobs/<sha256>`` for committed ciphertext; a multipart upload in progress lives
under ``incoming/<random>`` and is invisible until completed, then copied server-side to
its content address. A small blob (one part) is put directly at ``blobs/<sha256>``.
``adopt`` (a received transfer, whose hash is known before the upload) uploads the staged
file once, in parts read straight from it, to ``blobs/<sha256>`` itself: no server-side
copy, and the parts are hashed on the way, so bytes that are not ``blob_id`` are never
completed.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from hanoi247.adapters.storage.blob_ids import check_blob_id
from hanoi247.domain.errors import IntegrityError, StorageFailed
from hanoi247.ports.evidence import BlobRange

PART_SIZE = 8 * 1024 * 1024  # S3 needs >= 5 MiB for every part but the last


@dataclass(frozen=True, slots=True)
class S3Location:
    endpoint_url: str
    bucket: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"


def _failed(exc: Exception, bucket: str) -> StorageFailed:
    code = ""
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
    return StorageFailed(
        f"the evidence bucket {bucket!r} cannot be used ({code or exc.__class__.__name__}); "
        "check the S3 endpoint, credentials and quota, then try again (nothing partial was kept)"
    )


class S3BlobWriter:
    def __init__(self, store: S3EvidenceStore) -> None:
        self._store = store
        self._buffer = bytearray()
        self._sha256 = hashlib.sha256()
        self._written = 0
        self._upload_id: str | None = None
        self._key = f"incoming/{secrets.token_hex(16)}"
        self._parts: list[dict[str, Any]] = []
        self._closed = False

    @property
    def written(self) -> int:
        return self._written

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self._closed:
            raise RuntimeError("this blob writer is closed")
        self._buffer += data
        self._sha256.update(data)
        self._written += len(data)
        while len(self._buffer) >= PART_SIZE:
            part = bytes(self._buffer[:PART_SIZE])
            del self._buffer[:PART_SIZE]
            self._upload_part(part)
        return len(data)

    def _upload_part(self, part: bytes) -> None:
        client, bucket = self._store.client, self._store.bucket
        try:
            if self._upload_id is None:
                answer = client.create_multipart_upload(Bucket=bucket, Key=self._key)
                self._upload_id = str(answer["UploadId"])
            number = len(self._parts) + 1
            answer = client.upload_part(
                Bucket=bucket, Key=self._key, UploadId=self._upload_id, PartNumber=number, Body=part
            )
            self._parts.append({"ETag": answer["ETag"], "PartNumber": number})
        except (BotoCoreError, ClientError) as exc:
            self.abort()
            raise _failed(exc, bucket) from None

    def commit(self) -> str:
        if self._closed:
            raise RuntimeError("this blob writer is closed")
        blob_id = self._sha256.hexdigest()
        client, bucket = self._store.client, self._store.bucket
        target = self._store.key_for(blob_id)
        try:
            if self._upload_id is None:
                client.put_object(Bucket=bucket, Key=target, Body=bytes(self._buffer))
            else:
                if self._buffer:
                    self._upload_part(bytes(self._buffer))
                client.complete_multipart_upload(
                    Bucket=bucket,
                    Key=self._key,
                    UploadId=self._upload_id,
                    MultipartUpload={"Parts": self._parts},
                )
                self._upload_id = None
                client.copy({"Bucket": bucket, "Key": self._key}, bucket, target)
                client.delete_object(Bucket=bucket, Key=self._key)
        except (BotoCoreError, ClientError) as exc:
            self.abort()
            raise _failed(exc, bucket) from None
        self._buffer = bytearray()
        self._closed = True
        return blob_id

    def abort(self) -> None:
        self._closed = True
        self._buffer = bytearray()
        client, bucket = self._store.client, self._store.bucket
        try:
            if self._upload_id is not None:
                client.abort_multipart_upload(
                    Bucket=bucket, Key=self._key, UploadId=self._upload_id
                )
                self._upload_id = None
            client.delete_object(Bucket=bucket, Key=self._key)
        except (BotoCoreError, ClientError):
            # The bucket is unreachable: the upload was never completed, so nothing under
            # blobs/ names it; the server's multipart expiry removes the parts.
            return

    def __enter__(self) -> S3BlobWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            self.abort()


class _BodyReader(io.RawIOBase):
    """A botocore streaming body as a ``BinaryIO`` (read in bounded blocks)."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._body.close()
        super().close()


class S3EvidenceStore:
    """``EvidenceStore`` in one bucket (created if absent)."""

    def __init__(self, location: S3Location, *, create_bucket: bool = True) -> None:
        self.bucket = location.bucket
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=location.endpoint_url,
            aws_access_key_id=location.access_key,
            aws_secret_access_key=location.secret_key,
            region_name=location.region,
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=60,
            ),
        )
        if create_bucket:
            try:
                self.client.head_bucket(Bucket=self.bucket)
            except ClientError:
                try:
                    self.client.create_bucket(Bucket=self.bucket)
                except (BotoCoreError, ClientError) as exc:
                    raise _failed(exc, self.bucket) from None
            except BotoCoreError as exc:
                raise _failed(exc, self.bucket) from None

    @staticmethod
    def key_for(blob_id: str) -> str:
        return f"blobs/{check_blob_id(blob_id)}"

    def writer(self) -> S3BlobWriter:
        return S3BlobWriter(self)

    def open(self, blob_id: str) -> BinaryIO:
        key = self.key_for(blob_id)
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _missing(exc):
                raise KeyError(blob_id) from None
            raise _failed(exc, self.bucket) from None
        except BotoCoreError as exc:
            raise _failed(exc, self.bucket) from None
        return io.BufferedReader(_BodyReader(answer["Body"]), buffer_size=1024 * 1024)

    def read_range(self, blob_id: str, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise ValueError("offset and length cannot be negative")
        if length == 0 or offset >= self.size(blob_id):
            return b""
        try:
            answer = self.client.get_object(
                Bucket=self.bucket,
                Key=self.key_for(blob_id),
                Range=f"bytes={offset}-{offset + length - 1}",
            )
            return bytes(answer["Body"].read())
        except ClientError as exc:
            if _missing(exc):
                raise KeyError(blob_id) from None
            raise _failed(exc, self.bucket) from None
        except BotoCoreError as exc:
            raise _failed(exc, self.bucket) from None

    def open_range(self, blob_id: str, offset: int, length: int) -> BlobRange:
        """No file on this machine: the range is read (one ranged GET) and sent from memory."""
        data = self.read_range(blob_id, offset, length)
        return BlobRange(offset=0, length=len(data), data=data)

    def size(self, blob_id: str) -> int:
        try:
            answer = self.client.head_object(Bucket=self.bucket, Key=self.key_for(blob_id))
        except ClientError as exc:
            if _missing(exc):
                raise KeyError(blob_id) from None
            raise _failed(exc, self.bucket) from None
        except BotoCoreError as exc:
            raise _failed(exc, self.bucket) from None
        return int(answer["ContentLength"])

    def exists(self, blob_id: str) -> bool:
        try:
            self.size(blob_id)
        except KeyError:
            return False
        return True

    def delete(self, blob_id: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.key_for(blob_id))
        except (BotoCoreError, ClientError) as exc:
            raise _failed(exc, self.bucket) from None

    def adopt(self, path: Path, blob_id: str) -> None:
        key = self.key_for(blob_id)
        if self.exists(blob_id):  # content-addressed: the same bytes are already stored
            path.unlink()
            return
        upload_id: str | None = None
        try:
            with path.open("rb") as source:
                size = os.fstat(source.fileno()).st_size
                if size <= PART_SIZE:
                    data = source.read()
                    _expect(hashlib.sha256(data).hexdigest(), blob_id)
                    self.client.put_object(Bucket=self.bucket, Key=key, Body=data)
                else:
                    answer = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)
                    upload_id = str(answer["UploadId"])
                    parts, digest = self._upload_parts(source, key, upload_id)
                    _expect(digest, blob_id)
                    self.client.complete_multipart_upload(
                        Bucket=self.bucket,
                        Key=key,
                        UploadId=upload_id,
                        MultipartUpload={"Parts": parts},
                    )
                    upload_id = None
        except (BotoCoreError, ClientError) as exc:
            self._abort_upload(key, upload_id)
            raise _failed(exc, self.bucket) from None
        except OSError as exc:
            self._abort_upload(key, upload_id)
            raise StorageFailed(
                f"cannot read the received file {path.name} ({exc.strerror}); the transfer "
                "resumes from what was kept"
            ) from None
        except IntegrityError:
            self._abort_upload(key, upload_id)
            raise
        path.unlink()

    def _upload_parts(
        self, source: BinaryIO, key: str, upload_id: str
    ) -> tuple[list[dict[str, Any]], str]:
        digest = hashlib.sha256()
        parts: list[dict[str, Any]] = []
        while part := source.read(PART_SIZE):
            digest.update(part)
            answer = self.client.upload_part(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=len(parts) + 1,
                Body=part,
            )
            parts.append({"ETag": answer["ETag"], "PartNumber": len(parts) + 1})
        return parts, digest.hexdigest()

    def _abort_upload(self, key: str, upload_id: str | None) -> None:
        if upload_id is None:
            return
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except (BotoCoreError, ClientError):
            return  # never completed: nothing is visible; the server's expiry removes parts

    def iter_ids(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix="blobs/"):
                for item in page.get("Contents", []):
                    yield str(item["Key"]).removeprefix("blobs/")
        except (BotoCoreError, ClientError) as exc:
            raise _failed(exc, self.bucket) from None


def _expect(digest: str, blob_id: str) -> None:
    if digest != blob_id:
        raise IntegrityError(f"the file adopted as blob {blob_id[:12]}… holds other bytes")


def _missing(exc: ClientError) -> bool:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")
