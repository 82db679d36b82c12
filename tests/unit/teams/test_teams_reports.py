"""Report links for Teams channels: short-lived, only for stored reports, nothing else served."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from bot.teams.reports import LocalReports, S3Reports


def test_a_local_link_serves_the_report_until_it_expires(tmp_path: Path) -> None:
    (tmp_path / "job-1.xlsx").write_bytes(b"xlsx")
    now = [100.0]
    reports = LocalReports(tmp_path, "http://localhost:3978/", 3600, clock=lambda: now[0])
    url = reports.link("job-1")
    assert url.startswith("http://localhost:3978/reports/")
    token = url.rsplit("/", 1)[1]
    assert reports.served(token) == (tmp_path / "job-1.xlsx").resolve()
    assert reports.read("job-1") == b"xlsx"
    now[0] += 3601
    assert reports.served(token) is None
    assert reports.served("guessed-token") is None


@pytest.mark.parametrize("job_id", ["missing", "../secrets", "a/b"])
def test_no_link_to_a_file_that_is_not_a_stored_report(tmp_path: Path, job_id: str) -> None:
    (tmp_path / "secrets.xlsx").write_bytes(b"no")
    reports = LocalReports(tmp_path / "reports", "http://localhost:3978", 60)
    (tmp_path / "reports").mkdir()
    with pytest.raises(FileNotFoundError):
        reports.link(job_id)


def test_an_s3_link_is_presigned_for_the_report_only_and_expires() -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1", config=Config(signature_version="s3v4"))
        s3.create_bucket(
            Bucket="data", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        s3.put_object(Bucket="data", Key="reports/job-1.xlsx", Body=b"xlsx")
        reports = S3Reports(s3, "data", 900)
        url = urlparse(reports.link("job-1"))
        assert url.path.endswith("/reports/job-1.xlsx")
        query = parse_qs(url.query)
        assert query["X-Amz-Expires"] == ["900"]
        assert "attachment" in query["response-content-disposition"][0]
        assert reports.read("job-1") == b"xlsx"
        with pytest.raises(FileNotFoundError):
            reports.read("job-2")
        with pytest.raises(FileNotFoundError):
            reports.link("../jobs/job-1")
