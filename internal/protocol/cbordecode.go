package protocol

import (
	"errors"
	"io"
	"math"
	"math/big"
	"reflect"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// CBOR requests are decoded in two steps: fxamacker/cbor parses the body
// into generic values, enforcing well-formedness and the DoS limits, and
// then the cached plan binds those values into the input structure. The
// library does the hard part (indefinite lengths, float16, tags, UTF-8);
// the binder keeps presence, type and range rules identical to JSON's.
//
// What fxamacker yields into an `any`, and so what the binder sees:
// map[string]any for maps (DefaultMapType; other key types fail), []any,
// string, []byte, bool, uint64/int64 (big.Int beyond int64), float64 for
// every float width, time.Time for tags 0 and 1, cbor.Tag for other tags,
// and nil for both null and undefined.
var cborDecMode = func() cbor.DecMode {
	dm, err := cbor.DecOptions{
		DupMapKey:        cbor.DupMapKeyQuiet, // last wins, as in JSON
		MaxNestedLevels:  MaxDepth,
		MaxArrayElements: MaxElements,
		MaxMapPairs:      MaxElements,
		IndefLength:      cbor.IndefLengthAllowed,
		TagsMd:           cbor.TagsAllowed,
		IntDec:           cbor.IntDecConvertNone,
		DefaultMapType:   reflect.TypeFor[map[string]any](),
		UTF8:             cbor.UTF8RejectInvalid,
		TimeTagToAny:     cbor.TimeTagToTime,
	}.DecMode()
	if err != nil {
		panic("protocol: invalid CBOR decoding options: " + err.Error()) // fixed options: a bug, not input
	}
	return dm
}()

// decodeCBOR fills input, a pointer to a generated structure, from an RPC v2
// CBOR request body. An empty body is {}.
func decodeCBOR(body []byte, input any) error {
	v, s, err := structOf(input)
	if err != nil {
		return err
	}
	if len(body) == 0 {
		return nil // servers must accept no body for no/empty input
	}
	var doc any
	if err := cborDecMode.Unmarshal(body, &doc); err != nil {
		return cborSyntaxError(err)
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return serr("expected a CBOR map, found %s", cborFound(doc))
	}
	if e := bindCBORStruct(m, s, v); e != nil {
		return e
	}
	return nil
}

// cborSyntaxError turns a parse failure into a SerializationError. The
// library's messages describe types and positions, not string contents.
func cborSyntaxError(err error) *SerializationError {
	var (
		nested *cbor.MaxNestedLevelError
		arr    *cbor.MaxArrayElementsError
		pairs  *cbor.MaxMapPairsError
		extra  *cbor.ExtraneousDataError
	)
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return serr("truncated CBOR")
	case errors.As(err, &nested):
		return serr("nesting exceeds %d levels", MaxDepth)
	case errors.As(err, &arr):
		return serr("a list has more than %d items", MaxElements)
	case errors.As(err, &pairs):
		return serr("a map has more than %d entries", MaxElements)
	case errors.As(err, &extra):
		return serr("unexpected data after the top-level map")
	default:
		return serr("malformed CBOR: %v", err)
	}
}

// cborFound names the kind of a decoded CBOR value for error messages.
func cborFound(x any) string {
	switch x.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "a map"
	case []any:
		return "an array"
	case string:
		return "a text string"
	case []byte:
		return "a byte string"
	case bool:
		return "a boolean"
	case uint64, int64, big.Int, *big.Int:
		return "an integer"
	case float64:
		return "a float"
	case time.Time:
		return "a timestamp"
	case cbor.Tag:
		return "a tagged value"
	default:
		return "a simple value"
	}
}

func cborMismatch(want kind, x any) *SerializationError {
	return serr("expected %s, found %s", want, cborFound(x))
}

// bindCBORStruct binds the members of a map into the structure v. Members
// are visited in struct order so that the first error reported does not
// depend on map iteration order; keys without a member are ignored.
func bindCBORStruct(m map[string]any, s *shape, v reflect.Value) *SerializationError {
	for i := range s.fields {
		f := &s.fields[i]
		x, ok := m[f.name]
		if !ok {
			continue
		}
		if e := bindCBOR(x, f.shape, v.Field(f.index)); e != nil {
			return e.under(f.name)
		}
	}
	return nil
}

func bindCBOR(x any, s *shape, v reflect.Value) *SerializationError {
	if x == nil {
		// null and undefined are absent.
		if s.kind == kindPtr || s.kind == kindList {
			v.SetZero()
		}
		return nil
	}
	switch s.kind {
	case kindPtr:
		p := reflect.New(s.elem.typ)
		if e := bindCBOR(x, s.elem, p.Elem()); e != nil {
			return e
		}
		v.Set(p)
	case kindString:
		str, ok := x.(string)
		if !ok {
			return cborMismatch(s.kind, x)
		}
		v.SetString(str)
	case kindBool:
		b, ok := x.(bool)
		if !ok {
			return cborMismatch(s.kind, x)
		}
		v.SetBool(b)
	case kindInt32, kindInt64:
		n, e := cborInteger(x, s.kind)
		if e != nil {
			return e
		}
		v.SetInt(n)
	case kindFloat64:
		f, e := cborFloat(x)
		if e != nil {
			return e
		}
		v.SetFloat(f)
	case kindTime:
		t, ok := x.(time.Time)
		if !ok {
			return serr("expected a timestamp (tag 1), found %s", cborFound(x))
		}
		// fxamacker maps a NaN epoch to the zero time, hence the strict lower bound.
		secs := t.Unix()
		if t.IsZero() || secs < minEpochSeconds || secs > maxEpochSeconds {
			return serr("timestamp out of range")
		}
		setTime(v, millisTime(epochMillis(t)))
	case kindStruct:
		m, ok := x.(map[string]any)
		if !ok {
			return cborMismatch(s.kind, x)
		}
		return bindCBORStruct(m, s, v)
	case kindList:
		items, ok := x.([]any)
		if !ok {
			return cborMismatch(s.kind, x)
		}
		list := reflect.MakeSlice(s.typ, len(items), len(items))
		for i, item := range items {
			if item == nil {
				return serr("null is not allowed in a list").under(indexPath(i))
			}
			if e := bindCBOR(item, s.elem, list.Index(i)); e != nil {
				return e.under(indexPath(i))
			}
		}
		v.Set(list)
	}
	return nil
}

// cborInteger accepts CBOR integers only: the Go SDK's own decoder rejects
// floats for integer members, and so does the spec's type mapping.
func cborInteger(x any, k kind) (int64, *SerializationError) {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if k == kindInt32 {
		lo, hi = math.MinInt32, math.MaxInt32
	}
	switch n := x.(type) {
	case uint64:
		if n > uint64(hi) {
			return 0, serr("integer out of range")
		}
		return int64(n), nil
	case int64:
		if n < lo || n > hi {
			return 0, serr("integer out of range")
		}
		return n, nil
	case big.Int, *big.Int:
		return 0, serr("integer out of range")
	default:
		return 0, cborMismatch(k, x)
	}
}

// cborFloat accepts floats of any width (already widened by the library)
// and integers, which the spec lets clients send for doubles ("upcasting").
func cborFloat(x any) (float64, *SerializationError) {
	switch n := x.(type) {
	case float64:
		return n, nil
	case uint64:
		return float64(n), nil
	case int64:
		return float64(n), nil
	default:
		return 0, cborMismatch(kindFloat64, x)
	}
}
