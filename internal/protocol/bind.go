package protocol

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
)

// Limits every decoder enforces, whatever the body size limit in front of
// it. They bound the work and memory a single request can cause.
const (
	// MaxDepth is the deepest nesting of objects/maps and arrays (and CBOR
	// tags) accepted, the top-level object included. The deepest valid
	// input of either model nests 5 levels (CreateAutomationRule:
	// criteria.region[].values[]; TestMaxDepthCoversModels derives it), so
	// 32 leaves ample room for members a newer model may add, which are
	// skipped as unknown, while a hostile body is cut off after a few
	// dozen recursive calls instead of thousands. It is also the CBOR
	// library's own default.
	MaxDepth = 32
	// MaxElements is the most members or items one object/map or array may
	// hold. No modelled list comes close.
	MaxElements = 10000
)

// Timestamps outside years 1–9999 are refused: nothing in either service
// means them, and the bounds keep millisecond arithmetic far from overflow.
const (
	minEpochSeconds = -62135596800 // 0001-01-01T00:00:00Z
	maxEpochSeconds = 253402300799 // 9999-12-31T23:59:59Z
)

// kind is how a Go type is represented on the wire.
type kind uint8

const (
	kindString  kind = iota + 1 // string and named string types (enums)
	kindBool                    // bool
	kindInt32                   // int32 (Smithy Integer)
	kindInt64                   // int64 (Smithy Long)
	kindFloat64                 // float64 (Smithy Double)
	kindTime                    // time.Time (Smithy Timestamp, epoch seconds)
	kindStruct                  // structures and unions
	kindList                    // slices, except []byte
	kindPtr                     // optional members: pointer to any of the above
)

var kindNames = [...]string{
	kindString:  "a string",
	kindBool:    "a boolean",
	kindInt32:   "an integer",
	kindInt64:   "an integer",
	kindFloat64: "a number",
	kindTime:    "a timestamp",
	kindStruct:  "an object",
	kindList:    "a list",
}

func (k kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "a value"
}

// shape is the cached plan for one Go type: what the codecs need to know to
// read or write it without consulting reflection tags again.
type shape struct {
	kind   kind
	typ    reflect.Type
	elem   *shape            // kindPtr, kindList
	fields []field           // kindStruct, in declaration order
	byName map[string]*field // kindStruct, by wire name
}

// field is one member of a structure.
type field struct {
	name    string // wire name, from the json tag
	index   int    // Go field index
	shape   *shape
	jsonKey string // `"name":`, escaped once
}

var (
	shapes  sync.Map   // reflect.Type → *shape or error
	buildMu sync.Mutex // serialises building, so that cycles are built once
	timeTyp = reflect.TypeFor[time.Time]()
)

// shapeOf returns the cached plan for t, building it on first use. An error
// means that t does not follow the generated-type convention: a programming
// error, never the client's fault.
func shapeOf(t reflect.Type) (*shape, error) {
	if v, ok := shapes.Load(t); ok {
		return cached(v)
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	if v, ok := shapes.Load(t); ok {
		return cached(v)
	}
	b := builder{seen: map[reflect.Type]*shape{}}
	s, err := b.build(t, t.String())
	if err != nil {
		err = fmt.Errorf("protocol: cannot encode or decode %v: %w", t, err)
		shapes.Store(t, err)
		return nil, err
	}
	// Publish every shape built along the way only once all are complete,
	// so that concurrent readers never see a half-built recursive plan.
	for typ, built := range b.seen {
		shapes.LoadOrStore(typ, built)
	}
	return s, nil
}

func cached(v any) (*shape, error) {
	if err, ok := v.(error); ok {
		return nil, err
	}
	return v.(*shape), nil
}

type builder struct {
	seen map[reflect.Type]*shape
}

func (b *builder) build(t reflect.Type, path string) (*shape, error) {
	if s, ok := b.seen[t]; ok {
		return s, nil // recursive or shared type: the same plan
	}
	if v, ok := shapes.Load(t); ok {
		return cached(v)
	}
	s := &shape{typ: t}
	b.seen[t] = s
	switch t.Kind() {
	case reflect.String:
		s.kind = kindString
	case reflect.Bool:
		s.kind = kindBool
	case reflect.Int32:
		s.kind = kindInt32
	case reflect.Int64:
		s.kind = kindInt64
	case reflect.Float64:
		s.kind = kindFloat64
	case reflect.Struct:
		if t == timeTyp {
			s.kind = kindTime
			break
		}
		s.kind = kindStruct
		if err := b.buildFields(s, path); err != nil {
			return nil, err
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return nil, fmt.Errorf("%s: blobs ([]byte) are not supported", path)
		}
		s.kind = kindList
		elem, err := b.build(t.Elem(), path+"[]")
		if err != nil {
			return nil, err
		}
		s.elem = elem
	case reflect.Pointer:
		if t.Elem().Kind() == reflect.Pointer {
			return nil, fmt.Errorf("%s: pointer to pointer is not supported", path)
		}
		s.kind = kindPtr
		elem, err := b.build(t.Elem(), path)
		if err != nil {
			return nil, err
		}
		s.elem = elem
	default:
		return nil, fmt.Errorf("%s: Go type %v is not supported", path, t)
	}
	return s, nil
}

// buildFields collects the members of a structure: its exported fields that
// carry a json tag. Fields without one are not members, which lets
// hand-written error types keep bookkeeping fields off the wire.
func (b *builder) buildFields(s *shape, path string) error {
	t := s.typ
	s.byName = make(map[string]*field, t.NumField())
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, ok := sf.Tag.Lookup("json")
		if !ok || !sf.IsExported() || sf.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" {
			continue
		}
		if slices.ContainsFunc(s.fields, func(f field) bool { return f.name == name }) {
			return fmt.Errorf("%s: two fields are named %q", path, name)
		}
		fs, err := b.build(sf.Type, path+"."+name)
		if err != nil {
			return err
		}
		s.fields = append(s.fields, field{
			name:    name,
			index:   i,
			shape:   fs,
			jsonKey: string(appendJSONString(nil, name)) + ":",
		})
	}
	// Index after appending: the slice no longer moves.
	for i := range s.fields {
		s.byName[s.fields[i].name] = &s.fields[i]
	}
	return nil
}

// present reports whether a member is on the wire: nil pointers and nil
// slices are absent, everything else (including empty slices) is present.
func present(s *shape, v reflect.Value) bool {
	switch s.kind {
	case kindPtr, kindList:
		return !v.IsNil()
	default:
		return true
	}
}

// structOf checks that v is a non-nil pointer to a struct and returns the
// struct and its plan. Codecs use it for inputs, which must be writable.
func structOf(v any) (reflect.Value, *shape, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, nil, fmt.Errorf("protocol: decode target must be a non-nil pointer to a struct, got %T", v)
	}
	s, err := shapeOf(rv.Type().Elem())
	if err != nil {
		return reflect.Value{}, nil, err
	}
	return rv.Elem(), s, nil
}

// outputOf resolves what an encoder writes: a struct value reached through
// any number of pointers. ok is false for nil (no output at all).
func outputOf(v any) (reflect.Value, *shape, bool, error) {
	if v == nil {
		return reflect.Value{}, nil, false, nil
	}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return reflect.Value{}, nil, false, nil
		}
		rv = rv.Elem()
	}
	if rv.Kind() != reflect.Struct {
		return reflect.Value{}, nil, false, fmt.Errorf("protocol: output must be a struct or a pointer to one, got %T", v)
	}
	s, err := shapeOf(rv.Type())
	if err != nil {
		return reflect.Value{}, nil, false, err
	}
	return rv, s, true, nil
}

// timeOf reads a time.Time without boxing it when it is addressable, which
// it is whenever the output was passed by pointer.
func timeOf(v reflect.Value) time.Time {
	if v.CanAddr() {
		return *v.Addr().Interface().(*time.Time)
	}
	return v.Interface().(time.Time)
}

// epochMillis converts a timestamp to whole milliseconds since the epoch,
// rounding to the nearest: the wire carries milliseconds at most.
func epochMillis(t time.Time) int64 {
	return t.Round(time.Millisecond).UnixMilli()
}

// millisTime builds the UTC time a decoded epoch value stands for.
func millisTime(ms int64) time.Time {
	return time.UnixMilli(ms).UTC()
}

// secondsToMillis converts fractional epoch seconds to milliseconds,
// rounding to the nearest: clients send milliseconds, and a float64 such as
// 1515531081.123 is not exact.
func secondsToMillis(f float64) (int64, *SerializationError) {
	if f != f || f < minEpochSeconds || f > maxEpochSeconds {
		return 0, serr("timestamp out of range")
	}
	return int64(math.Round(f * 1000)), nil
}

// setTime stores a decoded timestamp. Decoding targets are always
// addressable, which avoids boxing the time.Time in an interface.
func setTime(v reflect.Value, t time.Time) {
	*v.Addr().Interface().(*time.Time) = t
}
