"""Evidence stores: the filesystem (default) and S3-compatible object storage."""
