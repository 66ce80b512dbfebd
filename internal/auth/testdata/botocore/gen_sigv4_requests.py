"""Generate SigV4 vectors with real botocore clients at a fixed time.

The request is captured at 'before-send' (after signing) and never sent.
"""
import base64, datetime, json, sys
from unittest import mock
import botocore, botocore.session, botocore.auth

FIXED = datetime.datetime(2026, 1, 15, 10, 30, 0)

def capture(service, op, params, creds, region):
    s = botocore.session.get_session()
    c = s.create_client(service, region_name=region, endpoint_url="http://localhost:4566",
                        aws_access_key_id=creds[0], aws_secret_access_key=creds[1],
                        aws_session_token=creds[2])
    captured = {}
    def handler(request, **kw):
        captured['method'] = request.method
        captured['url'] = request.url
        captured['headers'] = [[k, v.decode() if isinstance(v, bytes) else v] for k, v in request.headers.items()]
        body = request.body or b''
        if isinstance(body, str):
            body = body.encode()
        captured['body_base64'] = base64.b64encode(body).decode()
        raise _Stop()
    c.meta.events.register('before-send', handler)
    with mock.patch('botocore.auth.get_current_datetime', return_value=FIXED):
        try:
            getattr(c, op)(**params)
        except _Stop:
            pass
    return captured

class _Stop(Exception):
    pass

creds = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "FwoGZXIvYXdzEXAMPLETOKEN//////////wEaDEXAMPLE+session/token==")
out = {
    "generator": f"botocore {botocore.__version__} SigV4Auth via a real client, before-send capture",
    "access_key_id": creds[0], "secret_access_key": creds[1], "session_token": creds[2],
    "time": FIXED.strftime("%Y%m%dT%H%M%SZ"),
    "requests": {},
}
out["requests"]["organizations-describe-organization"] = capture("organizations", "describe_organization", {}, creds, "us-west-2")
out["requests"]["organizations-list-accounts"] = capture("organizations", "list_accounts", {"MaxResults": 5}, creds, "eu-central-1")
# Compute Optimizer Automation: botocore 1.43 chooses its awsJson 1.0 protocol.
out["requests"]["aco-automation-get-enrollment-configuration"] = capture(
    "compute-optimizer-automation", "get_enrollment_configuration", {}, creds, "us-east-1")

# A presigned STS GetCallerIdentity URL (the EKS-token shape), 900 s.
s = botocore.session.get_session()
c = s.create_client("sts", region_name="us-east-1", endpoint_url="http://localhost:4566",
                    aws_access_key_id=creds[0], aws_secret_access_key=creds[1],
                    aws_session_token=creds[2])
with mock.patch('botocore.auth.get_current_datetime', return_value=FIXED):
    out["presigned_sts_get_caller_identity_url"] = c.generate_presigned_url(
        "get_caller_identity", Params={}, ExpiresIn=900, HttpMethod="GET")
json.dump(out, sys.stdout, indent=2)
