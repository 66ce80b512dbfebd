package protocol

import (
	"math"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/fxamacker/cbor/v2"
)

// CBOR responses are built as generic values from the cached plan (only
// present members, enums as plain strings, timestamps as tag 1) and encoded
// by fxamacker/cbor, which owns the wire details:
//
//   - definite lengths only (the library's default for Go maps and slices);
//   - integers in their smallest encoding;
//   - doubles always as float64, NaN and ±Inf included: the spec says
//     servers SHOULD NOT send float16, and the library would otherwise
//     shorten NaN/Inf to float16;
//   - map keys in the RFC 8949 core deterministic order (bytewise lexical
//     order of the encoded keys), so that equal values give equal bytes.
var cborEncMode = func() cbor.EncMode {
	em, err := cbor.EncOptions{
		Sort:          cbor.SortCoreDeterministic,
		ShortestFloat: cbor.ShortestFloatNone,
		NaNConvert:    cbor.NaNConvertNone,
		InfConvert:    cbor.InfConvertNone,
		IndefLength:   cbor.IndefLengthForbidden,
	}.EncMode()
	if err != nil {
		panic("protocol: invalid CBOR encoding options: " + err.Error()) // fixed options: a bug, not input
	}
	return em
}()

// tagEpochSeconds is the CBOR tag for epoch-based date/time (RFC 8949 §3.4.2).
const tagEpochSeconds = 1

// quietNaN is the canonical float64 NaN (0x7ff8000000000000). Go's
// math.NaN() sets a low mantissa bit; normalising keeps output stable.
var quietNaN = math.Float64frombits(0x7ff8000000000000)

// cborStruct returns the generic map for a structure: present members only.
func cborStruct(s *shape, v reflect.Value) map[string]any {
	m := make(map[string]any, len(s.fields))
	cborMembers(m, s, v)
	return m
}

func cborMembers(m map[string]any, s *shape, v reflect.Value) {
	for i := range s.fields {
		f := &s.fields[i]
		fv := v.Field(f.index)
		if present(f.shape, fv) {
			m[f.name] = cborValue(f.shape, fv)
		}
	}
}

func cborValue(s *shape, v reflect.Value) any {
	switch s.kind {
	case kindPtr:
		if v.IsNil() {
			return nil // a nil item in a []*T: see appendJSONValue
		}
		return cborValue(s.elem, v.Elem())
	case kindString:
		// A plain string: named enum types would each need an encoding plan.
		// Text strings must be valid UTF-8, which stored data may not be.
		str := v.String()
		if !utf8.ValidString(str) {
			str = strings.ToValidUTF8(str, "\uFFFD")
		}
		return str
	case kindBool:
		return v.Bool()
	case kindInt32, kindInt64:
		return v.Int()
	case kindFloat64:
		f := v.Float()
		if f != f {
			f = quietNaN
		}
		return f
	case kindTime:
		// Always a float64 of seconds, as the Go SDK sends it, so that the
		// same value always has the same bytes (c1 fb ...).
		return cbor.Tag{Number: tagEpochSeconds, Content: float64(epochMillis(timeOf(v))) / 1e3}
	case kindStruct:
		return cborStruct(s, v)
	case kindList:
		items := make([]any, v.Len())
		for i := range items {
			items[i] = cborValue(s.elem, v.Index(i))
		}
		return items
	}
	return nil
}
