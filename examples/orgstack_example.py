"""Helpers shared by the boto3 examples: a JSON-protocol copy of the
Compute Optimizer Automation model, boto3 clients acting as 12-digit
accounts in orgstack's open auth mode, the admin API and error checks.
"""

import json
import os
import shutil
import sys
import tempfile
import urllib.request

ENDPOINT = os.environ.get("ORGSTACK_ENDPOINT", "http://127.0.0.1:4566")
MODEL_DIR = os.environ.get("ACO_MODEL_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "models", "compute-optimizer-automation"))


def skip(why):
    print("SKIP:", why)
    sys.exit(3)


def json_model_path():
    """Copies the Automation model with awsJson 1.0 as its only protocol."""
    if not os.path.isdir(MODEL_DIR):
        skip("no Compute Optimizer Automation model at " + MODEL_DIR)
    root = tempfile.mkdtemp(prefix="aco-json-model-")
    dst = os.path.join(root, "compute-optimizer-automation")
    shutil.copytree(MODEL_DIR, dst)
    for version in os.listdir(dst):
        path = os.path.join(dst, version, "service-2.json")
        with open(path) as f:
            model = json.load(f)
        model["metadata"]["protocol"] = "json"
        model["metadata"]["protocols"] = ["json"]
        with open(path, "w") as f:
            json.dump(model, f)
    return root


DATA_PATH = json_model_path()
os.environ["AWS_DATA_PATH"] = DATA_PATH + os.pathsep + os.environ.get("AWS_DATA_PATH", "")
try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError
except ImportError:
    skip("boto3 is not installed")


def client(service, account):
    # In open auth mode a 12-digit access key id is that account.
    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id=account,
        aws_secret_access_key="orgstack-example",
        config=Config(retries={"max_attempts": 1}),
    )


def orgs(account):
    return client("organizations", account)


def aco(account):
    c = client("compute-optimizer-automation", account)
    assert c.meta.service_model.protocol == "json", c.meta.service_model.protocol
    return c


def expect_error(code, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except ClientError as e:
        got = e.response["Error"]["Code"]
        assert got == code, "%s: got %s, want %s" % (fn.__name__, got, code)
        return e
    raise AssertionError("%s succeeded, want %s" % (fn.__name__, code))


def admin(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(ENDPOINT + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"{}")


def step(msg):
    print("==>", msg)
