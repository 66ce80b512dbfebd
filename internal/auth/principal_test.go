package auth

import (
	"context"
	"testing"
)

func TestAccountFromAccessKey(t *testing.T) {
	tests := []struct{ akid, want string }{
		{"123456789012", "123456789012"},
		{"000000000000", "000000000000"},
		{"1234567890123", "000000000001"}, // 13 digits: not an account
		{"12345678901", "000000000001"},
		{"12345678901a", "000000000001"},
		{" 123456789012", "000000000001"},
		{"AKIAIOSFODNN7EXAMPLE", "000000000001"},
		{"", "000000000001"},
		{"١٢٣٤٥٦٧٨٩٠١٢", "000000000001"}, // Arabic-Indic digits are not \d in our sense
	}
	for _, tt := range tests {
		t.Run(tt.akid, func(t *testing.T) {
			if got := AccountFromAccessKey(tt.akid, "000000000001"); got != tt.want {
				t.Errorf("AccountFromAccessKey(%q) = %q, want %q", tt.akid, got, tt.want)
			}
		})
	}
}

func TestPrincipalContext(t *testing.T) {
	if _, ok := FromContext(context.Background()); ok {
		t.Error("empty context has a principal")
	}
	sig := &Signature{AccessKeyID: "123456789012", Region: "eu-west-1", Service: "organizations", SecurityToken: "t"}
	p := RootPrincipal(AccountFromAccessKey(sig.AccessKeyID, "000000000000"), sig)
	want := Principal{AccountID: "123456789012", ARN: "arn:aws:iam::123456789012:root", UserID: "123456789012", AccessKeyID: "123456789012",
		Region: "eu-west-1", Service: "organizations", Temporary: true}
	if p != want {
		t.Errorf("RootPrincipal = %+v", p)
	}
	got, ok := FromContext(WithPrincipal(context.Background(), p))
	if !ok || got != p {
		t.Errorf("FromContext = %+v, %v", got, ok)
	}
	if a := AnonymousPrincipal("000000000000"); !a.Anonymous || a.ARN != "arn:aws:iam::000000000000:root" || a.AccessKeyID != "" {
		t.Errorf("AnonymousPrincipal = %+v", a)
	}
	s := SessionPrincipal("222222222222", "OrganizationAccountAccessRole", "AROAEXAMPLE", "ci", sig)
	if s.ARN != "arn:aws:sts::222222222222:assumed-role/OrganizationAccountAccessRole/ci" || s.UserID != "AROAEXAMPLE:ci" ||
		s.AccountID != "222222222222" || !s.Temporary {
		t.Errorf("SessionPrincipal = %+v", s)
	}
}
