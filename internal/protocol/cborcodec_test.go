package protocol

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	smithycbor "github.com/aws/smithy-go/encoding/cbor"
)

// Shapes of the Smithy RPC v2 CBOR compliance suite
// (smithy-lang/smithy, smithy-protocol-tests/model/rpcv2Cbor/*.smithy),
// written in our generated-type convention. The suite's Byte, Short and
// Float members are Integer and Double here (the only kinds our models
// use), and its blob members are left out, so that the vectors also prove
// that unknown members, indefinite byte strings included, are skipped.

type rpcScalars struct {
	TrueBooleanValue  *bool    `json:"trueBooleanValue"`
	FalseBooleanValue *bool    `json:"falseBooleanValue"`
	ByteValue         *int32   `json:"byteValue"`
	DoubleValue       *float64 `json:"doubleValue"`
	FloatValue        *float64 `json:"floatValue"`
	IntegerValue      *int32   `json:"integerValue"`
	LongValue         *int64   `json:"longValue"`
	ShortValue        *int32   `json:"shortValue"`
	StringValue       *string  `json:"stringValue"`
}

type rpcListMember struct {
	A *string `json:"a"`
	B *string `json:"b"`
}

type rpcLists struct {
	StringList       []string        `json:"stringList"`
	StringSet        []string        `json:"stringSet"`
	IntegerList      []int32         `json:"integerList"`
	BooleanList      []bool          `json:"booleanList"`
	TimestampList    []time.Time     `json:"timestampList"`
	EnumList         []testStatus    `json:"enumList"`
	IntEnumList      []int32         `json:"intEnumList"`
	NestedStringList [][]string      `json:"nestedStringList"`
	StructureList    []rpcListMember `json:"structureList"`
}

type rpcNested1 struct {
	Foo    *string     `json:"foo"`
	Nested *rpcNested2 `json:"nested"`
}

type rpcNested2 struct {
	Bar             *string     `json:"bar"`
	RecursiveMember *rpcNested1 `json:"recursiveMember"`
}

type rpcRecursive struct {
	Nested *rpcNested1 `json:"nested"`
}

type rpcNestedUnion struct {
	StringValue *string `json:"stringValue"`
}

type rpcUnion struct {
	StringValue *string         `json:"stringValue"`
	UnionValue  *rpcNestedUnion `json:"unionValue"`
}

type rpcUnions struct {
	Contents   *rpcUnion `json:"contents"`
	OtherValue *string   `json:"otherValue"`
}

type rpcFloat16 struct {
	Value *float64 `json:"value"`
}

type rpcFractional struct {
	Datetime *time.Time `json:"datetime"`
}

func b64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

var simpleScalarParams = rpcScalars{
	ByteValue: ptr[int32](5), DoubleValue: ptr(1.889), FalseBooleanValue: ptr(false), FloatValue: ptr(7.625),
	IntegerValue: ptr[int32](256), LongValue: ptr[int64](9873), ShortValue: ptr[int32](9898),
	StringValue: ptr("simple"), TrueBooleanValue: ptr(true),
}

var listsParams = rpcLists{
	StringList:       []string{"foo", "bar"},
	StringSet:        []string{"foo", "bar"},
	IntegerList:      []int32{1, 2},
	BooleanList:      []bool{true, false},
	TimestampList:    []time.Time{time.Unix(1398796238, 0).UTC(), time.Unix(1398796238, 0).UTC()},
	EnumList:         []testStatus{"Foo", "0"},
	IntEnumList:      []int32{1, 2},
	NestedStringList: [][]string{{"foo", "bar"}, {"baz", "qux"}},
	StructureList:    []rpcListMember{{A: ptr("1"), B: ptr("2")}, {A: ptr("3"), B: ptr("4")}},
}

var recursiveParams = rpcRecursive{Nested: &rpcNested1{
	Foo: ptr("Foo1"),
	Nested: &rpcNested2{Bar: ptr("Bar1"), RecursiveMember: &rpcNested1{
		Foo: ptr("Foo2"), Nested: &rpcNested2{Bar: ptr("Bar2")},
	}},
}}

const (
	indefiniteString1 = "An example indefinite string, which will be chunked, on each comma"
	indefiniteString2 = "Another example indefinite string with only one chunk"
	indefiniteString3 = "This is a plain string"
)

// TestDecodeCBORComplianceVectors ports the server-side request vectors of
// the Smithy RPC v2 CBOR suite (plus the client-side float16 and
// fractional-seconds vectors, which a server must read just the same).
func TestDecodeCBORComplianceVectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id   string
		body []byte
		want any // a pointer to the expected value; its type is the decode target
	}{
		{"RpcV2CborSimpleScalarProperties", b64("v2lieXRlVmFsdWUFa2RvdWJsZVZhbHVl+z/+OVgQYk3TcWZhbHNlQm9vbGVhblZhbHVl9GpmbG9hdFZhbHVl+kD0AABsaW50ZWdlclZhbHVlGQEAaWxvbmdWYWx1ZRkmkWpzaG9ydFZhbHVlGSaqa3N0cmluZ1ZhbHVlZnNpbXBsZXB0cnVlQm9vbGVhblZhbHVl9WlibG9iVmFsdWVDZm9v/w=="),
			&simpleScalarParams},
		{"RpcV2CborSimpleScalarPropertiesUsingIndefiniteLength", b64("qmlieXRlVmFsdWUFf2Zkb3VibGVlVmFsdWX/+z/+OVgQYk3Tf2VmYWxzZWdCb29sZWFuZVZhbHVl//RqZmxvYXRWYWx1ZfpA9AAAbGludGVnZXJWYWx1ZRkBAGlsb25nVmFsdWUZJpFqc2hvcnRWYWx1ZRkmqn9mc3RyaW5nZVZhbHVl/2ZzaW1wbGVwdHJ1ZUJvb2xlYW5WYWx1ZfVpYmxvYlZhbHVlQ2Zvbw=="),
			&simpleScalarParams},
		{"RpcV2CborServerDoesntDeSerializeNullStructureValues", b64("v2tzdHJpbmdWYWx1Zfb/"), &rpcScalars{}},
		{"RpcV2CborSupportsInfinityFloatInputs", b64("v2tkb3VibGVWYWx1Zft/8AAAAAAAAGpmbG9hdFZhbHVl+n+AAAD/"),
			&rpcScalars{DoubleValue: ptr(math.Inf(1)), FloatValue: ptr(math.Inf(1))}},
		{"RpcV2CborSupportsNegativeInfinityFloatInputs", b64("v2tkb3VibGVWYWx1Zfv/8AAAAAAAAGpmbG9hdFZhbHVl+v+AAAD/"),
			&rpcScalars{DoubleValue: ptr(math.Inf(-1)), FloatValue: ptr(math.Inf(-1))}},
		{"RpcV2CborIndefiniteLengthStringsCanBeDeserialized", b64("oWtzdHJpbmdWYWx1ZX94HUFuIGV4YW1wbGUgaW5kZWZpbml0ZSBzdHJpbmcscSBjaHVua2VkIG9uIGNvbW1h/w=="),
			&rpcScalars{StringValue: ptr("An example indefinite string, chunked on comma")}},
		{"RpcV2CborIndefiniteLengthByteStringsCanBeDeserialized (skipped as unknown)", b64("oWlibG9iVmFsdWVfWCJBbiBleGFtcGxlIGluZGVmaW5pdGUtYnl0ZSBzdHJpbmcsUSBjaHVua2VkIG9uIGNvbW1h/w=="),
			&rpcScalars{}},
		{"RpcV2CborSupportsUpcastingData", b64("v2tkb3VibGVWYWx1Zfk+AGpmbG9hdFZhbHVl+UegbGludGVnZXJWYWx1ZRg4aWxvbmdWYWx1ZRkBAGpzaG9ydFZhbHVlCv8="),
			&rpcScalars{DoubleValue: ptr(1.5), FloatValue: ptr(7.625), IntegerValue: ptr[int32](56), LongValue: ptr[int64](256), ShortValue: ptr[int32](10)}},
		{"RpcV2CborExtraFieldsInTheBodyShouldBeSkippedByServers", b64("v2lieXRlVmFsdWUFa2RvdWJsZVZhbHVl+z/+OVgQYk3TcWZhbHNlQm9vbGVhblZhbHVl9GpmbG9hdFZhbHVl+kD0AABrZXh0cmFPYmplY3S/c2luZGVmaW5pdGVMZW5ndGhNYXC/a3dpdGhBbkFycmF5nwECA///cWRlZmluaXRlTGVuZ3RoTWFwo3J3aXRoQURlZmluaXRlQXJyYXmDAQIDeB1hbmRTb21lSW5kZWZpbml0ZUxlbmd0aFN0cmluZ3gfdGhhdCBoYXMsIGJlZW4gY2h1bmtlZCBvbiBjb21tYWxub3JtYWxTdHJpbmdjZm9vanNob3J0VmFsdWUZJw9uc29tZU90aGVyRmllbGR2dGhpcyBzaG91bGQgYmUgc2tpcHBlZP9saW50ZWdlclZhbHVlGQEAaWxvbmdWYWx1ZRkmkWpzaG9ydFZhbHVlGSaqa3N0cmluZ1ZhbHVlZnNpbXBsZXB0cnVlQm9vbGVhblZhbHVl9WlibG9iVmFsdWVDZm9v/w=="),
			&simpleScalarParams},
		{"RpcV2CborLists", b64("v2pzdHJpbmdMaXN0gmNmb29jYmFyaXN0cmluZ1NldIJjZm9vY2JhcmtpbnRlZ2VyTGlzdIIBAmtib29sZWFuTGlzdIL19G10aW1lc3RhbXBMaXN0gsH7QdTX+/OAAADB+0HU1/vzgAAAaGVudW1MaXN0gmNGb29hMGtpbnRFbnVtTGlzdIIBAnBuZXN0ZWRTdHJpbmdMaXN0goJjZm9vY2JhcoJjYmF6Y3F1eG1zdHJ1Y3R1cmVMaXN0gqJhYWExYWJhMqJhYWEzYWJhNGhibG9iTGlzdIJDZm9vQ2Jhcv8="),
			&listsParams},
		{"RpcV2CborListsEmpty", b64("v2pzdHJpbmdMaXN0n///"), &rpcLists{StringList: []string{}}},
		{"RpcV2CborListsEmptyUsingDefiniteLength", b64("oWpzdHJpbmdMaXN0gA=="), &rpcLists{StringList: []string{}}},
		{"RpcV2CborIndefiniteStringInsideIndefiniteList", b64("v2pzdHJpbmdMaXN0n394HUFuIGV4YW1wbGUgaW5kZWZpbml0ZSBzdHJpbmcsdyB3aGljaCB3aWxsIGJlIGNodW5rZWQsbiBvbiBlYWNoIGNvbW1h/394NUFub3RoZXIgZXhhbXBsZSBpbmRlZmluaXRlIHN0cmluZyB3aXRoIG9ubHkgb25lIGNodW5r/3ZUaGlzIGlzIGEgcGxhaW4gc3RyaW5n//8="),
			&rpcLists{StringList: []string{indefiniteString1, indefiniteString2, indefiniteString3}}},
		{"RpcV2CborIndefiniteStringInsideDefiniteList", b64("oWpzdHJpbmdMaXN0g394HUFuIGV4YW1wbGUgaW5kZWZpbml0ZSBzdHJpbmcsdyB3aGljaCB3aWxsIGJlIGNodW5rZWQsbiBvbiBlYWNoIGNvbW1h/394NUFub3RoZXIgZXhhbXBsZSBpbmRlZmluaXRlIHN0cmluZyB3aXRoIG9ubHkgb25lIGNodW5r/3ZUaGlzIGlzIGEgcGxhaW4gc3RyaW5n"),
			&rpcLists{StringList: []string{indefiniteString1, indefiniteString2, indefiniteString3}}},
		{"RpcV2CborRecursiveShapes", b64("v2ZuZXN0ZWS/Y2Zvb2RGb28xZm5lc3RlZL9jYmFyZEJhcjFvcmVjdXJzaXZlTWVtYmVyv2Nmb29kRm9vMmZuZXN0ZWS/Y2JhcmRCYXIy//////8="),
			&recursiveParams},
		{"NoInputServerAllowsEmptyCbor", b64("v/8="), &testEmpty{}},
		{"NoInputServerAllowsEmptyBody", nil, &testEmpty{}},
		{"empty_input", b64("v/8="), &rpcScalars{}},
		{"empty_input_no_body", []byte{}, &rpcScalars{}},
		{"empty definite map", []byte{0xa0}, &rpcScalars{}},
		{"RpcV2CborSerializesUnionValue", b64("omhjb250ZW50c6Frc3RyaW5nVmFsdWVjZm9vam90aGVyVmFsdWVjYmFy"),
			&rpcUnions{Contents: &rpcUnion{StringValue: ptr("foo")}, OtherValue: ptr("bar")}},
		{"RpcV2CborSerializesNestedUnionValue", b64("omhjb250ZW50c6FqdW5pb25WYWx1ZaFrc3RyaW5nVmFsdWVjZm9vam90aGVyVmFsdWVjYmFy"),
			&rpcUnions{Contents: &rpcUnion{UnionValue: &rpcNestedUnion{StringValue: ptr("foo")}}, OtherValue: ptr("bar")}},
		{"RpcV2CborFloat16Inf", b64("oWV2YWx1Zfl8AA=="), &rpcFloat16{Value: ptr(math.Inf(1))}},
		{"RpcV2CborFloat16NegInf", b64("oWV2YWx1Zfn8AA=="), &rpcFloat16{Value: ptr(math.Inf(-1))}},
		{"RpcV2CborFloat16Subnormal", b64("oWV2YWx1ZfkAUA=="), &rpcFloat16{Value: ptr(0.00000476837158203125)}},
		{"RpcV2CborDateTimeWithFractionalSeconds", b64("v2hkYXRldGltZcH7Qcw32zgPvnf/"),
			&rpcFractional{Datetime: ptr(time.UnixMilli(946845296123).UTC())}},
		{"timestamp as tagged unsigned int (botocore)", unhex("a1 68 6461746574696d65 c1 1a 386fcf70"),
			&rpcFractional{Datetime: ptr(time.Unix(0x386fcf70, 0).UTC())}},
		{"timestamp as tagged negative int", unhex("a1 68 6461746574696d65 c1 20"),
			&rpcFractional{Datetime: ptr(time.Unix(-1, 0).UTC())}},
		{"timestamp as tagged float32", unhex("a1 68 6461746574696d65 c1 fa 3fc00000"),
			&rpcFractional{Datetime: ptr(time.UnixMilli(1500).UTC())}},
		{"timestamp as tagged float16", unhex("a1 68 6461746574696d65 c1 f9 3e00"),
			&rpcFractional{Datetime: ptr(time.UnixMilli(1500).UTC())}},
		{"undefined is absent", unhex("a1 6b 737472696e6756616c7565 f7"), &rpcScalars{}},
		{"self-described CBOR tag", unhex("d9d9f7 a1 6b 737472696e6756616c7565 61 78"), &rpcScalars{StringValue: ptr("x")}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()
			got := reflect.New(reflect.TypeOf(tt.want).Elem())
			if err := CodecFor(RPCv2CBOR).Decode(tt.body, got.Interface()); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got.Interface(), tt.want) {
				t.Errorf("got  %s\nwant %s", dump(got.Interface()), dump(tt.want))
			}
		})
	}
}

func TestDecodeCBORNaN(t *testing.T) {
	t.Parallel()
	for name, body := range map[string][]byte{
		"RpcV2CborSupportsNaNFloatInputs": b64("v2tkb3VibGVWYWx1Zft/+AAAAAAAAGpmbG9hdFZhbHVl+n/AAAD/"),
		"RpcV2CborFloat16LSBNaN":          b64("oWtkb3VibGVWYWx1Zfl8AQ=="),
		"RpcV2CborFloat16MSBNaN":          b64("oWtkb3VibGVWYWx1Zfl+AA=="),
	} {
		var got rpcScalars
		if err := decodeCBOR(body, &got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.DoubleValue == nil || !math.IsNaN(*got.DoubleValue) {
			t.Errorf("%s: doubleValue = %v", name, got.DoubleValue)
		}
	}
}

func TestDecodeCBORErrors(t *testing.T) {
	t.Parallel()
	key := func(k string) string { return hex.EncodeToString(append([]byte{0x60 + byte(len(k))}, k...)) }
	deep := strings.Repeat("81", MaxDepth) + "00" // MaxDepth nested arrays inside the top-level map
	tests := []struct {
		name string
		body string // hex
		want string
	}{
		{"array body", "80", "expected a CBOR map, found an array"},
		{"text body", "6161", "expected a CBOR map, found a text string"},
		{"null body", "f6", "expected a CBOR map, found null"},
		{"undefined body", "f7", "expected a CBOR map, found null"},
		{"truncated", "a1" + key("Name"), "truncated CBOR"},
		{"truncated indefinite map", "bf" + key("Name") + "6161", "truncated CBOR"},
		{"trailing data", "a0a0", "unexpected data after the top-level map"},
		{"break outside indefinite item", "a0ff", "unexpected data after the top-level map"},
		{"text for integer", "a1" + key("Count") + "6131", "Count: expected an integer, found a text string"},
		{"float for integer", "a1" + key("Count") + "fb3ff8000000000000", "Count: expected an integer, found a float"},
		{"integral float for integer", "a1" + key("Count") + "f93c00", "Count: expected an integer, found a float"},
		{"int32 overflow", "a1" + key("Count") + "1a80000000", "Count: integer out of range"},
		{"int32 underflow", "a1" + key("Count") + "3a80000000", "Count: integer out of range"},
		{"int64 overflow", "a1" + key("Total") + "1b8000000000000000", "Total: integer out of range"},
		{"int64 underflow", "a1" + key("Total") + "3b8000000000000000", "Total: integer out of range"},
		{"bignum for integer", "a1" + key("Total") + "c2410a", "Total: integer out of range"},
		{"byte string for string", "a1" + key("Name") + "4161", "Name: expected a string, found a byte string"},
		{"string for double", "a1" + key("Ratio") + "634e614e", "Ratio: expected a number, found a text string"},
		{"bool for string", "a1" + key("Name") + "f5", "Name: expected a string, found a boolean"},
		{"untagged timestamp", "a1" + key("When") + "1a5a5a5a5a", "When: expected a timestamp (tag 1), found an integer"},
		{"NaN timestamp", "a1" + key("When") + "c1fb7ff8000000000000", "When: timestamp out of range"},
		{"huge timestamp", "a1" + key("When") + "c11b0000100000000000", "When: timestamp out of range"},
		{"timestamp overflowing int64", "a1" + key("When") + "c1fb7e37e43c8800759c", "malformed CBOR: cbor: cannot unmarshal primitives into Go value of type time.Time (1e+300 overflows Go's int64)"},
		{"text in tag 1", "a1" + key("When") + "c16161", "malformed CBOR: cbor: tag number 1 must be followed by integer or floating-point number, got UTF-8 text string"},
		{"map for list", "a1" + key("Tags") + "a0", "Tags: expected a list, found a map"},
		{"null in list", "a1" + key("Tags") + "81f6", "Tags[0]: null is not allowed in a list"},
		{"nested path", "a1" + key("Tags") + "82a0a1" + key("Key") + "01", "Tags[1].Key: expected a string, found an integer"},
		{"nested list path", "a1" + key("Matrix") + "8280826161f4", "Matrix[1][1]: expected a string, found a boolean"},
		{"union path", "a1" + key("Details") + "a1" + key("ebsVolume") + "a1" + key("sizeInGiB") + "6138", "Details.ebsVolume.sizeInGiB: expected an integer, found a text string"},
		{"integer map key", "a1016161", "malformed CBOR: cbor: cannot unmarshal positive integer into Go value of type string"},
		{"invalid UTF-8 text", "a1" + key("Name") + "61ff", "malformed CBOR: cbor: invalid UTF-8 string"},
		{"too deep", "a1" + key("x") + deep, "nesting exceeds 32 levels"},
		{"10,000 nested arrays", "a1" + key("x") + strings.Repeat("81", 10000) + "00", "nesting exceeds 32 levels"},
		{"10,000 nested indefinite maps", "a1" + key("x") + strings.Repeat("bf"+key("y"), 10000) + "00" + strings.Repeat("ff", 10000), "nesting exceeds 32 levels"},
		{"10,000 nested tags", "a1" + key("x") + strings.Repeat("d864", 10000) + "00", "nesting exceeds 32 levels"},
		{"truncated deep nesting", "a1" + key("x") + strings.Repeat("9f", 10000), "nesting exceeds 32 levels"},
		{"invalid UTF-8 map key", "a161ff00", "malformed CBOR: cbor: invalid UTF-8 string"},
		{"invalid UTF-8 in an unknown member", "a1" + key("x") + "8162c328", "malformed CBOR: cbor: invalid UTF-8 string"},
		{"too many items", "a1" + key("x") + "992711" + strings.Repeat("00", 10001), "a list has more than 10000 items"},
		{"too many pairs", "a1" + key("x") + "b92711" + strings.Repeat("0000", 10001), "a map has more than 10000 entries"},
		{"huge claimed length", "a1" + key("x") + "9affffffff00", "a list has more than 10000 items"},
		{"huge claimed string", "a1" + key("Name") + "7affffffff61", "truncated CBOR"},
		{"reserved additional info", "a1" + key("Name") + "7c", "malformed CBOR: cbor: invalid additional information 28 for type UTF-8 text string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got testInput
			err := decodeCBOR(unhex(tt.body), &got)
			var se *SerializationError
			if !errors.As(err, &se) {
				t.Fatalf("error = %v (%T), want a *SerializationError", err, err)
			}
			if se.ErrorMessage() != tt.want {
				t.Errorf("message = %q\nwant      %q", se.ErrorMessage(), tt.want)
			}
		})
	}
}

// TestDecodeCBORFromSmithyEncoder encodes requests with smithy-go's CBOR
// encoder, an implementation independent of ours, and decodes them.
func TestDecodeCBORFromSmithyEncoder(t *testing.T) {
	t.Parallel()
	str := func(s string) smithycbor.Value { return smithycbor.String(s) }
	body := smithycbor.Encode(smithycbor.Map{
		"Name":     str("n"),
		"Enabled":  smithycbor.Bool(true),
		"Count":    smithycbor.NegInt(5), // -5
		"Total":    smithycbor.Uint(math.MaxInt64),
		"Ratio":    smithycbor.Float32(0.5),
		"When":     &smithycbor.Tag{ID: 1, Value: smithycbor.Float64(1515531081.123)},
		"Status":   str("ACTIVE"),
		"Statuses": smithycbor.List{str("ACTIVE"), str("PENDING")},
		"Tags":     smithycbor.List{smithycbor.Map{"Key": str("k"), "Value": &smithycbor.Nil{}}},
		"Matrix":   smithycbor.List{smithycbor.List{}, smithycbor.List{str("x")}},
		"Details": smithycbor.Map{
			"nested":  smithycbor.Map{"text": str("t")},
			"times":   smithycbor.List{&smithycbor.Tag{ID: 1, Value: smithycbor.Uint(0)}},
			"scores":  smithycbor.List{smithycbor.Uint(2), smithycbor.NegInt(3), smithycbor.Float64(0.1)},
			"counts":  smithycbor.List{smithycbor.NegInt(1 << 63)}, // MinInt64
			"unknown": smithycbor.Map{"deep": smithycbor.List{smithycbor.Slice("blob"), &smithycbor.Undefined{}}},
		},
		"Unknown": &smithycbor.Undefined{},
	})
	var got testInput
	if err := decodeCBOR(body, &got); err != nil {
		t.Fatal(err)
	}
	want := testInput{
		Name: ptr("n"), Enabled: ptr(true), Count: ptr[int32](-5), Total: ptr[int64](math.MaxInt64), Ratio: ptr(0.5),
		When: ptr(mustTime("2018-01-09T20:51:21.123Z")), Status: ptr(statusActive),
		Statuses: []testStatus{statusActive, statusPending},
		Tags:     []testTag{{Key: ptr("k")}},
		Matrix:   [][]string{{}, {"x"}},
		Details: &testDetails{
			Nested: &testDetails{Text: ptr("t")},
			Times:  []time.Time{time.Unix(0, 0).UTC()},
			Scores: []float64{2, -3, 0.1},
			Counts: []int64{math.MinInt64},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %s\nwant %s", dump(got), dump(want))
	}
}

// TestEncodeCBORReadBySmithyDecoder encodes with our codec and reads the
// result the way the Go SDK does: smithy-go's decoder and its coercions.
func TestEncodeCBORReadBySmithyDecoder(t *testing.T) {
	t.Parallel()
	when := mustTime("2018-01-09T20:51:21.123Z")
	in := &testInput{
		Name: ptr("n"), Enabled: ptr(false), Count: ptr[int32](math.MinInt32), Total: ptr[int64](math.MaxInt64),
		Ratio: ptr(2.0), When: &when, Status: ptr(statusPending), Tags: []testTag{}, Matrix: [][]string{{"a"}},
		Details: &testDetails{Scores: []float64{math.NaN(), math.Inf(-1)}, Volume: &testVolume{}},
	}
	rec := httptest.NewRecorder()
	if err := CodecFor(RPCv2CBOR).WriteOutput(rec, "req-1", in); err != nil {
		t.Fatal(err)
	}
	v, err := smithycbor.Decode(rec.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	m, ok := v.(smithycbor.Map)
	if !ok {
		t.Fatalf("decoded %T", v)
	}
	if len(m) != 10 {
		t.Errorf("%d members, want 10: %v", len(m), m)
	}
	if s, _ := m["Name"].(smithycbor.String); s != "n" {
		t.Errorf("Name = %#v", m["Name"])
	}
	if b, _ := m["Enabled"].(smithycbor.Bool); b {
		t.Errorf("Enabled = %#v", m["Enabled"])
	}
	if n, err := smithycbor.AsInt32(m["Count"]); err != nil || n != math.MinInt32 {
		t.Errorf("Count = %v, %v", n, err)
	}
	if n, err := smithycbor.AsInt64(m["Total"]); err != nil || n != math.MaxInt64 {
		t.Errorf("Total = %v, %v", n, err)
	}
	if _, ok := m["Ratio"].(smithycbor.Float64); !ok {
		t.Errorf("Ratio is %T, want a float64 even when integral", m["Ratio"])
	}
	if got, err := smithycbor.AsTime(m["When"]); err != nil || !got.Equal(when) {
		t.Errorf("When = %v, %v", got, err)
	}
	if l, ok := m["Tags"].(smithycbor.List); !ok || len(l) != 0 {
		t.Errorf("Tags = %#v, want an empty list", m["Tags"])
	}
	details, _ := m["Details"].(smithycbor.Map)
	scores, _ := details["scores"].(smithycbor.List)
	if len(scores) != 2 {
		t.Fatalf("scores = %#v", details["scores"])
	}
	if f, ok := scores[0].(smithycbor.Float64); !ok || !math.IsNaN(float64(f)) {
		t.Errorf("scores[0] = %#v, want a float64 NaN", scores[0])
	}
	if f, ok := scores[1].(smithycbor.Float64); !ok || !math.IsInf(float64(f), -1) {
		t.Errorf("scores[1] = %#v, want a float64 -Inf", scores[1])
	}
	if vol, ok := details["ebsVolume"].(smithycbor.Map); !ok || len(vol) != 0 {
		t.Errorf("ebsVolume = %#v, want an empty map", details["ebsVolume"])
	}
}

// normCBOR turns a smithy-go CBOR value into plain Go values that compare
// semantically: every number as float64 (NaN as "NaN"), bytes as strings,
// null and undefined as nil.
func normCBOR(v smithycbor.Value) any {
	switch x := v.(type) {
	case smithycbor.Uint:
		return float64(x)
	case smithycbor.NegInt:
		return -float64(x)
	case smithycbor.Float32:
		return normFloat(float64(x))
	case smithycbor.Float64:
		return normFloat(float64(x))
	case smithycbor.String:
		return string(x)
	case smithycbor.Slice:
		return "bytes:" + string(x)
	case smithycbor.Bool:
		return bool(x)
	case smithycbor.List:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normCBOR(e)
		}
		return out
	case smithycbor.Map:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normCBOR(e)
		}
		return out
	case *smithycbor.Tag:
		return map[string]any{"tag": float64(x.ID), "value": normCBOR(x.Value)}
	default:
		return nil
	}
}

func normFloat(f float64) any {
	if math.IsNaN(f) {
		return "NaN"
	}
	return f
}

// cborEquivalent compares two CBOR documents semantically, as the
// compliance suite does for bodyMediaType application/cbor. drop lists
// top-level members of want to ignore (members our shapes leave out).
func cborEquivalent(t *testing.T, got, want []byte, drop ...string) {
	t.Helper()
	g, err := smithycbor.Decode(got)
	if err != nil {
		t.Fatalf("our output does not decode: %v", err)
	}
	w, err := smithycbor.Decode(want)
	if err != nil {
		t.Fatalf("expected body does not decode: %v", err)
	}
	gn, wn := normCBOR(g), normCBOR(w)
	if m, ok := wn.(map[string]any); ok {
		for _, k := range drop {
			delete(m, k)
		}
	}
	if !reflect.DeepEqual(gn, wn) {
		t.Errorf("got  %v (%x)\nwant %v", gn, got, wn)
	}
}

// TestEncodeCBORComplianceVectors ports the server-side response vectors.
func TestEncodeCBORComplianceVectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id     string
		output any
		body   []byte
		drop   []string
	}{
		{"RpcV2CborSimpleScalarProperties", withoutLong(simpleScalarParams),
			b64("v3B0cnVlQm9vbGVhblZhbHVl9XFmYWxzZUJvb2xlYW5WYWx1ZfRpYnl0ZVZhbHVlBWtkb3VibGVWYWx1Zfs//jlYEGJN02pmbG9hdFZhbHVl+kD0AABsaW50ZWdlclZhbHVlGQEAanNob3J0VmFsdWUZJqprc3RyaW5nVmFsdWVmc2ltcGxlaWJsb2JWYWx1ZUNmb2//"),
			[]string{"blobValue"}},
		{"RpcV2CborServerDoesntSerializeNullStructureValues", &rpcScalars{}, b64("v/8="), nil},
		{"RpcV2CborSupportsNaNFloatOutputs", &rpcScalars{DoubleValue: ptr(math.NaN()), FloatValue: ptr(math.NaN())},
			b64("v2tkb3VibGVWYWx1Zft/+AAAAAAAAGpmbG9hdFZhbHVl+n/AAAD/"), nil},
		{"RpcV2CborSupportsInfinityFloatOutputs", &rpcScalars{DoubleValue: ptr(math.Inf(1)), FloatValue: ptr(math.Inf(1))},
			b64("v2tkb3VibGVWYWx1Zft/8AAAAAAAAGpmbG9hdFZhbHVl+n+AAAD/"), nil},
		{"RpcV2CborSupportsNegativeInfinityFloatOutputs", &rpcScalars{DoubleValue: ptr(math.Inf(-1)), FloatValue: ptr(math.Inf(-1))},
			b64("v2tkb3VibGVWYWx1Zfv/8AAAAAAAAGpmbG9hdFZhbHVl+v+AAAD/"), nil},
		{"RpcV2CborLists", &listsParams,
			b64("v2pzdHJpbmdMaXN0n2Nmb29jYmFy/2lzdHJpbmdTZXSfY2Zvb2NiYXL/a2ludGVnZXJMaXN0nwEC/2tib29sZWFuTGlzdJ/19P9tdGltZXN0YW1wTGlzdJ/B+0HU1/vzgAAAwftB1Nf784AAAP9oZW51bUxpc3SfY0Zvb2Ew/2tpbnRFbnVtTGlzdJ8BAv9wbmVzdGVkU3RyaW5nTGlzdJ+fY2Zvb2NiYXL/n2NiYXpjcXV4//9tc3RydWN0dXJlTGlzdJ+/YWFhMWFiYTL/v2FhYTNhYmE0//9oYmxvYkxpc3SfQ2Zvb0NiYXL//w=="),
			[]string{"blobList"}},
		{"RpcV2CborListsEmpty", &rpcLists{StringList: []string{}}, b64("v2pzdHJpbmdMaXN0n///"), nil},
		{"RpcV2CborRecursiveShapes", &recursiveParams,
			b64("v2ZuZXN0ZWS/Y2Zvb2RGb28xZm5lc3RlZL9jYmFyZEJhcjFvcmVjdXJzaXZlTWVtYmVyv2Nmb29kRm9vMmZuZXN0ZWS/Y2JhcmRCYXIy//////8="), nil},
		{"empty_output", &testEmpty{}, b64("v/8="), nil},
		{"optional_output", &rpcScalars{}, b64("v/8="), nil},
		{"RpcV2CborDeserializesUnionValue", &rpcUnions{Contents: &rpcUnion{StringValue: ptr("foo")}, OtherValue: ptr("bar")},
			b64("omhjb250ZW50c6Frc3RyaW5nVmFsdWVjZm9vam90aGVyVmFsdWVjYmFy"), nil},
		{"RpcV2CborDeserializesNestedUnionValue", &rpcUnions{Contents: &rpcUnion{UnionValue: &rpcNestedUnion{StringValue: ptr("foo")}}, OtherValue: ptr("bar")},
			b64("omhjb250ZW50c6FqdW5pb25WYWx1ZaFrc3RyaW5nVmFsdWVjZm9vam90aGVyVmFsdWVjYmFy"), nil},
		{"RpcV2CborDateTimeWithFractionalSeconds", &rpcFractional{Datetime: ptr(time.UnixMilli(946845296123))},
			b64("v2hkYXRldGltZcH7Qcw32zgPvnf/"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			if err := CodecFor(RPCv2CBOR).WriteOutput(rec, "id", tt.output); err != nil {
				t.Fatal(err)
			}
			if rec.Code != 200 || rec.Header().Get("Smithy-Protocol") != "rpc-v2-cbor" || rec.Header().Get("Content-Type") != "application/cbor" {
				t.Errorf("status %d, headers %v", rec.Code, rec.Header())
			}
			cborEquivalent(t, rec.Body.Bytes(), tt.body, tt.drop...)
		})
	}
}

// withoutLong drops the one member the response vector does not carry.
func withoutLong(p rpcScalars) *rpcScalars {
	p.LongValue = nil
	return &p
}

// TestEncodeCBORFractionalSecondsBytes pins the exact bytes of a timestamp:
// tag 1 around a float64, as in RpcV2CborDateTimeWithFractionalSeconds.
func TestEncodeCBORFractionalSecondsBytes(t *testing.T) {
	t.Parallel()
	v, s, _, err := outputOf(&rpcFractional{Datetime: ptr(time.Unix(946845296, 123456789))})
	if err != nil {
		t.Fatal(err)
	}
	b, err := cborEncMode.Marshal(cborStruct(s, v))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := hex.EncodeToString(b), "a1686461746574696d65c1fb41cc37db380fbe77"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestEncodeCBORErrorComplianceVectors ports the error response vectors.
func TestEncodeCBORErrorComplianceVectors(t *testing.T) {
	t.Parallel()
	svc := &Service{Namespace: "smithy.protocoltests.rpcv2Cbor"}
	tests := []struct {
		id   string
		err  APIError
		body []byte
	}{
		{"RpcV2CborInvalidGreetingError", &invalidGreeting{Message: ptr("Hi")},
			b64("v2ZfX3R5cGV4LnNtaXRoeS5wcm90b2NvbHRlc3RzLnJwY3YyQ2JvciNJbnZhbGlkR3JlZXRpbmdnTWVzc2FnZWJIaf8=")},
		{"RpcV2CborComplexError", &complexError{TopLevel: ptr("Top level"), Nested: &complexNested{Foo: ptr("bar")}},
			b64("v2ZfX3R5cGV4K3NtaXRoeS5wcm90b2NvbHRlc3RzLnJwY3YyQ2JvciNDb21wbGV4RXJyb3JoVG9wTGV2ZWxpVG9wIGxldmVsZk5lc3RlZL9jRm9vY2Jhcv//")},
		{"RpcV2CborEmptyComplexError", &complexError{},
			b64("v2ZfX3R5cGV4K3NtaXRoeS5wcm90b2NvbHRlc3RzLnJwY3YyQ2JvciNDb21wbGV4RXJyb3L/")},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			if err := CodecFor(RPCv2CBOR).WriteError(rec, "id", svc, tt.err); err != nil {
				t.Fatal(err)
			}
			if rec.Code != 400 || rec.Header().Get("Smithy-Protocol") != "rpc-v2-cbor" || rec.Header().Get("Content-Type") != "application/cbor" {
				t.Errorf("status %d, headers %v", rec.Code, rec.Header())
			}
			if rec.Header().Get("X-Amzn-Errortype") != "" {
				t.Errorf("X-Amzn-Errortype set on a CBOR error")
			}
			cborEquivalent(t, rec.Body.Bytes(), tt.body)
		})
	}
}

type invalidGreeting struct {
	Message *string `json:"Message"`
}

func (e *invalidGreeting) Error() string        { return "InvalidGreeting" }
func (e *invalidGreeting) ErrorCode() string    { return "InvalidGreeting" }
func (e *invalidGreeting) ErrorMessage() string { return deref(e.Message) }
func (e *invalidGreeting) ErrorFault() Fault    { return FaultClient }
func (e *invalidGreeting) HTTPStatus() int      { return 400 }

type complexNested struct {
	Foo *string `json:"Foo"`
}

type complexError struct {
	TopLevel *string        `json:"TopLevel"`
	Nested   *complexNested `json:"Nested"`
}

func (e *complexError) Error() string        { return "ComplexError" }
func (e *complexError) ErrorCode() string    { return "ComplexError" }
func (e *complexError) ErrorMessage() string { return "" }
func (e *complexError) ErrorFault() Fault    { return FaultClient }
func (e *complexError) HTTPStatus() int      { return 400 }

func TestCBORUnitOutput(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	if err := CodecFor(RPCv2CBOR).WriteOutput(rec, "id", nil); err != nil {
		t.Fatal(err)
	}
	// no_output: "A Content-Type header should not be set if the response body is empty."
	if rec.Code != 200 || rec.Body.Len() != 0 || rec.Header().Get("Content-Type") != "" ||
		rec.Header().Get("Smithy-Protocol") != "rpc-v2-cbor" || rec.Header().Get("Content-Length") != "0" {
		t.Errorf("status %d, body %x, headers %v", rec.Code, rec.Body.Bytes(), rec.Header())
	}
}

func TestCBORRoundTrip(t *testing.T) {
	t.Parallel()
	in := &testInput{
		Name: ptr("n"), Enabled: ptr(true), Count: ptr[int32](-7), Total: ptr[int64](1 << 60), Ratio: ptr(0.25),
		When: ptr(mustTime("2025-09-22T10:11:12.345Z")), Status: ptr(statusActive),
		Statuses: []testStatus{}, Tags: []testTag{{Key: ptr("k")}}, Matrix: [][]string{{"a"}, {}},
		Details: &testDetails{Nested: &testDetails{Text: ptr("t")}, Counts: []int64{1, 2}, Times: []time.Time{mustTime("1960-01-01T00:00:00.001Z")}},
	}
	v, s, _, err := outputOf(in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := cborEncMode.Marshal(cborStruct(s, v))
	if err != nil {
		t.Fatal(err)
	}
	var out testInput
	if err := decodeCBOR(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*in, out) {
		t.Errorf("got  %s\nwant %s", dump(out), dump(in))
	}
}

func TestEncodeCBORRepairsInvalidUTF8(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	if err := CodecFor(RPCv2CBOR).WriteOutput(rec, "id", &testInput{Name: ptr("a\xffb")}); err != nil {
		t.Fatal(err)
	}
	var got testInput
	if err := decodeCBOR(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("our output is not valid CBOR: %v", err)
	}
	if *got.Name != "a\uFFFDb" {
		t.Errorf("Name = %q", *got.Name)
	}
}

func TestErrorTypeKeepsAbsoluteIDs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		full bool
		svc  *Service
		code string
		want string
	}{
		{true, testCAO, "ThrottlingException", "com.amazonaws.computeoptimizerautomation#ThrottlingException"},
		{true, testCAO, "com.amazon.coral.service#UnrecognizedClientException", "com.amazon.coral.service#UnrecognizedClientException"},
		{true, &Service{}, "X", "X"},
		{true, nil, "X", "X"},
		{false, testOrgs, "X", "X"},
	}
	for _, tt := range tests {
		if got := errorType(tt.full, tt.svc, tt.code); got != tt.want {
			t.Errorf("errorType(%v, %q) = %q, want %q", tt.full, tt.code, got, tt.want)
		}
	}
}
