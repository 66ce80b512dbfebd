package protocol

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

// dump renders a value for failure messages (encoding/json shows pointees).
func dump(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	when := mustTime("2018-01-09T20:51:21.123Z")
	tests := []struct {
		name string
		body string
		want testInput
	}{
		{"empty body", ``, testInput{}},
		{"whitespace body", " \r\n\t", testInput{}},
		{"empty object", `{}`, testInput{}},
		{"scalars", `{"Name":"n","Enabled":true,"Count":-5,"Total":9007199254740993,"Ratio":1.5,"When":1515531081.123,"Status":"ACTIVE"}`,
			testInput{Name: ptr("n"), Enabled: ptr(true), Count: ptr[int32](-5), Total: ptr[int64](9007199254740993), Ratio: ptr(1.5), When: &when, Status: ptr(statusActive)}},
		{"false and zero are present", `{"Enabled":false,"Count":0,"Ratio":0,"Name":""}`,
			testInput{Enabled: ptr(false), Count: ptr[int32](0), Ratio: ptr(0.0), Name: ptr("")}},
		{"whitespace everywhere", " { \"Name\" : \"n\" ,\n\t\"Count\" :\r 1 } ",
			testInput{Name: ptr("n"), Count: ptr[int32](1)}},
		{"timestamp as integer (botocore)", `{"When":1515531081}`,
			testInput{When: ptr(mustTime("2018-01-09T20:51:21Z"))}},
		{"timestamp rounded to ms", `{"When":1515531081.1234}`, testInput{When: &when}},
		{"timestamp rounded up across a second", `{"When":1515531081.9996}`,
			testInput{When: ptr(mustTime("2018-01-09T20:51:22Z"))}},
		{"timestamp with exponent", `{"When":1.515531081123e9}`, testInput{When: &when}},
		{"negative timestamp", `{"When":-1.5}`, testInput{When: ptr(mustTime("1969-12-31T23:59:58.5Z"))}},
		{"nulls are absent", `{"Name":null,"Tags":null,"Details":null,"Count":null,"When":null}`, testInput{}},
		{"null clears an earlier duplicate", `{"Tags":[{"Key":"a"}],"Tags":null}`, testInput{}},
		{"last duplicate wins", `{"Name":"a","Name":"b"}`, testInput{Name: ptr("b")}},
		{"unknown members skipped", `{"Unknown":{"a":[1,-2.5e3,{"b":null}],"c":"\u00e9\"","d":[[],{}],"e":true,"f":false},"Name":"x","Untagged":"y"}`,
			testInput{Name: ptr("x")}},
		{"empty list is present", `{"Tags":[],"Statuses":[]}`, testInput{Tags: []testTag{}, Statuses: []testStatus{}}},
		{"lists", `{"Statuses":["ACTIVE","PENDING"],"Tags":[{"Key":"k","Value":"v"},{"Key":"k2"}]}`,
			testInput{Statuses: []testStatus{statusActive, statusPending}, Tags: []testTag{{Key: ptr("k"), Value: ptr("v")}, {Key: ptr("k2")}}}},
		{"nested lists", `{"Matrix":[["a","b"],[],["c"]]}`, testInput{Matrix: [][]string{{"a", "b"}, {}, {"c"}}}},
		{"union member, unknown __type ignored", `{"Details":{"__type":"x#Y","ebsVolume":{"volumeId":"vol-1","sizeInGiB":8,"monthlyCost":0.8}}}`,
			testInput{Details: &testDetails{Volume: &testVolume{VolumeID: ptr("vol-1"), SizeGiB: ptr[int32](8), Cost: ptr(0.8)}}}},
		{"recursive union", `{"Details":{"nested":{"nested":{"text":"deep"}}}}`,
			testInput{Details: &testDetails{Nested: &testDetails{Nested: &testDetails{Text: ptr("deep")}}}}},
		{"lists of every kind", `{"Details":{"times":[0,1.5],"pairs":[[{"Key":"a"}]],"flags":[true,false],"scores":[1,2.5,"NaN"],"kinds":["ACTIVE"],"counts":[-9223372036854775808,9223372036854775807],"sizes":[1],"more":[{"text":"m"}]}}`,
			testInput{Details: &testDetails{
				Times:  []time.Time{mustTime("1970-01-01T00:00:00Z"), mustTime("1970-01-01T00:00:01.5Z")},
				Pairs:  [][]testTag{{{Key: ptr("a")}}},
				Flags:  []bool{true, false},
				Scores: nil, // checked separately: NaN
				Kinds:  []testStatus{statusActive},
				Counts: []int64{math.MinInt64, math.MaxInt64},
				Sizes:  []int32{1},
				More:   []testDetails{{Text: ptr("m")}},
			}}},
		{"escapes", `{"Name":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00\u0000"}`, testInput{Name: ptr("a\"b\\c/d\b\f\n\r\té😀\x00")}},
		{"lone surrogates become U+FFFD", `{"Name":"\ud800x\udc00\ud800\u0041"}`, testInput{Name: ptr("\uFFFDx\uFFFD\uFFFDA")}},
		{"raw UTF-8 kept", `{"Name":"日本語 é"}`, testInput{Name: ptr("日本語 é")}},
		{"escaped member name", `{"N\u0061me":"x"}`, testInput{Name: ptr("x")}},
		{"integral floats accepted for integers", `{"Count":1.0,"Total":1e2}`, testInput{Count: ptr[int32](1), Total: ptr[int64](100)}},
		{"int32 bounds", `{"Count":-2147483648}`, testInput{Count: ptr[int32](math.MinInt32)}},
		{"int32 max", `{"Count":2147483647}`, testInput{Count: ptr[int32](math.MaxInt32)}},
		{"int64 bounds", `{"Total":-9223372036854775808}`, testInput{Total: ptr[int64](math.MinInt64)}},
		{"negative zero", `{"Count":-0}`, testInput{Count: ptr[int32](0)}},
		{"Infinity", `{"Ratio":"Infinity"}`, testInput{Ratio: ptr(math.Inf(1))}},
		{"-Infinity", `{"Ratio":"-Infinity"}`, testInput{Ratio: ptr(math.Inf(-1))}},
		{"float underflow is zero", `{"Ratio":1e-400}`, testInput{Ratio: ptr(0.0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got testInput
			if err := CodecFor(AWSJSON11).Decode([]byte(tt.body), &got); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if got.Details != nil && got.Details.Scores != nil {
				s := got.Details.Scores
				if len(s) != 3 || s[0] != 1 || s[1] != 2.5 || !math.IsNaN(s[2]) {
					t.Errorf("scores = %v", s)
				}
				got.Details.Scores = nil
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %s\nwant %s", dump(got), dump(tt.want))
			}
			if tt.want.Tags != nil && got.Tags == nil || tt.want.Tags == nil && got.Tags != nil {
				t.Errorf("presence of Tags: got nil=%v", got.Tags == nil)
			}
		})
	}
}

func TestDecodeJSONNaN(t *testing.T) {
	t.Parallel()
	var got testInput
	if err := decodeJSON([]byte(`{"Ratio":"NaN"}`), &got); err != nil {
		t.Fatal(err)
	}
	if got.Ratio == nil || !math.IsNaN(*got.Ratio) {
		t.Errorf("Ratio = %v", got.Ratio)
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) // MaxDepth levels plus the object around it
	tooDeep := deep
	many := "[" + strings.Repeat("1,", MaxElements) + "1]"
	tests := []struct {
		name string
		body string
		want string // the whole message
	}{
		{"list body", `[]`, "expected a JSON object, found a list"},
		{"string body", `"x"`, "expected a JSON object, found a string"},
		{"null body", `null`, "expected a JSON object, found null"},
		{"number body", `1`, "expected a JSON object, found a number"},
		{"garbage body", `<xml/>`, "invalid JSON at offset 0: invalid character"},
		{"truncated", `{`, "invalid JSON at offset 1: unexpected end of input"},
		{"truncated after name", `{"Name"`, "invalid JSON at offset 7: unexpected end of input"},
		{"truncated value", `{"Name":`, "Name: invalid JSON at offset 8: unexpected end of input"},
		{"trailing data", `{"Name":"x"} x`, "invalid JSON at offset 13: unexpected data after the top-level object"},
		{"two objects", `{}{}`, "invalid JSON at offset 2: unexpected data after the top-level object"},
		{"string for number", `{"Count":"1"}`, "Count: expected an integer, found a string"},
		{"number for string", `{"Name":1}`, "Name: expected a string, found a number"},
		{"fraction for integer", `{"Count":1.5}`, "Count: expected an integer, found a number with a fraction"},
		{"int32 overflow", `{"Count":2147483648}`, "Count: integer out of range"},
		{"int32 underflow", `{"Count":-2147483649}`, "Count: integer out of range"},
		{"int64 overflow", `{"Total":9223372036854775808}`, "Total: integer out of range"},
		{"int64 overflow as float", `{"Total":9.3e18}`, "Total: integer out of range"},
		{"huge exponent for integer", `{"Count":1e400}`, "Count: integer out of range"},
		{"double overflow", `{"Ratio":1e400}`, "Ratio: number out of range"},
		{"lowercase nan", `{"Ratio":"nan"}`, `Ratio: expected a number, found a string other than "NaN", "Infinity" or "-Infinity"`},
		{"bool for double", `{"Ratio":true}`, "Ratio: expected a number, found a boolean"},
		{"string for bool", `{"Enabled":"true"}`, "Enabled: expected a boolean, found a string"},
		{"string timestamp", `{"When":"2018-01-01T00:00:00Z"}`, "When: expected a timestamp, found a string"},
		{"timestamp out of range", `{"When":1e20}`, "When: timestamp out of range"},
		{"integer timestamp out of range", `{"When":253402300800}`, "When: timestamp out of range"},
		{"object for list", `{"Tags":{}}`, "Tags: expected a list, found an object"},
		{"list for object", `{"Details":[]}`, "Details: expected an object, found a list"},
		{"nested path", `{"Tags":[{"Key":"a"},{"Key":1}]}`, "Tags[1].Key: expected a string, found a number"},
		{"null in list", `{"Tags":[null]}`, "Tags[0]: null is not allowed in a list"},
		{"deep path", `{"Details":{"nested":{"more":[{"nested":{"text":5}}]}}}`, "Details.nested.more[0].nested.text: expected a string, found a number"},
		{"nested list path", `{"Matrix":[["a"],["b",1]]}`, "Matrix[1][1]: expected a string, found a number"},
		{"syntax error inside member", `{"Tags":[{"Key":"a"]}`, "Tags[0]: invalid JSON at offset 19: expected ',' or '}' after a member"},
		{"leading zero", `{"a":01}`, "invalid JSON at offset 6: expected ',' or '}' after a member"},
		{"bare minus", `{"a":-}`, "invalid JSON at offset 5: invalid number"},
		{"no fraction digits", `{"a":1.}`, "invalid JSON at offset 5: invalid number"},
		{"no exponent digits", `{"a":1e+}`, "invalid JSON at offset 5: invalid number"},
		{"leading dot", `{"a":.5}`, "invalid JSON at offset 5: invalid character"},
		{"plus sign", `{"Count":+1}`, "Count: invalid JSON at offset 9: invalid character"},
		{"control character", "{\"Name\":\"a\x01\"}", "Name: invalid JSON at offset 10: control character in string"},
		{"unterminated string", `{"Name":"abc`, "Name: invalid JSON at offset 12: unterminated string"},
		{"unterminated escape", `{"Name":"abc\`, "Name: invalid JSON at offset 12: unterminated string"},
		{"invalid escape", `{"Name":"\q"}`, "Name: invalid JSON at offset 9: invalid escape"},
		{"short unicode escape", `{"Name":"\u12"}`, "Name: invalid JSON at offset 9: invalid \\u escape"},
		{"bad literal", `{"a":tru}`, "invalid JSON at offset 5: invalid literal"},
		{"bad null", `{"Name":nul}`, "Name: invalid JSON at offset 8: invalid literal"},
		{"missing colon", `{"a" 1}`, "invalid JSON at offset 5: expected ':' after a member name"},
		{"trailing comma", `{"a":1,}`, "invalid JSON at offset 7: expected a member name"},
		{"leading comma", `{,}`, "invalid JSON at offset 1: expected a member name"},
		{"missing comma", `{"a":1 "b":2}`, "invalid JSON at offset 7: expected ',' or '}' after a member"},
		{"trailing comma in list", `{"a":[1,]}`, "invalid JSON at offset 8: invalid character"},
		{"unquoted name", `{a:1}`, "invalid JSON at offset 1: expected a member name"},
		{"max depth ok but too deep with the object", `{"a":` + deep + `}`, "nesting exceeds 32 levels"},
		{"too deep in an unknown member", `{"Details":{"more":[{"unknown":` + tooDeep + `}]}}`, "Details.more[0]: nesting exceeds 32 levels"},
		{"too deep in a recursive member", `{"Details":` + strings.Repeat(`{"nested":`, MaxDepth-1) + `{}` + strings.Repeat(`}`, MaxDepth),
			"Details" + strings.Repeat(".nested", MaxDepth-1) + ": nesting exceeds 32 levels"},
		{"10,000 nested lists in a modelled member", `{"Matrix":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
			"Matrix[0][0]: expected a string, found a list"},
		{"10,000 nested lists in an unknown member", `{"x":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`, "nesting exceeds 32 levels"},
		{"10,000 nested objects", strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000), "nesting exceeds 32 levels"},
		{"invalid UTF-8", "{\"Name\":\"a\xffb\"}", "Name: invalid UTF-8 at offset 10"},
		{"truncated UTF-8", "{\"Name\":\"ab\xc3\"}", "Name: invalid UTF-8 at offset 11"},
		{"UTF-8 encoded surrogate", "{\"Name\":\"\xed\xa0\x80\"}", "Name: invalid UTF-8 at offset 9"},
		{"invalid UTF-8 in an unknown member", "{\"x\":[\"\xc0\xaf\"]}", "invalid UTF-8 at offset 7"},
		{"invalid UTF-8 in a member name", "{\"\xff\":1}", "invalid UTF-8 at offset 2"},
		{"too many items", `{"a":` + many + `}`, "a list has more than 10000 items"},
		{"too many items in a member", `{"Matrix":[` + strings.Repeat(`[],`, MaxElements) + `[]]}`, "Matrix: a list has more than 10000 items"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got testInput
			err := decodeJSON([]byte(tt.body), &got)
			var se *SerializationError
			if !errors.As(err, &se) {
				t.Fatalf("error = %v (%T), want a *SerializationError", err, err)
			}
			if se.ErrorMessage() != tt.want {
				t.Errorf("message = %q\nwant      %q", se.ErrorMessage(), tt.want)
			}
			if se.HTTPStatus() != 400 || se.ErrorCode() != "SerializationException" || se.ErrorFault() != FaultClient {
				t.Errorf("status/code/fault = %d %s %v", se.HTTPStatus(), se.ErrorCode(), se.ErrorFault())
			}
		})
	}
}

func TestDecodeJSONDoesNotEchoValues(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"Count":"hunter2-secret"}`,
		`{"Enabled":"hunter2-secret"}`,
		`{"Tags":[{"Key":["hunter2-secret"]}]}`,
		`{"Ratio":"hunter2-secret"}`,
		`{"Name":"hunter2-secret` + "\x01" + `"}`,
	} {
		var got testInput
		err := decodeJSON([]byte(body), &got)
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error %v", body, err)
		}
	}
}

func TestDecodeTargetErrors(t *testing.T) {
	t.Parallel()
	type badMember struct {
		M map[string]string `json:"M"`
	}
	type blob struct {
		B []byte `json:"B"`
	}
	// Built at run time: go vet rightly refuses a literal with a repeated tag.
	dup := reflect.New(reflect.StructOf([]reflect.StructField{
		{Name: "A", Type: reflect.TypeFor[*string](), Tag: `json:"x"`},
		{Name: "B", Type: reflect.TypeFor[*string](), Tag: `json:"x"`},
	})).Interface()
	for _, c := range []Codec{CodecFor(AWSJSON10), CodecFor(RPCv2CBOR)} {
		for _, target := range []any{nil, testInput{}, (*testInput)(nil), new(string), &badMember{}, &blob{}, dup} {
			err := c.Decode(nil, target)
			if err == nil {
				t.Errorf("%v: Decode into %T succeeded", c.Protocol(), target)
				continue
			}
			var apiErr APIError
			if errors.As(err, &apiErr) {
				t.Errorf("%v: Decode into %T: %v is an APIError; a bad target is a bug, not a client error", c.Protocol(), target, err)
			}
		}
	}
}

func TestEncodeJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"nil output", nil, `{}`},
		{"typed nil output", (*testInput)(nil), `{}`},
		{"empty struct", &testEmpty{}, `{}`},
		{"zero input omits every member", &testInput{}, `{}`},
		{"by value", testInput{Name: ptr("v")}, `{"Name":"v"}`},
		{"struct order, absent omitted", &testInput{Status: ptr(statusPending), Name: ptr("n"), Count: ptr[int32](0), Enabled: ptr(false)},
			`{"Name":"n","Enabled":false,"Count":0,"Status":"PENDING"}`},
		{"empty list present", &testInput{Tags: []testTag{}, Matrix: [][]string{{}}}, `{"Tags":[],"Matrix":[[]]}`},
		{"untagged fields are not members", &testInput{Untagged: ptr("x")}, `{}`},
		{"lists and union", &testInput{
			Statuses: []testStatus{statusActive},
			Tags:     []testTag{{Key: ptr("k"), Value: ptr("v")}, {}},
			Details:  &testDetails{Volume: &testVolume{VolumeID: ptr("vol-1"), SizeGiB: ptr[int32](8), Cost: ptr(0.8)}},
		}, `{"Statuses":["ACTIVE"],"Tags":[{"Key":"k","Value":"v"},{}],"Details":{"ebsVolume":{"volumeId":"vol-1","sizeInGiB":8,"monthlyCost":0.8}}}`},
		{"int64 extremes", &testInput{Total: ptr[int64](math.MinInt64), Count: ptr[int32](math.MaxInt32)},
			`{"Count":2147483647,"Total":-9223372036854775808}`},
		{"doubles", &testDetails{Scores: []float64{0, -0.0, 1, 0.1, 1.5e300, 1e21, 1e20, 1e-6, 1e-7, -2.5e-10, math.NaN(), math.Inf(1), math.Inf(-1)}},
			`{"scores":[0,0,1,0.1,1.5e+300,1e+21,100000000000000000000,0.000001,1e-7,-2.5e-10,"NaN","Infinity","-Infinity"]}`},
		{"timestamps", &testDetails{Times: []time.Time{
			mustTime("2018-01-09T20:51:21.123Z"),
			mustTime("2018-01-09T20:51:21Z"),
			mustTime("2018-01-09T20:51:21.1235Z"),
			mustTime("2018-01-09T20:51:21.9999Z"),
			mustTime("1969-12-31T23:59:58.5Z"),
			mustTime("1970-01-01T00:00:00Z"),
			mustTime("9999-12-31T23:59:59.999Z"),
			time.Date(2018, 1, 9, 21, 51, 21, 123e6, time.FixedZone("CET", 3600)),
		}}, `{"times":[1515531081.123,1515531081,1515531081.124,1515531082,-1.5,0,253402300799.999,1515531081.123]}`},
		{"string escaping", &testInput{Name: ptr("q\"b\\s/ \x00\x1f\n\r\t\b é😀 \u2028\u2029 <&> \xff\xc3")},
			`{"Name":"q\"b\\s/ \u0000\u001f\n\r\t\u0008 é😀 \u2028\u2029 <&> \ufffd\ufffd"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, s, ok, err := outputOf(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got := `{}`
			if ok {
				got = string(appendJSONStruct(nil, s, v))
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("not valid JSON: %s", got)
			}
		})
	}
}

// TestJSONStringsAgreeWithEncodingJSON checks our escaping against the
// standard library's decoder, including invalid UTF-8.
func TestJSONStringsAgreeWithEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain", "\x00\x01\x7f", "\"\\", "é\xe2\x82", "\xed\xa0\x80", "\U0010FFFF", "\u2028x", "a\tb"} {
		var got string
		enc := appendJSONString(nil, s)
		if err := json.Unmarshal(enc, &got); err != nil {
			t.Fatalf("%q: %s: %v", s, enc, err)
		}
		if want := strings.ToValidUTF8(s, "\uFFFD"); got != want && got != strings.Map(func(r rune) rune { return r }, s) {
			t.Errorf("%q: round trip gave %q", s, got)
		}
		// And our decoder reads back what encoding/json writes.
		std, _ := json.Marshal(s)
		var in testInput
		if err := decodeJSON([]byte(`{"Name":`+string(std)+`}`), &in); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		var viaStd string
		_ = json.Unmarshal(std, &viaStd)
		if *in.Name != viaStd {
			t.Errorf("%q: decoded %q, encoding/json decodes %q", s, *in.Name, viaStd)
		}
	}
}

// TestJSONRoundTrip encodes a full value and decodes it back.
func TestJSONRoundTrip(t *testing.T) {
	t.Parallel()
	in := &testInput{
		Name: ptr("n"), Enabled: ptr(true), Count: ptr[int32](-7), Total: ptr[int64](1 << 60), Ratio: ptr(0.25),
		When: ptr(mustTime("2025-09-22T10:11:12.345Z")), Status: ptr(statusActive),
		Statuses: []testStatus{}, Tags: []testTag{{Key: ptr("k")}}, Matrix: [][]string{{"a"}, {}},
		Details: &testDetails{Nested: &testDetails{Text: ptr("t")}, Counts: []int64{1, 2}},
	}
	v, s, _, err := outputOf(in)
	if err != nil {
		t.Fatal(err)
	}
	var out testInput
	if err := decodeJSON(appendJSONStruct(nil, s, v), &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*in, out) {
		t.Errorf("got  %s\nwant %s", dump(out), dump(in))
	}
}
