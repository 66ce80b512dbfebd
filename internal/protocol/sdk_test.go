package protocol

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/schemas"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/transport/http/protocol/rpcv2"
)

// End to end through the official Go SDK: the Organizations client speaks
// awsJson 1.1, and the same client with its protocol swapped for smithy-go's
// rpcv2Cbor (the schema-serde SDK allows that) stands in for the CBOR
// clients of Compute Optimizer Automation, whose module is not available
// here. The handler below is a miniature of the server: Identify, Decode,
// then WriteOutput or WriteError.

type sdkAccount struct {
	Id              *string    `json:"Id"`
	Arn             *string    `json:"Arn"`
	Email           *string    `json:"Email"`
	Name            *string    `json:"Name"`
	Status          *string    `json:"Status"`
	JoinedMethod    *string    `json:"JoinedMethod"`
	JoinedTimestamp *time.Time `json:"JoinedTimestamp"`
}

type sdkListAccountsInput struct {
	NextToken  *string `json:"NextToken"`
	MaxResults *int32  `json:"MaxResults"`
}

type sdkListAccountsOutput struct {
	Accounts  []sdkAccount `json:"Accounts"`
	NextToken *string      `json:"NextToken"`
}

type sdkDescribeAccountInput struct {
	AccountId *string `json:"AccountId"`
}

type sdkDescribeAccountOutput struct {
	Account *sdkAccount `json:"Account"`
}

type sdkTagResourceInput struct {
	ResourceId *string   `json:"ResourceId"`
	Tags       []testTag `json:"Tags"`
}

type sdkNotInUse struct {
	Message *string `json:"Message"`
}

func (e *sdkNotInUse) Error() string        { return "AWSOrganizationsNotInUseException" }
func (e *sdkNotInUse) ErrorCode() string    { return "AWSOrganizationsNotInUseException" }
func (e *sdkNotInUse) ErrorMessage() string { return deref(e.Message) }
func (e *sdkNotInUse) ErrorFault() Fault    { return FaultClient }
func (e *sdkNotInUse) HTTPStatus() int      { return 400 }

var joined = time.Date(2024, 2, 29, 12, 34, 56, 789e6, time.UTC)

// miniServer answers a few Organizations operations in the protocol the
// request arrives in, which must be want.
func miniServer(t testing.TB, want Protocol) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := Identify(r)
		if err != nil {
			var apiErr APIError
			errors.As(err, &apiErr)
			_ = CodecFor(ErrorProtocol(r)).WriteError(w, "req-id", nil, apiErr)
			return
		}
		if req.Protocol != want || req.Service != "AWSOrganizationsV20161128" {
			t.Errorf("identified %+v, want protocol %v", req, want)
		}
		codec := CodecFor(req.Protocol)
		body, _ := io.ReadAll(r.Body)
		fail := func(e APIError) { _ = codec.WriteError(w, "req-id", testOrgs, e) }
		write := func(out any) {
			if err := codec.WriteOutput(w, "req-id", out); err != nil {
				t.Errorf("WriteOutput: %v", err)
			}
		}
		var in any
		switch req.Operation {
		case "DescribeOrganization", "LeaveOrganization":
			in = &testEmpty{}
		case "ListAccounts":
			in = &sdkListAccountsInput{}
		case "DescribeAccount":
			in = &sdkDescribeAccountInput{}
		case "TagResource":
			in = &sdkTagResourceInput{}
		default:
			fail(&UnknownOperationError{Service: req.Service, Operation: req.Operation})
			return
		}
		if err := codec.Decode(body, in); err != nil {
			var apiErr APIError
			if !errors.As(err, &apiErr) {
				t.Errorf("Decode: %v", err)
			}
			fail(apiErr)
			return
		}
		switch in := in.(type) {
		case *testEmpty:
			if req.Operation == "LeaveOrganization" {
				fail(&sdkNotInUse{Message: ptr("Your account is not a member of an organization.")})
				return
			}
			write(sampleOrganization())
		case *sdkListAccountsInput:
			if in.MaxResults == nil || *in.MaxResults != 2 || deref(in.NextToken) != "tok" {
				fail(&testInvalidInput{Message: ptr("bad paging"), Reason: ptr("INVALID_NEXT_TOKEN")})
				return
			}
			write(&sdkListAccountsOutput{Accounts: []sdkAccount{
				{Id: ptr("111111111111"), Status: ptr("ACTIVE"), JoinedTimestamp: &joined},
				{Id: ptr("222222222222"), Email: ptr("é@example.com"), JoinedMethod: ptr("CREATED")},
			}})
		case *sdkDescribeAccountInput:
			if deref(in.AccountId) == "" {
				fail(&testInvalidInput{Message: ptr("AccountId is required"), Reason: ptr("INPUT_REQUIRED")})
				return
			}
			write(&sdkDescribeAccountOutput{Account: &sdkAccount{Id: in.AccountId, Name: ptr("n\"\n"), JoinedTimestamp: &joined}})
		case *sdkTagResourceInput:
			if len(in.Tags) != 1 || deref(in.Tags[0].Key) != "k" || deref(in.ResourceId) != "r-1" {
				fail(&testInvalidInput{Message: ptr("bad tags"), Reason: ptr("INVALID_INPUT")})
				return
			}
			write(nil) // Unit output
		}
	})
}

func orgsClient(url string, cbor bool) *organizations.Client {
	return organizations.New(organizations.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		RetryMaxAttempts: 1,
	}, func(o *organizations.Options) {
		if cbor {
			o.Protocol = rpcv2.NewCBOR(schemas.AWSOrganizationsV20161128)
		}
	})
}

func TestGoSDKEndToEnd(t *testing.T) {
	t.Parallel()
	for _, p := range []Protocol{AWSJSON11, RPCv2CBOR} {
		srv := httptest.NewServer(miniServer(t, p))
		t.Cleanup(srv.Close)
		proto := p.String()
		client := orgsClient(srv.URL, p == RPCv2CBOR)
		ctx := context.Background()
		t.Run(proto+"/DescribeOrganization", func(t *testing.T) {
			t.Parallel()
			out, err := client.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
			if err != nil {
				t.Fatal(err)
			}
			o := out.Organization
			if aws.ToString(o.Id) != "o-exampleorgid" || o.FeatureSet != orgtypes.OrganizationFeatureSetAll ||
				len(o.AvailablePolicyTypes) != 1 || o.AvailablePolicyTypes[0].Status != orgtypes.PolicyTypeStatusEnabled {
				t.Errorf("got %+v", o)
			}
		})
		t.Run(proto+"/ListAccounts", func(t *testing.T) {
			t.Parallel()
			out, err := client.ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(2), NextToken: aws.String("tok")})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Accounts) != 2 || out.NextToken != nil {
				t.Fatalf("got %+v", out)
			}
			a, b := out.Accounts[0], out.Accounts[1]
			if aws.ToString(a.Id) != "111111111111" || a.Status != orgtypes.AccountStatusActive || !aws.ToTime(a.JoinedTimestamp).Equal(joined) {
				t.Errorf("account 0: %+v (joined %v)", a, aws.ToTime(a.JoinedTimestamp))
			}
			if aws.ToString(b.Email) != "é@example.com" || b.JoinedMethod != orgtypes.AccountJoinedMethodCreated || b.JoinedTimestamp != nil {
				t.Errorf("account 1: %+v", b)
			}
		})
		t.Run(proto+"/DescribeAccount", func(t *testing.T) {
			t.Parallel()
			out, err := client.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("123456789012")})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.Account.Id) != "123456789012" || aws.ToString(out.Account.Name) != "n\"\n" || !aws.ToTime(out.Account.JoinedTimestamp).Equal(joined) {
				t.Errorf("got %+v", out.Account)
			}
		})
		t.Run(proto+"/TagResource (unit output)", func(t *testing.T) {
			t.Parallel()
			_, err := client.TagResource(ctx, &organizations.TagResourceInput{
				ResourceId: aws.String("r-1"), Tags: []orgtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}},
			})
			if err != nil {
				t.Fatal(err)
			}
		})
		t.Run(proto+"/modelled error", func(t *testing.T) {
			t.Parallel()
			_, err := client.LeaveOrganization(ctx, &organizations.LeaveOrganizationInput{})
			var notInUse *orgtypes.AWSOrganizationsNotInUseException
			if !errors.As(err, &notInUse) || notInUse.ErrorMessage() != "Your account is not a member of an organization." {
				t.Fatalf("err = %v (%T)", err, err)
			}
		})
		t.Run(proto+"/modelled error with reason", func(t *testing.T) {
			t.Parallel()
			_, err := client.ListAccounts(ctx, &organizations.ListAccountsInput{})
			var invalid *orgtypes.InvalidInputException
			if !errors.As(err, &invalid) || invalid.Reason != orgtypes.InvalidInputExceptionReasonInvalidPaginationToken || invalid.ErrorMessage() != "bad paging" {
				t.Fatalf("err = %v (%T)", err, err)
			}
		})
		t.Run(proto+"/unmodelled error", func(t *testing.T) {
			t.Parallel()
			_, err := client.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String("1")})
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != CodeUnknownOperation || apiErr.ErrorMessage() == "" {
				t.Fatalf("err = %v (%T)", err, err)
			}
		})
	}
}

// BenchmarkDescribeOrganizationSDK measures requests per second through the
// Go SDK against a bare net/http handler writing canned bytes, and against
// the codec path (Identify, Decode, WriteOutput). The target is that the
// codec keeps at least 70% of the bare throughput.
func BenchmarkDescribeOrganizationSDK(b *testing.B) {
	canned := []byte(`{"Organization":{"Id":"o-exampleorgid","Arn":"arn:aws:organizations::111111111111:organization/o-exampleorgid","FeatureSet":"ALL","MasterAccountArn":"arn:aws:organizations::111111111111:account/o-exampleorgid/111111111111","MasterAccountId":"111111111111","MasterAccountEmail":"bill@example.com","AvailablePolicyTypes":[{"Type":"SERVICE_CONTROL_POLICY","Status":"ENABLED"}]}}`)
	handlers := map[string]http.Handler{
		"bare": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", MediaTypeJSON11)
			w.Header().Set("X-Amzn-Requestid", "req-id")
			_, _ = w.Write(canned)
		}),
		"codec": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			req, err := Identify(r)
			if err != nil {
				b.Error(err)
				return
			}
			body, _ := io.ReadAll(r.Body)
			codec := CodecFor(req.Protocol)
			var in testEmpty
			if err := codec.Decode(body, &in); err != nil {
				b.Error(err)
				return
			}
			_ = codec.WriteOutput(w, "req-id", sampleOrganization())
		}),
	}
	for _, name := range []string{"bare", "codec"} {
		b.Run(name, func(b *testing.B) {
			srv := httptest.NewServer(handlers[name])
			defer srv.Close()
			client := orgsClient(srv.URL, false)
			ctx := context.Background()
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := client.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
