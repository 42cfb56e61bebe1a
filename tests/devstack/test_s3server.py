"""The dev S3 endpoint keeps what it acknowledged across a restart, and speaks S3 to boto3."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from portail.devstack.ports import free_port
from portail.devstack.s3server import HEALTH_PATH

BUCKET = "documents-test"
REGION = "eu-west-3"


class S3Process:
    """`python -m portail.devstack.s3server` on a random port, over one folder."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "portail.devstack.s3server",
                "--port",
                str(self.port),
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.endpoint + HEALTH_PATH, timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("the S3 endpoint did not start")

    def stop(self, signum: int = signal.SIGTERM) -> None:
        assert self.process is not None
        self.process.send_signal(signum)
        self.process.wait(timeout=10)

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="portail-dev",
            aws_secret_access_key="portail-dev-secret",
        )


@pytest.fixture
def s3(tmp_path: Path) -> Iterator[S3Process]:
    server = S3Process(tmp_path / "s3")
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.process.kill()
        server.process.wait()


def _put_vaccinations(client: Any) -> None:
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    client.put_object(
        Bucket=BUCKET,
        Key="families/TEST/vaccinations.pdf",
        Body=b"%PDF-1.7 vaccins",
        ContentType="application/pdf",
        ServerSideEncryption="AES256",
        Metadata={"uploaded-by": "parent"},
    )


def test_after_a_restart_what_was_put_is_there_and_what_was_deleted_is_not(
    s3: S3Process,
) -> None:
    client = s3.client()
    _put_vaccinations(client)
    client.put_object(Bucket=BUCKET, Key="families/TEST/retire.pdf", Body=b"%PDF-1.7 x")
    client.delete_object(Bucket=BUCKET, Key="families/TEST/retire.pdf")
    s3.stop()

    s3.start()
    client = s3.client()
    got = client.get_object(Bucket=BUCKET, Key="families/TEST/vaccinations.pdf")

    assert got["Body"].read() == b"%PDF-1.7 vaccins"
    assert got["ServerSideEncryption"] == "AES256"
    assert got["ContentType"] == "application/pdf"
    assert got["Metadata"] == {"uploaded-by": "parent"}
    keys = [k["Key"] for k in client.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == ["families/TEST/vaccinations.pdf"]


def test_an_acknowledged_upload_survives_kill_9(s3: S3Process) -> None:
    _put_vaccinations(s3.client())
    s3.stop(signal.SIGKILL)

    s3.start()
    keys = s3.client().list_objects_v2(Bucket=BUCKET)["Contents"]

    assert [k["Key"] for k in keys] == ["families/TEST/vaccinations.pdf"]


def test_a_presigned_link_downloads_the_object(s3: S3Process) -> None:
    client = s3.client()
    _put_vaccinations(client)
    url = client.generate_presigned_url(
        "get_object",
        Params={"Bucket": BUCKET, "Key": "families/TEST/vaccinations.pdf"},
        ExpiresIn=60,
    )
    with urllib.request.urlopen(url, timeout=5) as answer:
        assert answer.read() == b"%PDF-1.7 vaccins"
