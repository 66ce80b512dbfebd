package protocol_test

import (
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	acoapi "github.com/orgstack/orgstack/internal/api/automation"
	orgapi "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/protocol"
)

// depthMargin is how many levels MaxDepth must leave above the deepest
// modelled input: room for members a newer model adds (which older
// servers skip as unknown) without letting a hostile body recurse far.
const depthMargin = 8

// TestMaxDepthCoversModels derives the deepest nesting a valid request
// of either service can have from the generated input types, and checks
// that MaxDepth admits it with depthMargin to spare but is not so loose
// that it stops meaning anything.
func TestMaxDepthCoversModels(t *testing.T) {
	t.Parallel()
	deepest, where := 0, ""
	for _, svc := range []*protocol.Service{orgapi.Service, acoapi.Service} {
		for _, op := range svc.Operations {
			typ := reflect.TypeOf(op.NewInput())
			d, err := nesting(typ, map[reflect.Type]bool{})
			if err != "" {
				t.Fatalf("%s.%s: %s", svc.Name, op.Name, err)
			}
			if d > deepest {
				deepest, where = d, svc.Name+"."+op.Name
			}
		}
	}
	t.Logf("deepest modelled input: %d levels (%s); MaxDepth %d", deepest, where, protocol.MaxDepth)
	if deepest+depthMargin > protocol.MaxDepth {
		t.Errorf("MaxDepth %d leaves less than %d levels above the deepest input (%d, %s)", protocol.MaxDepth, depthMargin, deepest, where)
	}
	if protocol.MaxDepth > 8*deepest {
		t.Errorf("MaxDepth %d is more than 8 times the deepest input (%d, %s): tighten it", protocol.MaxDepth, deepest, where)
	}
}

// nesting counts the objects and arrays a value of typ nests on the wire,
// the top-level object included, as the decoders count them.
func nesting(typ reflect.Type, seen map[reflect.Type]bool) (int, string) {
	switch typ.Kind() {
	case reflect.Pointer:
		return nesting(typ.Elem(), seen)
	case reflect.Slice:
		d, err := nesting(typ.Elem(), seen)
		return d + 1, err
	case reflect.Struct:
		if typ == reflect.TypeFor[time.Time]() {
			return 0, ""
		}
		if seen[typ] {
			return 0, "recursive shape " + typ.String() + ": no finite depth"
		}
		seen[typ] = true
		defer delete(seen, typ)
		deepest := 0
		for i := range typ.NumField() {
			f := typ.Field(i)
			if !f.IsExported() || f.Tag.Get("json") == "" {
				continue
			}
			d, err := nesting(f.Type, seen)
			if err != "" {
				return 0, err
			}
			deepest = max(deepest, d)
		}
		return deepest + 1, ""
	default:
		return 0, ""
	}
}

// TestDepthLimitBoundary checks both decoders at the limit: MaxDepth
// levels decode (in an unknown member, the only place a valid body can
// nest that deep), MaxDepth+1 are a SerializationException.
func TestDepthLimitBoundary(t *testing.T) {
	t.Parallel()
	cborKey := "6178" // "x"
	bodies := func(levels int) map[protocol.Protocol][]byte {
		inner := levels - 1 // the top-level object is one level
		return map[protocol.Protocol][]byte{
			protocol.AWSJSON11: []byte(`{"x":` + strings.Repeat("[", inner) + strings.Repeat("]", inner) + `}`),
			protocol.RPCv2CBOR: unhexT(t, "a1"+cborKey+strings.Repeat("81", inner-1)+"80"),
		}
	}
	for p, body := range bodies(protocol.MaxDepth) {
		if err := protocol.CodecFor(p).Decode(body, &orgapi.ListRootsInput{}); err != nil {
			t.Errorf("%v: %d levels refused: %v", p, protocol.MaxDepth, err)
		}
	}
	for p, body := range bodies(protocol.MaxDepth + 1) {
		err := protocol.CodecFor(p).Decode(body, &orgapi.ListRootsInput{})
		var se *protocol.SerializationError
		if !errors.As(err, &se) || se.HTTPStatus() != 400 || !strings.Contains(se.ErrorMessage(), "nesting exceeds") {
			t.Errorf("%v: %d levels: error %v, want a nesting SerializationException", p, protocol.MaxDepth+1, err)
		}
	}
}

func unhexT(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
