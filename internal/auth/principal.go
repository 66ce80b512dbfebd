// Package auth identifies the caller of a request: it parses AWS Signature
// Version 4 (Authorization header or presigned query), verifies signatures
// against a secret the caller looked up, maps access keys to accounts in
// open mode, and carries the resulting Principal in the request context.
//
// The package holds no credentials and does no I/O: deciding which keys
// exist, what their secrets are and whether a session token is still valid
// is the caller's business (see ARCHITECTURE.md "Identity").
package auth

import "context"

// Principal is the caller of a request.
//
// It deliberately holds no secret material, not even the session token: a
// Principal ends up in the context, in logs and in audit records, and the
// token is a credential. Code that needs the token (to resolve an assumed-role
// session) has it from Signature.SecurityToken at verification time.
type Principal struct {
	AccountID string // 12 digits
	ARN       string // e.g. arn:aws:iam::123456789012:root
	// UserID is what GetCallerIdentity answers as UserId: the account id
	// for the root user, ROLEID:SESSION for an assumed-role session.
	UserID      string
	AccessKeyID string // empty for anonymous callers
	Region      string // from the credential scope
	Service     string // signing name from the credential scope
	Temporary   bool   // the request presented a session token
	Anonymous   bool   // no credentials at all (open mode only)
}

// RootARN is the ARN of an account's root user.
func RootARN(accountID string) string {
	return "arn:aws:iam::" + accountID + ":root"
}

// RootPrincipal is the account's root user calling with the credentials of
// sig, which is how open mode sees every signed request.
func RootPrincipal(accountID string, sig *Signature) Principal {
	return Principal{
		AccountID:   accountID,
		ARN:         RootARN(accountID),
		UserID:      accountID,
		AccessKeyID: sig.AccessKeyID,
		Region:      sig.Region,
		Service:     sig.Service,
		Temporary:   sig.SecurityToken != "",
	}
}

// AnonymousPrincipal is an unsigned caller that open mode attributes to
// accountID so that requests from unconfigured tools still land somewhere.
func AnonymousPrincipal(accountID string) Principal {
	return Principal{AccountID: accountID, ARN: RootARN(accountID), UserID: accountID, Anonymous: true}
}

// AssumedRoleARN is the ARN of a session of an assumed role.
func AssumedRoleARN(accountID, roleName, sessionName string) string {
	return "arn:aws:sts::" + accountID + ":assumed-role/" + roleName + "/" + sessionName
}

// SessionPrincipal is a session of a role of accountID, calling with the
// temporary credentials of sig.
func SessionPrincipal(accountID, roleName, roleID, sessionName string, sig *Signature) Principal {
	return Principal{
		AccountID:   accountID,
		ARN:         AssumedRoleARN(accountID, roleName, sessionName),
		UserID:      roleID + ":" + sessionName,
		AccessKeyID: sig.AccessKeyID,
		Region:      sig.Region,
		Service:     sig.Service,
		Temporary:   true,
	}
}

// AccountFromAccessKey maps an access key id to an account in open mode: a
// key of exactly twelve digits names the account, as in LocalStack; any
// other key belongs to defaultAccount. LocalStack uses re.match, which only
// anchors the start; we anchor both ends so that "1234567890123" is not
// account 123456789012.
func AccountFromAccessKey(akid, defaultAccount string) string {
	if len(akid) != 12 {
		return defaultAccount
	}
	for i := 0; i < len(akid); i++ {
		if akid[i] < '0' || akid[i] > '9' {
			return defaultAccount
		}
	}
	return akid
}

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal stored by WithPrincipal.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
