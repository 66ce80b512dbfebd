package e2e

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// putRole creates a role in account that trusted may assume.
func (e *env) putRole(t testing.TB, token, account, trusted, body string) {
	t.Helper()
	if body == "" {
		body = `{"trustedAccountId":"` + trusted + `"}`
	}
	status, b := e.adminAs(t, token, "POST", "/_orgstack/accounts/"+account+"/roles", body)
	if status != 200 {
		t.Fatalf("put role: %d %s", status, b)
	}
}

func (e *env) stsWith(c aws.Credentials) *sts.Client { return sts.NewFromConfig(e.configWith(c)) }

func assumeRole(t *testing.T, client *sts.Client, arn, session string, seconds int32) aws.Credentials {
	t.Helper()
	in := &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String(session)}
	if seconds > 0 {
		in.DurationSeconds = aws.Int32(seconds)
	}
	out, err := client.AssumeRole(context.Background(), in)
	if err != nil {
		t.Fatalf("AssumeRole %s: %v", arn, err)
	}
	c := out.Credentials
	return aws.Credentials{AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey, SessionToken: *c.SessionToken}
}

func TestSTSGetCallerIdentityRoot(t *testing.T) {
	t.Parallel()
	e := newSigV4Env(t)
	acct, creds := e.registerSigned(t, "")
	out, err := e.stsWith(creds).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *out.Account != acct || *out.Arn != "arn:aws:iam::"+acct+":root" || *out.UserId != acct {
		t.Fatalf("GetCallerIdentity = %s %s %s", *out.Account, *out.Arn, *out.UserId)
	}
	// A wrong secret gets STS's own code for it.
	bad := creds
	bad.SecretAccessKey = strings.Repeat("y", 40)
	_, err = e.stsWith(bad).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if got := apiCode(t, err); got != "SignatureDoesNotMatch" {
		t.Errorf("wrong secret: %s (%v)", got, err)
	}
	_, err = e.stsWith(aws.Credentials{AccessKeyID: "AKIAAAAAAAAAAAAAAAAA", SecretAccessKey: "x"}).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if got := apiCode(t, err); got != "InvalidClientTokenId" {
		t.Errorf("unknown key: %s (%v)", got, err)
	}
}

func TestSTSAssumeRoleSessionActsAsTheRoleAccountUntilItExpires(t *testing.T) {
	t.Parallel()
	e := newSigV4Env(t)
	ctx := context.Background()
	start := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	e.Clock.Set(start)
	mgmt, mgmtCreds := e.registerSigned(t, "")
	member, _ := e.registerSigned(t, "")
	e.putRole(t, testAdminToken, member, mgmt, "")
	roleARN := "arn:aws:iam::" + member + ":role/OrganizationAccountAccessRole"

	out, err := e.stsWith(mgmtCreds).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(roleARN), RoleSessionName: aws.String("vending"), DurationSeconds: aws.Int32(900),
	})
	if err != nil {
		t.Fatal(err)
	}
	checkPattern(t, "AccessKeyId", *out.Credentials.AccessKeyId, `^ASIA[A-Z2-7]{16}$`)
	if got := out.Credentials.Expiration.UTC(); !got.Equal(start.Add(15 * time.Minute)) {
		t.Errorf("Expiration %v, want %v on the orgstack clock", got, start.Add(15*time.Minute))
	}
	wantARN := "arn:aws:sts::" + member + ":assumed-role/OrganizationAccountAccessRole/vending"
	if *out.AssumedRoleUser.Arn != wantARN || !strings.HasSuffix(*out.AssumedRoleUser.AssumedRoleId, ":vending") ||
		!strings.HasPrefix(*out.AssumedRoleUser.AssumedRoleId, "AROA") {
		t.Errorf("AssumedRoleUser = %s %s", *out.AssumedRoleUser.Arn, *out.AssumedRoleUser.AssumedRoleId)
	}
	session := aws.Credentials{AccessKeyID: *out.Credentials.AccessKeyId, SecretAccessKey: *out.Credentials.SecretAccessKey,
		SessionToken: *out.Credentials.SessionToken}

	who, err := e.stsWith(session).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *who.Account != member || *who.Arn != wantARN || *who.UserId != *out.AssumedRoleUser.AssumedRoleId {
		t.Errorf("session identity = %s %s %s", *who.Account, *who.Arn, *who.UserId)
	}
	// The session acts as the member: it creates the member's organization.
	org, err := organizations.NewFromConfig(e.configWith(session)).CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
	if err != nil || *org.Organization.MasterAccountId != member {
		t.Fatalf("CreateOrganization as the session: %v", err)
	}

	// A forged or missing session token is refused.
	forged := session
	forged.SessionToken = "forged"
	if _, err := e.stsWith(forged).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); apiCode(t, err) != "InvalidClientTokenId" {
		t.Errorf("forged token: %v", err)
	}
	noToken := session
	noToken.SessionToken = ""
	if _, err := e.stsWith(noToken).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); apiCode(t, err) != "InvalidClientTokenId" {
		t.Errorf("no token: %v", err)
	}

	// Still valid a second before the end, then expired: on the orgstack clock.
	e.Clock.Set(start.Add(15*time.Minute - time.Second))
	if _, err := organizations.NewFromConfig(e.configWith(session)).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{}); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	e.Clock.Set(start.Add(15 * time.Minute))
	_, err = organizations.NewFromConfig(e.configWith(session)).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	var ae interface{ ErrorCode() string }
	if !errors.As(err, &ae) || ae.ErrorCode() != "ExpiredTokenException" {
		t.Errorf("after expiry Organizations answered %v", err)
	}
	if _, err := e.stsWith(session).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); apiCode(t, err) != "ExpiredToken" {
		t.Errorf("after expiry STS answered %v", err)
	}
	// The long-term credentials go on working.
	if _, err := e.stsWith(mgmtCreds).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("root after the session expired: %v", err)
	}
}

// stsXMLError is awsQuery's error document.
type stsXMLError struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

// stsForm sends a signed awsQuery POST with the given parameters.
func stsForm(t *testing.T, e *env, creds aws.Credentials, params url.Values) (rawCall, stsXMLError) {
	t.Helper()
	params.Set("Version", "2011-06-15")
	req := signed(t, e, creds, "sts", map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
		[]byte(params.Encode()), time.Now())
	c := send(t, req)
	var x stsXMLError
	if c.status != 200 {
		if err := xml.Unmarshal(c.body, &x); err != nil {
			t.Fatalf("error body is not XML: %v: %s", err, c.body)
		}
		if x.RequestID == "" || x.RequestID != c.header.Get("X-Amzn-Requestid") {
			t.Errorf("RequestId %q, header %q", x.RequestID, c.header.Get("X-Amzn-Requestid"))
		}
	}
	return c, x
}

func TestSTSAssumeRoleErrors(t *testing.T) {
	t.Parallel()
	e := newSigV4Env(t)
	mgmt, mgmtCreds := e.registerSigned(t, "")
	member, memberCreds := e.registerSigned(t, "")
	_, strangerCreds := e.registerSigned(t, "")
	e.putRole(t, testAdminToken, member, mgmt, "")
	e.putRole(t, testAdminToken, member, mgmt, `{"roleName":"Long","trustedAccountId":"`+mgmt+`","maxSessionDurationSeconds":7200}`)
	role := "arn:aws:iam::" + member + ":role/OrganizationAccountAccessRole"

	for _, tc := range []struct {
		name       string
		creds      aws.Credentials
		params     url.Values
		status     int
		code, text string
	}{
		{"untrusted caller", strangerCreds, url.Values{"Action": {"AssumeRole"}, "RoleArn": {role}, "RoleSessionName": {"s1"}},
			403, "AccessDenied", "is not authorized to perform: sts:AssumeRole on resource: " + role},
		{"the role's own account", memberCreds, url.Values{"Action": {"AssumeRole"}, "RoleArn": {role}, "RoleSessionName": {"s1"}},
			403, "AccessDenied", "sts:AssumeRole"},
		{"missing role", mgmtCreds, url.Values{"Action": {"AssumeRole"}, "RoleArn": {"arn:aws:iam::" + member + ":role/Nope"}, "RoleSessionName": {"s1"}},
			403, "AccessDenied", "sts:AssumeRole"},
		{"not a role ARN", mgmtCreds, url.Values{"Action": {"AssumeRole"}, "RoleArn": {"arn:aws:iam::" + member + ":user/bob"}, "RoleSessionName": {"s1"}},
			400, "ValidationError", "ARN"},
		{"no RoleArn", mgmtCreds, url.Values{"Action": {"AssumeRole"}, "RoleSessionName": {"s1"}},
			400, "ValidationError", "Value null at 'roleArn' failed to satisfy constraint: Member must not be null"},
		{"bad session name", mgmtCreds, url.Values{"Action": {"AssumeRole"}, "RoleArn": {role}, "RoleSessionName": {"a b"}},
			400, "ValidationError", "at 'roleSessionName' failed to satisfy constraint"},
		{"two problems", mgmtCreds, url.Values{"Action": {"AssumeRole"}, "RoleArn": {role}, "RoleSessionName": {"x"}, "DurationSeconds": {"60"}},
			400, "ValidationError", "2 validation errors detected"},
		{"longer than the role allows", mgmtCreds, url.Values{"Action": {"AssumeRole"}, "RoleArn": {role}, "RoleSessionName": {"s1"}, "DurationSeconds": {"7200"}},
			400, "ValidationError", "MaxSessionDuration"},
		{"unknown action", mgmtCreds, url.Values{"Action": {"FlyToTheMoon"}},
			400, "InvalidAction", "Could not find operation FlyToTheMoon for version 2011-06-15"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, x := stsForm(t, e, tc.creds, tc.params)
			if c.status != tc.status || x.Error.Code != tc.code || !strings.Contains(x.Error.Message, tc.text) || x.Error.Type != "Sender" {
				t.Errorf("%d %s", c.status, c.body)
			}
		})
	}
	// An action STS has and orgstack does not says so.
	c, x := stsForm(t, e, mgmtCreds, url.Values{"Action": {"GetFederationToken"}, "Name": {"bob"}})
	if c.status != 501 || x.Error.Code != "NotImplementedException" || x.Error.Type != "Receiver" {
		t.Errorf("GetFederationToken: %d %s", c.status, c.body)
	}
	// The role that allows two hours grants them.
	long := assumeRole(t, e.stsWith(mgmtCreds), "arn:aws:iam::"+member+":role/Long", "s2", 7200)
	// Role chaining is limited to one hour whatever the role allows.
	e.putRole(t, testAdminToken, mgmt, member, `{"roleName":"Back","trustedAccountId":"`+member+`","maxSessionDurationSeconds":7200}`)
	c, x = stsForm(t, e, long, url.Values{"Action": {"AssumeRole"}, "RoleArn": {"arn:aws:iam::" + mgmt + ":role/Back"},
		"RoleSessionName": {"s3"}, "DurationSeconds": {"7200"}})
	if c.status != 400 || !strings.Contains(x.Error.Message, "role chaining") {
		t.Errorf("chained 2h: %d %s", c.status, c.body)
	}
	chained := assumeRole(t, e.stsWith(long), "arn:aws:iam::"+mgmt+":role/Back", "s4", 3600)
	if who, err := e.stsWith(chained).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil || *who.Account != mgmt {
		t.Errorf("chained session: %v %v", who, err)
	}
}

func TestSTSPresignedGetCallerIdentity(t *testing.T) {
	t.Parallel()
	e := newSigV4Env(t)
	acct, creds := e.registerSigned(t, "")
	presign := func(at time.Time, expires string) string {
		u := e.URL + "/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=" + expires
		req, _ := http.NewRequest("GET", u, nil)
		signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, emptySHA256, "sts", "us-east-1", at)
		if err != nil {
			t.Fatal(err)
		}
		return signed
	}
	get := func(u string) rawCall {
		req, _ := http.NewRequest("GET", u, nil)
		return send(t, req)
	}
	c := get(presign(time.Now(), "60"))
	if c.status != 200 || !strings.Contains(string(c.body), "<Account>"+acct+"</Account>") {
		t.Fatalf("presigned: %d %s", c.status, c.body)
	}
	if !strings.Contains(string(c.body), `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">`) {
		t.Errorf("response document: %s", c.body)
	}
	// Two minutes later a URL that lived for one has expired.
	c = get(presign(time.Now().Add(-2*time.Minute), "60"))
	var x stsXMLError
	xml.Unmarshal(c.body, &x)
	if c.status != 403 || x.Error.Code != "SignatureDoesNotMatch" || !strings.HasPrefix(x.Error.Message, "Signature expired: ") {
		t.Errorf("expired presigned URL: %d %s", c.status, c.body)
	}
	// Unsigned.
	c = get(e.URL + "/?Action=GetCallerIdentity&Version=2011-06-15")
	xml.Unmarshal(c.body, &x)
	if c.status != 403 || x.Error.Code != "MissingAuthenticationToken" {
		t.Errorf("unsigned: %d %s", c.status, c.body)
	}
}

func TestSTSInOpenMode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	// 12-digit keys are their accounts; the role's account exists by first use.
	e.jsonCall(t, "1.1", "AWSOrganizationsV20161128.DescribeOrganization", "222222222222", "{}")
	e.putRole(t, "", "222222222222", mgmtAccount, "")
	root := aws.Credentials{AccessKeyID: mgmtAccount, SecretAccessKey: "whatever"}
	who, err := e.stsWith(root).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || *who.Account != mgmtAccount || *who.Arn != "arn:aws:iam::"+mgmtAccount+":root" {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	session := assumeRole(t, e.stsWith(root), "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole", "ci", 0)
	who, err = e.stsWith(session).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || *who.Account != "222222222222" {
		t.Fatalf("session identity: %v %v", who, err)
	}
	_, err = organizations.NewFromConfig(e.configWith(session)).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	expectError[*orgtypes.AWSOrganizationsNotInUseException](t, err)
	// Sessions expire on the orgstack clock in open mode as well.
	e.Clock.Set(time.Now().Add(2 * time.Hour))
	if _, err := e.stsWith(session).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); apiCode(t, err) != "ExpiredToken" {
		t.Errorf("expired session in open mode: %v", err)
	}
}

func TestSTSGetSessionToken(t *testing.T) {
	t.Parallel()
	e := newSigV4Env(t)
	ctx := context.Background()
	start := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	e.Clock.Set(start)
	acct, creds := e.registerSigned(t, "")
	member, _ := e.registerSigned(t, "")
	e.putRole(t, testAdminToken, member, acct, "")

	// Root sessions last an hour at most, whatever is asked.
	out, err := e.stsWith(creds).GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(7200)})
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Credentials.Expiration.UTC(); !got.Equal(start.Add(time.Hour)) {
		t.Errorf("Expiration %v, want an hour on", got)
	}
	session := aws.Credentials{AccessKeyID: *out.Credentials.AccessKeyId, SecretAccessKey: *out.Credentials.SecretAccessKey,
		SessionToken: *out.Credentials.SessionToken}
	who, err := e.stsWith(session).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || *who.Arn != "arn:aws:iam::"+acct+":root" || *who.UserId != acct {
		t.Fatalf("session identity: %v %v", who, err)
	}
	// Such a session may assume a role, for more than an hour (it is not
	// role chaining), but may not ask for another session token.
	e.putRole(t, testAdminToken, member, acct, `{"roleName":"Long","trustedAccountId":"`+acct+`","maxSessionDurationSeconds":7200}`)
	assumeRole(t, e.stsWith(session), "arn:aws:iam::"+member+":role/Long", "from-session", 7200)
	_, err = e.stsWith(session).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if code := apiCode(t, err); code != "AccessDenied" {
		t.Errorf("GetSessionToken with session credentials: %v", err)
	}
	_, err = e.stsWith(creds).GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(600)})
	if code := apiCode(t, err); code != "ValidationError" {
		t.Errorf("600 seconds: %v", err)
	}
	e.Clock.Set(start.Add(time.Hour))
	if _, err := e.stsWith(session).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); apiCode(t, err) != "ExpiredToken" {
		t.Errorf("after an hour: %v", err)
	}
}

// TestSTSPresignClient follows what EKS and Vault do with GetCallerIdentity:
// the SDK's presign client makes the URL and another party sends it.
func TestSTSPresignClient(t *testing.T) {
	t.Parallel()
	e := newSigV4Env(t)
	acct, creds := e.registerSigned(t, "")
	p, err := sts.NewPresignClient(e.stsWith(creds)).PresignGetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(p.Method, p.URL, nil)
	for k, vs := range p.SignedHeader {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	c := send(t, req)
	if c.status != 200 || !strings.Contains(string(c.body), "<Account>"+acct+"</Account>") {
		t.Fatalf("%s presigned: %d %s", p.Method, c.status, c.body)
	}
}
