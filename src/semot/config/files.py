"""Uploaded files: limits, garbage collection, media processing and S3-compatible storage."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, ValidationInfo, field_validator


class FileSettings(BaseModel):
    # --- files: tus uploads, downloads, garbage collection (docs/protocol.md, Files)
    files_dir: Path | None = Field(None, description="Directory of uploaded files' bytes; empty: <data_dir>/files")
    file_max_bytes: int = Field(1024**3, ge=1, le=2**50, description="Largest file one upload may announce (413 above)")
    file_quota_bytes: int = Field(
        0, ge=0, description="Bytes of live files and unfinished uploads per user (413 beyond); 0: no quota"
    )
    file_upload_expiry_s: int = Field(
        86400, ge=1, le=365 * 86400, description="An unfinished upload is removed this long after it was created"
    )
    file_gc_grace_s: int = Field(
        7 * 86400, ge=0, description="A finished file that no message or avatar references is removed after this long"
    )
    file_gc_interval_s: float = Field(
        300.0, gt=0, le=86400, description="How often expired uploads and unreferenced files are looked for"
    )
    file_url_ttl_s: int = Field(
        3600, ge=60, le=7 * 86400, description="Lifetime of the signed download URLs put in message bodies"
    )
    max_image_pixels: int = Field(
        50_000_000, ge=1, description="Images with more pixels are not decoded (decompression bombs); no w/h for them"
    )
    # --- files in S3-compatible object storage (docs/files-storage.md)
    file_store: Literal["local", "s3"] = Field(
        "local", description="Where uploaded files' bytes go: files_dir (local) or an S3-compatible bucket (s3)"
    )
    s3_endpoint_url: str | None = Field(
        None, description="S3 API URL for MinIO, Ceph and the like (e.g. http://minio:9000); empty: AWS"
    )
    s3_bucket: str | None = Field(None, description="Bucket of uploaded files (required with file_store=s3)")
    s3_region: str = Field("us-east-1", description="S3 region")
    s3_access_key: str | None = Field(None, description="S3 access key id; empty: the AWS default chain (env, IAM role)")
    s3_secret_key: SecretStr | None = Field(None, description="S3 secret access key (never logged)")
    s3_prefix: str = Field(
        "", pattern=r"^([A-Za-z0-9!_.*'()-]+/)*$", description="Key prefix of this deployment's objects (e.g. semot/)"
    )
    s3_part_bytes: int = Field(
        8 * 1024 * 1024, ge=5 * 1024 * 1024, le=5 * 1024**3,
        description="Part size of uploads to S3 (min 5 MiB); memory per PATCH in flight is about twice this",
    )
    s3_max_connections: int = Field(
        64, ge=1, le=10_000, description="Pooled HTTP connections to S3 (each download in progress holds one)"
    )
    file_strip_gps: bool = Field(
        True, description="Remove location metadata (EXIF GPS, XMP) from JPEG/PNG/WebP uploads, without re-encoding"
    )
    file_media_workers: int = Field(
        0, ge=0, le=64, description="Images/videos decoded at once (thumbnails, ffmpeg); 0: one fewer than the cores"
    )
    file_media_timeout_s: float = Field(
        30.0, gt=0, le=600, description="An ffmpeg/ffprobe run on an upload is killed after this long"
    )

    @field_validator("file_store")
    @classmethod
    def _s3_client_installed(cls, v: str) -> str:
        if v == "s3" and importlib.util.find_spec("aioboto3") is None:
            raise ValueError("file_store=s3 needs aioboto3: pip install 'semot[s3]'")
        return v

    @field_validator("s3_bucket")
    @classmethod
    def _s3_needs_a_bucket(cls, v: str | None, info: ValidationInfo) -> str | None:
        # a field check, not a model one: the error then quotes this value only, never the secret key
        if info.data.get("file_store") == "s3" and not v:
            raise ValueError("file_store=s3 needs s3_bucket (SEMOT_S3_BUCKET)")
        return v
