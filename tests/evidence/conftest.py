"""Evidence fixtures: the real S3 server (SeaweedFS) for the store contract suite."""

from s3_server import s3_server

__all__ = ["s3_server"]
