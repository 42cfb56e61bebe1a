"""Create the S3 bucket of the documents service if it does not exist (compose's `s3-init`).

Runs in the portal's own image (boto3 is there) with the S3_* variables of the services;
idempotent, and retries while the S3 server is still starting.
"""

from __future__ import annotations

import os
import sys
import time

import boto3
from botocore.exceptions import ClientError, EndpointConnectionError

ATTEMPTS = 30


def main() -> int:
    """Create S3_BUCKET at S3_ENDPOINT_URL; exit 0 when it exists."""
    bucket = os.environ["S3_BUCKET"]
    client = boto3.client(
        "s3",
        endpoint_url=os.environ.get("S3_ENDPOINT_URL") or None,
        region_name=os.environ.get("S3_REGION") or "us-east-1",
        aws_access_key_id=os.environ["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["S3_SECRET_ACCESS_KEY"],
    )
    for attempt in range(1, ATTEMPTS + 1):
        try:
            client.head_bucket(Bucket=bucket)
            print(f"s3-init: bucket {bucket} exists")
            return 0
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket"):
                raise
            region = client.meta.region_name
            # us-east-1 is the one region that refuses an explicit LocationConstraint.
            extra = (
                {}
                if region == "us-east-1"
                else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            )
            client.create_bucket(Bucket=bucket, **extra)
            print(f"s3-init: bucket {bucket} created")
            return 0
        except EndpointConnectionError:
            print(f"s3-init: S3 not reachable yet (attempt {attempt}/{ATTEMPTS})", file=sys.stderr)
            time.sleep(1)
    return 1


if __name__ == "__main__":
    sys.exit(main())
