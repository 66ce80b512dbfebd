// Package sts is the slice of AWS Security Token Service that tools call
// against an Organizations endpoint: GetCallerIdentity (Terraform and most
// tools ask it first) and AssumeRole, with which a management account
// acts in its member accounts through OrganizationAccountAccessRole.
//
// STS speaks awsQuery: the server recognises its requests, authenticates
// them like any other, and hands the decoded parameters to Serve.
package sts

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/orgstack/orgstack/internal/accounts"
	"github.com/orgstack/orgstack/internal/auth"
	"github.com/orgstack/orgstack/internal/clock"
	"github.com/orgstack/orgstack/internal/protocol"
	"github.com/orgstack/orgstack/internal/store"
)

// SigningName is STS's SigV4 service name.
const SigningName = "sts"

// Options configure a Service.
type Options struct {
	Store store.Store
	Clock clock.Clock
}

// Service answers STS actions.
type Service struct {
	store store.Store
	clock clock.Clock
}

// New returns an STS service.
func New(opts Options) *Service { return &Service{store: opts.Store, clock: opts.Clock} }

// SigningName is the service name STS requests are signed for.
func (s *Service) SigningName() string { return SigningName }

// WriteError answers an error raised before Serve ran, such as a failed
// authentication, as STS words it.
func (s *Service) WriteError(w http.ResponseWriter, requestID string, err error) int {
	return WriteError(w, requestID, err)
}

// Serve runs the Action of the request for the principal in ctx and writes
// the XML answer. body is the request body, already read. It returns the
// HTTP status and the action name for the access log, and the error it
// answered, if any, for the server to log.
func (s *Service) Serve(ctx context.Context, w http.ResponseWriter, requestID string, r *http.Request, body []byte) (int, string, error) {
	params := r.URL.Query()
	if r.Method == http.MethodPost {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			err := senderError("MalformedQueryString", http.StatusBadRequest, "The request body is not valid form encoding.")
			return WriteError(w, requestID, err), "", err
		}
		for k, vs := range form {
			params[k] = append(params[k], vs...)
		}
	}
	action := params.Get("Action")
	if v := params.Get("Version"); v != "" && v != apiVersion {
		err := senderError("InvalidAction", http.StatusBadRequest,
			fmt.Sprintf("Could not find operation %s for version %s", action, v))
		return WriteError(w, requestID, err), action, err
	}
	var (
		out any
		err error
	)
	switch action {
	case "GetCallerIdentity":
		out, err = s.getCallerIdentity(ctx, requestID)
	case "AssumeRole":
		out, err = s.assumeRole(ctx, requestID, params)
	case "GetSessionToken":
		out, err = s.getSessionToken(ctx, requestID, params)
	case "":
		err = senderError("MissingAction", http.StatusBadRequest, "Missing Action")
	case "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity", "AssumeRoot", "DecodeAuthorizationMessage", "GetAccessKeyInfo",
		"GetDelegatedAccessToken", "GetFederationToken", "GetWebIdentityToken":
		// STS has these, orgstack does not (yet): an honest 501, as for
		// every unimplemented operation, rather than "no such action".
		err = &protocol.NotImplementedError{Service: "STS", Operation: action}
	default:
		err = senderError("InvalidAction", http.StatusBadRequest,
			fmt.Sprintf("Could not find operation %s for version %s", action, apiVersion))
	}
	if err != nil {
		return WriteError(w, requestID, err), action, err
	}
	write(w, requestID, http.StatusOK, out)
	return http.StatusOK, action, nil
}

func caller(ctx context.Context) (auth.Principal, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return p, errors.New("sts: no principal in the request context")
	}
	return p, nil
}

type getCallerIdentityResponse struct {
	XMLName  xml.Name `xml:"GetCallerIdentityResponse"`
	Xmlns    string   `xml:"xmlns,attr"`
	Result   callerIdentity
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

type callerIdentity struct {
	XMLName xml.Name `xml:"GetCallerIdentityResult"`
	Arn     string   `xml:"Arn"`
	UserID  string   `xml:"UserId"`
	Account string   `xml:"Account"`
}

// getCallerIdentity needs no permission in AWS, and none here.
func (s *Service) getCallerIdentity(ctx context.Context, requestID string) (any, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	return getCallerIdentityResponse{
		Xmlns:    xmlNamespace,
		Result:   callerIdentity{Arn: p.ARN, UserID: p.UserID, Account: p.AccountID},
		Metadata: responseMetadata{RequestID: requestID},
	}, nil
}

type assumeRoleResponse struct {
	XMLName  xml.Name `xml:"AssumeRoleResponse"`
	Xmlns    string   `xml:"xmlns,attr"`
	Result   assumeRoleResult
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

type assumeRoleResult struct {
	XMLName         xml.Name        `xml:"AssumeRoleResult"`
	AssumedRoleUser assumedRoleUser `xml:"AssumedRoleUser"`
	Credentials     credentials     `xml:"Credentials"`
	SourceIdentity  string          `xml:"SourceIdentity,omitempty"`
}

type assumedRoleUser struct {
	AssumedRoleID string `xml:"AssumedRoleId"`
	Arn           string `xml:"Arn"`
}

type credentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

const (
	defaultDuration = time.Hour
	// Role chaining (assuming a role with temporary credentials) is
	// limited to one hour whatever the role allows.
	chainedMaxDuration = time.Hour
)

// assumeRole issues temporary credentials for a role of another (or the
// same) account, when the caller's account is the one the role trusts.
// Session policies, tags and MFA parameters are accepted and validated but
// have no effect: orgstack has no IAM policies to narrow.
func (s *Service) assumeRole(ctx context.Context, requestID string, params url.Values) (any, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	in, err := parseAssumeRole(params)
	if err != nil {
		return nil, err
	}
	roleAccount, roleName, ok := parseRoleARN(in.roleARN)
	if !ok {
		return nil, senderError("ValidationError", http.StatusBadRequest, "Request ARN is invalid")
	}
	denied := senderError("AccessDenied", http.StatusForbidden, fmt.Sprintf(
		"User: %s is not authorized to perform: sts:AssumeRole on resource: %s", p.ARN, in.roleARN))

	var out assumeRoleResponse
	err = s.store.Write(ctx, func(tx store.Tx) error {
		role, err := accounts.GetRole(tx, roleAccount, roleName)
		if errors.Is(err, accounts.ErrNoRole) {
			return denied // AWS does not reveal whether the role exists
		}
		if err != nil {
			return err
		}
		if role.TrustedAccountID != p.AccountID {
			return denied
		}
		duration := defaultDuration
		if in.duration > 0 {
			duration = in.duration
		}
		if duration > role.MaxSession() {
			return senderError("ValidationError", http.StatusBadRequest,
				"The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
		}
		chained := strings.Contains(p.ARN, ":assumed-role/")
		if chained && duration > chainedMaxDuration {
			return senderError("ValidationError", http.StatusBadRequest,
				"The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
		}
		now := s.clock.Now()
		// Each new session clears away a few that have ended, so that
		// they never pile up and the cost stays bounded per call.
		if _, err := accounts.PurgeExpiredSessions(tx, now, 8); err != nil {
			return err
		}
		cred, token, err := accounts.NewSessionKey(tx, role.AccountID, accounts.Session{
			Expiration:      now.Add(duration),
			RoleName:        role.Name,
			RoleID:          role.ID(),
			SessionName:     in.sessionName,
			SourceAccountID: p.AccountID,
			Chained:         chained,
		}, now)
		if err != nil {
			return err
		}
		out = assumeRoleResponse{
			Xmlns: xmlNamespace,
			Result: assumeRoleResult{
				AssumedRoleUser: assumedRoleUser{
					AssumedRoleID: role.ID() + ":" + in.sessionName,
					Arn:           auth.AssumedRoleARN(role.AccountID, role.Name, in.sessionName),
				},
				Credentials: credentials{
					AccessKeyID:     cred.AccessKeyID,
					SecretAccessKey: cred.SecretAccessKey,
					SessionToken:    token,
					Expiration:      cred.Session.Expiration.UTC().Format(time.RFC3339),
				},
				SourceIdentity: in.sourceIdentity,
			},
			Metadata: responseMetadata{RequestID: requestID},
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// parseRoleARN reads arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME.
func parseRoleARN(arn string) (account, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] != "iam" || parts[3] != "" {
		return "", "", false
	}
	account, resource := parts[4], parts[5]
	rest, isRole := strings.CutPrefix(resource, "role/")
	if !accounts.ValidID(account) || !isRole {
		return "", "", false
	}
	name = rest[strings.LastIndexByte(rest, '/')+1:]
	if !accounts.ValidRoleName(name) {
		return "", "", false
	}
	return account, name, true
}

type assumeRoleInput struct {
	roleARN, sessionName, sourceIdentity string
	duration                             time.Duration
}

// parseAssumeRole checks AssumeRole's parameters against the model's
// constraints and words every violation as STS does, all at once.
func parseAssumeRole(params url.Values) (*assumeRoleInput, error) {
	var v validator
	in := &assumeRoleInput{
		roleARN:        v.str(params, "RoleArn", true, 20, 2048, ""),
		sessionName:    v.str(params, "RoleSessionName", true, 2, 64, `[\w+=,.@-]*`),
		sourceIdentity: v.str(params, "SourceIdentity", false, 2, 64, `[\w+=,.@-]*`),
	}
	v.str(params, "ExternalId", false, 2, 1224, `[\w+=,.@:\/-]*`)
	v.str(params, "SerialNumber", false, 9, 256, `[\w+=/:,.@-]*`)
	v.str(params, "TokenCode", false, 6, 6, `[\d]*`)
	v.str(params, "Policy", false, 1, 0, "")
	in.duration = v.duration(params, 43200)
	if err := v.err(); err != nil {
		return nil, err
	}
	return in, nil
}

// patterns holds the model's patterns compiled and anchored (Smithy's are
// not, but each of these matches the whole value or nothing useful).
var patterns = map[string]*regexp.Regexp{}

func init() {
	for _, p := range []string{`[\w+=,.@-]*`, `[\w+=,.@:\/-]*`, `[\w+=/:,.@-]*`, `[\d]*`} {
		patterns[p] = regexp.MustCompile("^" + p + "$")
	}
}

// validator collects constraint violations in the Coral wording AWS
// services share ("1 validation error detected: Value … at '…' failed to
// satisfy constraint: …").
type validator struct{ problems []string }

func (v *validator) add(p string) { v.problems = append(v.problems, p) }

// str reads a string parameter and checks presence, length (max 0 means
// unbounded) and the model's pattern, when there is one.
func (v *validator) str(params url.Values, name string, required bool, min, max int, pattern string) string {
	member := strings.ToLower(name[:1]) + name[1:]
	if !params.Has(name) {
		if required {
			v.add(fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", member))
		}
		return ""
	}
	val := params.Get(name)
	n := len([]rune(val))
	switch {
	case n < min:
		v.add(fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d", val, member, min))
	case max > 0 && n > max:
		v.add(fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", val, member, max))
	case pattern != "" && !patterns[pattern].MatchString(val):
		v.add(fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", val, member, pattern))
	}
	return val
}

// duration reads DurationSeconds, from 900 to max seconds; zero when absent.
func (v *validator) duration(params url.Values, max int) time.Duration {
	if !params.Has("DurationSeconds") {
		return 0
	}
	raw := params.Get("DurationSeconds")
	n, err := strconv.Atoi(raw)
	switch {
	case err != nil:
		v.add(fmt.Sprintf("Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must be an integer", raw))
	case n < 900:
		v.add(fmt.Sprintf("Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900", n))
	case n > max:
		v.add(fmt.Sprintf("Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to %d", n, max))
	default:
		return time.Duration(n) * time.Second
	}
	return 0
}

func (v *validator) err() error {
	switch len(v.problems) {
	case 0:
		return nil
	case 1:
		return senderError("ValidationError", http.StatusBadRequest, "1 validation error detected: "+v.problems[0])
	}
	return senderError("ValidationError", http.StatusBadRequest,
		fmt.Sprintf("%d validation errors detected: %s", len(v.problems), strings.Join(v.problems, "; ")))
}

type getSessionTokenResponse struct {
	XMLName  xml.Name `xml:"GetSessionTokenResponse"`
	Xmlns    string   `xml:"xmlns,attr"`
	Result   getSessionTokenResult
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

type getSessionTokenResult struct {
	XMLName     xml.Name    `xml:"GetSessionTokenResult"`
	Credentials credentials `xml:"Credentials"`
}

// Root users get sessions of 15 minutes to an hour; IAM users, which
// orgstack does not have, could ask for up to 36 hours.
const rootSessionMax = time.Hour

// getSessionToken issues temporary credentials that act as the caller
// itself. Only long-term credentials may ask; the MFA parameters are
// validated and otherwise ignored, as orgstack has no MFA devices.
func (s *Service) getSessionToken(ctx context.Context, requestID string, params url.Values) (any, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var v validator
	v.str(params, "SerialNumber", false, 9, 256, `[\w+=/:,.@-]*`)
	v.str(params, "TokenCode", false, 6, 6, `[\d]*`)
	duration := v.duration(params, 129600)
	if err := v.err(); err != nil {
		return nil, err
	}
	if p.Temporary {
		return nil, senderError("AccessDenied", http.StatusForbidden, "Cannot call GetSessionToken with session credentials")
	}
	// Account credentials are limited to an hour, which is also their default.
	if duration == 0 || duration > rootSessionMax {
		duration = rootSessionMax
	}
	var out getSessionTokenResponse
	err = s.store.Write(ctx, func(tx store.Tx) error {
		now := s.clock.Now()
		if _, err := accounts.PurgeExpiredSessions(tx, now, 8); err != nil {
			return err
		}
		cred, token, err := accounts.NewSessionKey(tx, p.AccountID, accounts.Session{
			Expiration:      now.Add(duration),
			SourceAccountID: p.AccountID,
		}, now)
		if err != nil {
			return err
		}
		out = getSessionTokenResponse{
			Xmlns: xmlNamespace,
			Result: getSessionTokenResult{Credentials: credentials{
				AccessKeyID:     cred.AccessKeyID,
				SecretAccessKey: cred.SecretAccessKey,
				SessionToken:    token,
				Expiration:      cred.Session.Expiration.UTC().Format(time.RFC3339),
			}},
			Metadata: responseMetadata{RequestID: requestID},
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
