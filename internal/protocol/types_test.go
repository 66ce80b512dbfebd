package protocol

import (
	"net/http"
	"time"
)

// Hand-written types that follow the generated-code convention (see the
// package doc): pointers for optional scalars and structures, slices of
// values for lists, named string types for enums, json tags for wire names.

type testStatus string

const (
	statusActive  testStatus = "ACTIVE"
	statusPending testStatus = "PENDING"
)

type testTag struct {
	Key   *string `json:"Key"`
	Value *string `json:"Value"`
}

// testDetails is union-like: exactly one member is meant to be set, and one
// member refers back to the union itself.
type testDetails struct {
	Volume *testVolume   `json:"ebsVolume"`
	Text   *string       `json:"text"`
	Nested *testDetails  `json:"nested"`
	Times  []time.Time   `json:"times"`
	Pairs  [][]testTag   `json:"pairs"`
	Flags  []bool        `json:"flags"`
	Scores []float64     `json:"scores"`
	Kinds  []testStatus  `json:"kinds"`
	Counts []int64       `json:"counts"`
	Sizes  []int32       `json:"sizes"`
	More   []testDetails `json:"more"`
}

type testVolume struct {
	VolumeID *string  `json:"volumeId"`
	SizeGiB  *int32   `json:"sizeInGiB"`
	Cost     *float64 `json:"monthlyCost"`
}

type testInput struct {
	Name     *string      `json:"Name"`
	Enabled  *bool        `json:"Enabled"`
	Count    *int32       `json:"Count"`
	Total    *int64       `json:"Total"`
	Ratio    *float64     `json:"Ratio"`
	When     *time.Time   `json:"When"`
	Status   *testStatus  `json:"Status"`
	Statuses []testStatus `json:"Statuses"`
	Tags     []testTag    `json:"Tags"`
	Matrix   [][]string   `json:"Matrix"`
	Details  *testDetails `json:"Details"`
	Untagged *string      // not a member: no json tag
}

// testOrganization and testDescribeOrganizationOutput mirror the shapes of
// Organizations' DescribeOrganization, the benchmark operation.
type testPolicyTypeSummary struct {
	Type   *string `json:"Type"`
	Status *string `json:"Status"`
}

type testOrganization struct {
	Id                   *string                 `json:"Id"`
	Arn                  *string                 `json:"Arn"`
	FeatureSet           *string                 `json:"FeatureSet"`
	MasterAccountArn     *string                 `json:"MasterAccountArn"`
	MasterAccountId      *string                 `json:"MasterAccountId"`
	MasterAccountEmail   *string                 `json:"MasterAccountEmail"`
	AvailablePolicyTypes []testPolicyTypeSummary `json:"AvailablePolicyTypes"`
}

type testDescribeOrganizationOutput struct {
	Organization *testOrganization `json:"Organization"`
}

type testEmpty struct{}

func ptr[T any](v T) *T { return &v }

func sampleOrganization() *testDescribeOrganizationOutput {
	return &testDescribeOrganizationOutput{Organization: &testOrganization{
		Id:                 ptr("o-exampleorgid"),
		Arn:                ptr("arn:aws:organizations::111111111111:organization/o-exampleorgid"),
		FeatureSet:         ptr("ALL"),
		MasterAccountArn:   ptr("arn:aws:organizations::111111111111:account/o-exampleorgid/111111111111"),
		MasterAccountId:    ptr("111111111111"),
		MasterAccountEmail: ptr("bill@example.com"),
		AvailablePolicyTypes: []testPolicyTypeSummary{
			{Type: ptr("SERVICE_CONTROL_POLICY"), Status: ptr("ENABLED")},
		},
	}}
}

// Errors as the generator writes them: one struct per exception.

// testInvalidInput is shaped like Organizations' InvalidInputException.
type testInvalidInput struct {
	Message *string `json:"Message"`
	Reason  *string `json:"Reason"`
}

func (e *testInvalidInput) Error() string        { return "InvalidInputException: " + e.ErrorMessage() }
func (e *testInvalidInput) ErrorCode() string    { return "InvalidInputException" }
func (e *testInvalidInput) ErrorFault() Fault    { return FaultClient }
func (e *testInvalidInput) HTTPStatus() int      { return http.StatusBadRequest }
func (e *testInvalidInput) ErrorMessage() string { return deref(e.Message) }

// testResourceNotFound is shaped like an Automation exception.
type testResourceNotFound struct {
	Message *string `json:"message"`
}

func (e *testResourceNotFound) Error() string {
	return "ResourceNotFoundException: " + e.ErrorMessage()
}
func (e *testResourceNotFound) ErrorCode() string    { return "ResourceNotFoundException" }
func (e *testResourceNotFound) ErrorFault() Fault    { return FaultClient }
func (e *testResourceNotFound) HTTPStatus() int      { return http.StatusNotFound }
func (e *testResourceNotFound) ErrorMessage() string { return deref(e.Message) }

// testThrottling has a status and a server fault, for the retry path.
type testThrottling struct {
	Message *string `json:"message"`
}

func (e *testThrottling) Error() string        { return "ThrottlingException" }
func (e *testThrottling) ErrorCode() string    { return "ThrottlingException" }
func (e *testThrottling) ErrorFault() Fault    { return FaultClient }
func (e *testThrottling) HTTPStatus() int      { return http.StatusTooManyRequests }
func (e *testThrottling) ErrorMessage() string { return deref(e.Message) }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

var (
	testOrgs = (&Service{
		Name: "organizations", TargetPrefix: "AWSOrganizationsV20161128",
		Namespace: "com.amazonaws.organizations", JSONVersion: "1.1", Protocols: []string{"json"},
	}).Init()
	testCAO = (&Service{
		Name: "automation", TargetPrefix: "ComputeOptimizerAutomationService",
		Namespace: "com.amazonaws.computeoptimizerautomation", JSONVersion: "1.0",
		Protocols: []string{"smithy-rpc-v2-cbor", "json"},
	}).Init()
)
