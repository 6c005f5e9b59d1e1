"""The S3 file store's settings: checked at start, the secret never shown, wired by make_blobs."""

from __future__ import annotations

import pytest

from semot.app import make_blobs
from semot.config import ConfigError, load_settings
from semot.storage.local_files import LocalBlobStore
from semot.storage.s3_files import S3BlobStore


def test_s3_needs_a_bucket_and_the_error_never_quotes_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEMOT_S3_SECRET_KEY", "very-secret-value")
    with pytest.raises(ConfigError) as info:
        load_settings(file_store="s3")
    assert "s3_bucket" in str(info.value) and "very-secret-value" not in str(info.value)
    settings = load_settings(file_store="s3", s3_bucket="b")
    assert "very-secret-value" not in repr(settings) and "very-secret-value" not in str(settings.model_dump())
    with pytest.raises(ConfigError):
        load_settings(file_store="s3", s3_bucket="b", s3_part_bytes=1024)  # below S3's 5 MiB
    with pytest.raises(ConfigError):
        load_settings(s3_prefix="/abs")


def test_make_blobs_picks_the_store_and_a_part_size_that_fits_10000_parts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(make_blobs(load_settings(data_dir=tmp_path)), LocalBlobStore)
    blobs = make_blobs(load_settings(data_dir=tmp_path, file_store="s3", s3_bucket="b", s3_prefix="x/",
                                     s3_secret_key="k" * 20, file_max_bytes=200 * 1024**3))
    assert isinstance(blobs, S3BlobStore) and blobs.prefix == "x/" and blobs.bucket == "b"
    assert blobs.part_size * 10_000 >= 200 * 1024**3
    assert "k" * 20 not in repr(blobs)
