package sts

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/orgstack/orgstack/internal/auth"
)

func TestParseRoleARN(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		arn, account, name string
		ok                 bool
	}{
		{"arn:aws:iam::123456789012:role/OrganizationAccountAccessRole", "123456789012", "OrganizationAccountAccessRole", true},
		{"arn:aws:iam::123456789012:role/path/to/Deploy", "123456789012", "Deploy", true},
		{"arn:aws-us-gov:iam::123456789012:role/R", "123456789012", "R", true},
		{"arn:aws:iam::123456789012:user/bob", "", "", false},
		{"arn:aws:iam::12345678901:role/R", "", "", false},
		{"arn:aws:sts::123456789012:role/R", "", "", false},
		{"arn:aws:iam:us-east-1:123456789012:role/R", "", "", false},
		{"arn:aws:iam::123456789012:role/", "", "", false},
		{"arn:aws:iam::123456789012:role/bad name", "", "", false},
		{"not an arn at all, but long", "", "", false},
	} {
		account, name, ok := parseRoleARN(tc.arn)
		if ok != tc.ok || account != tc.account || name != tc.name {
			t.Errorf("parseRoleARN(%q) = %q %q %v", tc.arn, account, name, ok)
		}
	}
}

func TestParseAssumeRole(t *testing.T) {
	t.Parallel()
	role := "arn:aws:iam::123456789012:role/R"
	for _, tc := range []struct {
		name   string
		params url.Values
		want   string // "" for valid
	}{
		{"minimal", url.Values{"RoleArn": {role}, "RoleSessionName": {"ok"}}, ""},
		{"all limits", url.Values{"RoleArn": {role}, "RoleSessionName": {strings.Repeat("a", 64)}, "DurationSeconds": {"43200"},
			"ExternalId": {"ext:1/2"}, "SourceIdentity": {"me@x"}, "TokenCode": {"123456"}, "SerialNumber": {"arn:aws:iam::1:mfa/x"}}, ""},
		{"no session name", url.Values{"RoleArn": {role}}, "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null"},
		{"long session name", url.Values{"RoleArn": {role}, "RoleSessionName": {strings.Repeat("a", 65)}}, "Member must have length less than or equal to 64"},
		{"short duration", url.Values{"RoleArn": {role}, "RoleSessionName": {"ok"}, "DurationSeconds": {"899"}}, "Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"},
		{"long duration", url.Values{"RoleArn": {role}, "RoleSessionName": {"ok"}, "DurationSeconds": {"43201"}}, "less than or equal to 43200"},
		{"duration not a number", url.Values{"RoleArn": {role}, "RoleSessionName": {"ok"}, "DurationSeconds": {"1h"}}, "Member must be an integer"},
		{"token code", url.Values{"RoleArn": {role}, "RoleSessionName": {"ok"}, "TokenCode": {"12345a"}}, `pattern: [\d]*`},
		{"short role ARN", url.Values{"RoleArn": {"arn:aws:iam::1:r"}, "RoleSessionName": {"ok"}}, "at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20"},
		{"several", url.Values{"RoleSessionName": {"a b"}, "DurationSeconds": {"1"}}, "3 validation errors detected: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseAssumeRole(tc.params)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("rejected: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want %q", err, tc.want)
			case err != nil && (err.(*Error).Code != "ValidationError" || err.(*Error).Status != 400):
				t.Errorf("error %+v", err)
			}
		})
	}
}

func TestAuthErrorsInQueryWords(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err    error
		code   string
		status int
	}{
		{auth.MissingAuthenticationTokenError(), "MissingAuthenticationToken", 403},
		{auth.UnrecognizedClientError(), "InvalidClientTokenId", 403},
		{auth.ExpiredTokenError(), "ExpiredToken", 403},
	} {
		w := httptest.NewRecorder()
		if status := WriteError(w, "rid", tc.err); status != tc.status || w.Code != tc.status {
			t.Errorf("%v: status %d", tc.err, status)
		}
		body := w.Body.String()
		if !strings.Contains(body, "<Code>"+tc.code+"</Code>") || !strings.Contains(body, "<Type>Sender</Type>") ||
			!strings.Contains(body, "<RequestId>rid</RequestId>") || w.Header().Get("Content-Type") != "text/xml" {
			t.Errorf("%v: %s", tc.err, body)
		}
	}
}
