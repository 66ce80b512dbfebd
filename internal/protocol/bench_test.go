package protocol

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// discardWriter is a ResponseWriter that costs nothing but its header map,
// so that the benchmarks measure the codec.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

func (w *discardWriter) reset() { clear(w.h) }

var (
	benchJSONInput = []byte(`{"Name":"rule-1","Enabled":true,"Count":10,"When":1515531081.123,"Status":"ACTIVE","Tags":[{"Key":"team","Value":"platform"},{"Key":"env","Value":"prod"}]}`)
	benchCBORInput = func() []byte {
		v, s, _, _ := outputOf(&testInput{
			Name: ptr("rule-1"), Enabled: ptr(true), Count: ptr[int32](10), When: ptr(mustTime("2018-01-09T20:51:21.123Z")),
			Status: ptr(statusActive), Tags: []testTag{{Key: ptr("team"), Value: ptr("platform")}, {Key: ptr("env"), Value: ptr("prod")}},
		})
		b, err := cborEncMode.Marshal(cborStruct(s, v))
		if err != nil {
			panic(err)
		}
		return b
	}()
)

func BenchmarkDecodeJSON(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchJSONInput)))
	for b.Loop() {
		var in testInput
		if err := decodeJSON(benchJSONInput, &in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeJSONEmpty(b *testing.B) {
	b.ReportAllocs()
	body := []byte(`{}`)
	for b.Loop() {
		var in testEmpty
		if err := decodeJSON(body, &in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeCBOR(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchCBORInput)))
	for b.Loop() {
		var in testInput
		if err := decodeCBOR(benchCBORInput, &in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteOutput(b *testing.B) {
	out := sampleOrganization()
	for _, p := range []Protocol{AWSJSON11, RPCv2CBOR} {
		b.Run(p.String(), func(b *testing.B) {
			codec := CodecFor(p)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				if err := codec.WriteOutput(w, "f2c1b8a0-3d0e-4c4e-9d56-0f1b2c3d4e5f", out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkWriteError(b *testing.B) {
	err := &testInvalidInput{Message: ptr("You provided a value that does not match the required pattern."), Reason: ptr("INVALID_PATTERN")}
	for _, p := range []Protocol{AWSJSON11, RPCv2CBOR} {
		b.Run(p.String(), func(b *testing.B) {
			codec := CodecFor(p)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				if e := codec.WriteError(w, "id", testOrgs, err); e != nil {
					b.Fatal(e)
				}
			}
		})
	}
}

func BenchmarkIdentify(b *testing.B) {
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.Header.Set("Content-Type", MediaTypeJSON11)
	r.Header.Set("X-Amz-Target", "AWSOrganizationsV20161128.DescribeOrganization")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Identify(r); err != nil {
			b.Fatal(err)
		}
	}
}
