package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// awsCLI runs the AWS CLI with the given credentials and returns its
// standard output, or its standard error in the error. It skips the test
// when the CLI is absent.
func (e *env) awsCLI(t *testing.T, c aws.Credentials, args ...string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("the AWS CLI is not installed")
	}
	cmd := exec.Command(bin, append([]string{"--endpoint-url", e.URL, "--output", "json"}, args...)...)
	cmd.Env = append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+c.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+c.SecretAccessKey,
		"AWS_SESSION_TOKEN="+c.SessionToken,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_MAX_ATTEMPTS=1",
		"AWS_PAGER=",
	)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), &cliError{err: err, stderr: stderr.String()}
	}
	return string(out), nil
}

func TestAWSCLIWithSigV4(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("about ten CLI runs of a second each")
	}
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the AWS CLI is not installed")
	}
	e := newSigV4Env(t)
	start := time.Now().UTC().Truncate(time.Second)
	e.Clock.Set(start)
	mgmt, creds := e.registerSigned(t, "")
	member, _ := e.registerSigned(t, "")
	e.putRole(t, testAdminToken, member, mgmt, "")

	out, err := e.awsCLI(t, creds, "sts", "get-caller-identity")
	if err != nil {
		t.Fatal(err)
	}
	var who map[string]string
	mustUnmarshal(t, []byte(out), &who)
	if who["Account"] != mgmt || who["Arn"] != "arn:aws:iam::"+mgmt+":root" || who["UserId"] != mgmt {
		t.Fatalf("get-caller-identity = %v", who)
	}
	if _, err := e.awsCLI(t, creds, "organizations", "create-organization"); err != nil {
		t.Fatal(err)
	}

	bad := creds
	bad.SecretAccessKey = strings.Repeat("z", 40)
	for _, tc := range []struct {
		name  string
		creds aws.Credentials
		args  []string
		want  string
	}{
		{"wrong secret", bad, []string{"organizations", "describe-organization"}, "(InvalidSignatureException)"},
		{"unknown key", aws.Credentials{AccessKeyID: "AKIAAAAAAAAAAAAAAAAA", SecretAccessKey: "x"}, []string{"organizations", "describe-organization"}, "(UnrecognizedClientException)"},
		{"wrong secret, STS", bad, []string{"sts", "get-caller-identity"}, "(SignatureDoesNotMatch)"},
		{"untrusted AssumeRole", creds, []string{"sts", "assume-role", "--role-arn", "arn:aws:iam::" + mgmt + ":role/OrganizationAccountAccessRole", "--role-session-name", "x1"}, "(AccessDenied)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.awsCLI(t, tc.creds, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %s", err, tc.want)
			}
		})
	}

	out, err = e.awsCLI(t, creds, "sts", "assume-role", "--role-arn", "arn:aws:iam::"+member+":role/OrganizationAccountAccessRole",
		"--role-session-name", "cli", "--duration-seconds", "900")
	if err != nil {
		t.Fatal(err)
	}
	var assumed struct {
		Credentials struct{ AccessKeyId, SecretAccessKey, SessionToken, Expiration string }
	}
	mustUnmarshal(t, []byte(out), &assumed)
	session := aws.Credentials{AccessKeyID: assumed.Credentials.AccessKeyId, SecretAccessKey: assumed.Credentials.SecretAccessKey,
		SessionToken: assumed.Credentials.SessionToken}
	if exp, err := time.Parse(time.RFC3339, assumed.Credentials.Expiration); err != nil || !exp.Equal(start.Add(15*time.Minute)) {
		t.Errorf("Expiration %q, want %v", assumed.Credentials.Expiration, start.Add(15*time.Minute))
	}
	out, err = e.awsCLI(t, session, "sts", "get-caller-identity")
	if err != nil || !strings.Contains(out, `"arn:aws:sts::`+member+`:assumed-role/OrganizationAccountAccessRole/cli"`) {
		t.Fatalf("session identity: %s %v", out, err)
	}
	e.Clock.Set(start.Add(16 * time.Minute))
	if _, err := e.awsCLI(t, session, "organizations", "describe-organization"); err == nil || !strings.Contains(err.Error(), "(ExpiredTokenException)") {
		t.Errorf("expired session: %v", err)
	}
}

// botoScript is run by python3 with the endpoint and credentials in its
// environment; it prints one JSON line per step: the result or the error code.
const botoScript = `
import json, os, boto3, botocore.config, botocore.exceptions
cfg = botocore.config.Config(retries={"max_attempts": 1})
def client(svc, key, secret, token=None):
    return boto3.client(svc, endpoint_url=os.environ["EP"], region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret, aws_session_token=token, config=cfg)
def step(name, fn):
    try:
        r = fn(); r.pop("ResponseMetadata", None)
        print(json.dumps({"step": name, "ok": r}, default=str))
    except botocore.exceptions.ClientError as e:
        print(json.dumps({"step": name, "code": e.response["Error"]["Code"], "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}))
K, S, M = os.environ["KEY"], os.environ["SECRET"], os.environ["MEMBER"]
step("whoami", lambda: client("sts", K, S).get_caller_identity())
step("create", lambda: client("organizations", K, S).create_organization(FeatureSet="ALL"))
step("wrong-secret", lambda: client("organizations", K, "x" * 40).describe_organization())
step("unknown-key", lambda: client("organizations", "AKIAAAAAAAAAAAAAAAAA", S).describe_organization())
step("sts-wrong-secret", lambda: client("sts", K, "x" * 40).get_caller_identity())
c = client("sts", K, S).assume_role(RoleArn="arn:aws:iam::%s:role/OrganizationAccountAccessRole" % M, RoleSessionName="boto")["Credentials"]
step("session-whoami", lambda: client("sts", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]).get_caller_identity())
step("session-orgs", lambda: client("organizations", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]).describe_organization())
step("missing-role", lambda: client("sts", K, S).assume_role(RoleArn="arn:aws:iam::%s:role/Nope" % M, RoleSessionName="boto"))
`

func TestBoto3WithSigV4(t *testing.T) {
	t.Parallel()
	py, err := exec.LookPath("python3")
	if err != nil || exec.Command(py, "-c", "import boto3").Run() != nil {
		t.Skip("boto3 is not installed")
	}
	e := newSigV4Env(t)
	mgmt, creds := e.registerSigned(t, "")
	member, _ := e.registerSigned(t, "")
	e.putRole(t, testAdminToken, member, mgmt, "")

	cmd := exec.Command(py, "-c", botoScript)
	cmd.Env = append(os.Environ(), "EP="+e.URL, "KEY="+creds.AccessKeyID, "SECRET="+creds.SecretAccessKey, "MEMBER="+member,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("boto3 script: %v\n%s", err, stderr.String())
	}
	steps := map[string]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		steps[m["step"].(string)] = m
	}
	ok := func(name string) map[string]any {
		r, _ := steps[name]["ok"].(map[string]any)
		if r == nil {
			t.Errorf("%s: %v", name, steps[name])
		}
		return r
	}
	if r := ok("whoami"); r != nil && (r["Account"] != mgmt || r["Arn"] != "arn:aws:iam::"+mgmt+":root") {
		t.Errorf("whoami = %v", r)
	}
	ok("create")
	if r := ok("session-whoami"); r != nil && (r["Account"] != member || !strings.HasSuffix(r["Arn"].(string), ":assumed-role/OrganizationAccountAccessRole/boto")) {
		t.Errorf("session-whoami = %v", r)
	}
	for name, want := range map[string]struct {
		code   string
		status float64
	}{
		"wrong-secret":     {"InvalidSignatureException", 400},
		"unknown-key":      {"UnrecognizedClientException", 400},
		"sts-wrong-secret": {"SignatureDoesNotMatch", 403},
		"session-orgs":     {"AWSOrganizationsNotInUseException", 400}, // authenticated as the member, which has no organization
		"missing-role":     {"AccessDenied", 403},
	} {
		if s := steps[name]; s["code"] != want.code || s["status"] != want.status {
			t.Errorf("%s = %v, want %s %v", name, s, want.code, want.status)
		}
	}
}
