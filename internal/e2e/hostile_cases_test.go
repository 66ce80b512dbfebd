package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	smithycbor "github.com/aws/smithy-go/encoding/cbor"

	"github.com/orgstack/orgstack/internal/protocol"
	"github.com/orgstack/orgstack/internal/server"
)

// The hostile bodies are built as trees of plain values (nil, bool, int64,
// float64, string, []any, map[string]any, time.Time) and written by
// encoders independent of orgstack's codecs: a small JSON writer that,
// unlike encoding/json, passes invalid UTF-8 through, and smithy-go's CBOR
// encoder. Which tree goes where comes from the generated input types and
// their Validate methods, the model's own constraints.

// unknownMember is a member no input of either model has.
const unknownMember = "hostileUnknownMember"

// encoder writes bodies in one protocol. The large parts of hostile bodies
// (100,000 items, 10,000 levels, a megabyte) are encoded once per protocol
// and spliced into each body in place of a placeholder string: definite
// CBOR lengths count items, not bytes, so splicing keeps both encodings
// valid.
type encoder struct {
	cbor        bool
	placeholder []byte // the encoded placeholder string
	payloads    map[string][]byte
}

const placeholder = "\x01hostile payload\x01"

func newEncoder(p protocol.Protocol) *encoder {
	e := &encoder{cbor: p == protocol.RPCv2CBOR, payloads: map[string][]byte{}}
	e.placeholder = e.encode(placeholder)
	return e
}

func (e *encoder) encode(tree any) []byte {
	if e.cbor {
		return smithycbor.Encode(cborOf(tree))
	}
	return appendJSONTree(nil, tree)
}

// payload encodes the value make builds, once per name.
func (e *encoder) payload(name string, make func() any) []byte {
	b, ok := e.payloads[name]
	if !ok {
		b = e.encode(make())
		e.payloads[name] = b
	}
	return b
}

// spliced encodes tree, which holds the placeholder once, with payload in
// its place.
func (e *encoder) spliced(tree any, payload []byte) []byte {
	b := e.encode(tree)
	i := bytes.Index(b, e.placeholder)
	if i < 0 {
		panic("hostile: no placeholder in the tree")
	}
	return slices.Concat(b[:i], payload, b[i+len(e.placeholder):])
}

// hostileCases derives the hostile requests for one operation over one
// protocol. short keeps the cases that do not walk the input's members.
//
// Every case but those naming no member starts from base, a valid input,
// and differs from it in one thing: what a decoder or validator lets
// through would then reach the domain as a write that can succeed.
func hostileCases(t *testing.T, tgt hostileTarget, op *protocol.Operation, e *encoder, base map[string]any, short bool) []hostileCase {
	t.Helper()
	typ := reflect.TypeOf(op.NewInput()).Elem()
	cbor := e.cbor
	enc := e.encode
	var cases []hostileCase
	add := func(name string, want expectation, tree any) {
		cases = append(cases, hostileCase{name: name, body: enc(tree), want: want})
	}
	raw := func(name string, want expectation, body []byte, header map[string]string) {
		cases = append(cases, hostileCase{name: name, body: body, header: header, want: want})
	}
	// big puts a large payload at steps of the valid input.
	big := func(name string, want expectation, steps []any, payload string, make func() any) {
		raw(name, want, e.spliced(withValue(base, steps, placeholder), e.payload(payload, make)), nil)
	}
	unknown := []any{unknownMember}
	baseBody := enc(base)

	// Size: over the limit, announced and streamed.
	oversized := e.spliced(withValue(base, unknown, placeholder), e.payload("1 MiB", func() any { return strings.Repeat("a", server.DefaultMaxBodyBytes) }))
	raw("oversized body", wantTooLarge, oversized, nil)
	cases = append(cases, hostileCase{name: "oversized body, chunked", body: oversized, chunked: true, want: wantTooLarge})

	// Nesting, size and encoding inside a member the model does not have:
	// skipped members are still parsed, with the same limits.
	big("10,000 nested lists in an unknown member", wantSerialization, unknown, "lists", func() any { return nestedLists(10000) })
	big("10,000 nested objects in an unknown member", wantSerialization, unknown, "objects", func() any { return nestedObjects(10000) })
	big("100,000 items in an unknown member", wantSerialization, unknown, "100,000 x", func() any { return repeated("x", 100000) })
	add("invalid UTF-8 in an unknown member", wantSerialization, withValue(base, unknown, "ok\xff\xfe"))
	add("invalid UTF-8 in a member name", wantSerialization, withValue(base, []any{"bad\xc3\x28name"}, "x"))

	// Bodies that are not one object of the protocol's encoding.
	var garbage map[string]string
	if cbor {
		garbage = map[string]string{
			"an array": "80", "a text string": "6178", "an integer": "01", "null": "f6",
			"a lone break": "ff", "two maps": "a0a0", "an unterminated map": "bf",
			"an unterminated byte string": "5f41", "reserved additional info": "a161781c",
			"an integer map key": "a10101", "a byte-string map key": "a1417801",
		}
	} else {
		garbage = map[string]string{
			"a list": hexOf("[]"), "a string": hexOf(`"x"`), "a number": hexOf("1"), "null": hexOf("null"),
			"XML": hexOf("<xml/>"), "two objects": hexOf("{}{}"), "a trailing comma": hexOf(`{"a":1,}`),
			"a missing colon": hexOf(`{"a" 1}`), "single quotes": hexOf(`{'a':1}`), "a byte order mark": hexOf("\ufeff{}"),
			"a CBOR map": "a0",
		}
	}
	for _, name := range slices.Sorted(maps.Keys(garbage)) {
		raw("a body of "+name, wantSerialization, unhexString(t, garbage[name]), nil)
	}
	// Cut short. The unknown member keeps an empty valid input from
	// leaving an empty, and so valid, body.
	cut := enc(withValue(base, unknown, "x"))
	raw("truncated at half", wantSerialization, cut[:len(cut)/2], nil)
	raw("truncated by one byte", wantSerialization, cut[:len(cut)-1], nil)

	// Media types the protocol does not speak, around a plausible body.
	var media map[string]map[string]string
	if cbor {
		media = map[string]map[string]string{
			"Content-Type application/json":           {"Content-Type": "application/json"},
			"Content-Type application/x-amz-json-1.0": {"Content-Type": protocol.MediaTypeJSON10},
			"Content-Type text/plain":                 {"Content-Type": "text/plain"},
			"no Content-Type":                         {"Content-Type": ""},
			"Smithy-Protocol rpc-v2-json":             {"Smithy-Protocol": "rpc-v2-json"},
			"X-Amz-Target alongside Smithy-Protocol":  {"X-Amz-Target": tgt.svc.TargetPrefix + "." + op.Name},
		}
	} else {
		other := protocol.MediaTypeJSON10
		if tgt.proto == protocol.AWSJSON10 {
			other = protocol.MediaTypeJSON11
		}
		media = map[string]map[string]string{
			"Content-Type application/json":  {"Content-Type": "application/json"},
			"Content-Type application/cbor":  {"Content-Type": protocol.MediaTypeCBOR},
			"Content-Type text/plain":        {"Content-Type": "text/plain"},
			"no Content-Type":                {"Content-Type": ""},
			"the other awsJson Content-Type": {"Content-Type": other},
		}
	}
	for _, name := range slices.Sorted(maps.Keys(media)) {
		raw(name, wantMediaType, baseBody, media[name])
	}

	// Nothing where members are required: an empty body is {}.
	nodes := memberNodes(typ)
	topRequired, required := requiredPaths(t, typ)
	if len(topRequired) > 0 {
		raw("empty body", wantValidation, nil, nil)
		add("an empty object", wantValidation, map[string]any{})
		add("only unknown members", wantValidation, map[string]any{unknownMember: "x", unknownMember + "2": map[string]any{"a": []any{1.5}}})
		if cbor {
			raw("an empty indefinite-length map", wantValidation, []byte{0xbf, 0xff}, nil)
		}
		for _, p := range topRequired {
			add(p+": null", wantValidation, map[string]any{p: nil})
		}
	}
	if short {
		return cases
	}

	for _, n := range nodes {
		for _, w := range wrongValues(n.kind, cbor) {
			add(n.path+": "+w.what, wantSerialization, withValue(base, n.steps, w.v))
		}
		switch n.kind {
		case kindString:
			add(n.path+": invalid UTF-8", wantSerialization, withValue(base, n.steps, "ok\xed\xa0\x80"))
			// Digits match or fail most model patterns at the first
			// character, which keeps the probe cheap.
			if limit, ok := constraintAt(t, typ, n.path, protocol.MaxLength, setString(strings.Repeat("1", 200000))); ok {
				add(n.path+": longer than the model allows", wantValidation, withValue(base, n.steps, strings.Repeat("a", limit+1)))
			}
			if _, ok := constraintAt(t, typ, n.path, protocol.Enum, setString("HOSTILE_NOT_A_VALUE")); ok {
				add(n.path+": not a value of the enum", wantValidation, withValue(base, n.steps, "HOSTILE_NOT_A_VALUE"))
			}
		case kindInt, kindFloat:
			for _, x := range []int64{math.MaxInt32, -1} {
				c := protocol.MaxValue
				if x < 0 {
					c = protocol.MinValue
				}
				if _, ok := constraintAt(t, typ, n.path, c, setNumber(x)); ok {
					add(n.path+": "+strconv.FormatInt(x, 10)+" is out of the model's range", wantValidation, withValue(base, n.steps, x))
				}
			}
		case kindList:
			big(n.path+": 100,000 items", wantSerialization, n.steps, fmt.Sprintf("100,000 %v", n.itemZero), func() any { return repeated(n.itemZero, 100000) })
			add(n.path+": a null item", wantSerialization, withValue(base, n.steps, []any{nil}))
			big(n.path+": 10,000 nested lists", wantSerialization, n.steps, "lists", func() any { return nestedLists(10000) })
			// The models cap lists at 200 items at most; a cap above the
			// probe's 1,000 would go unprobed, its list still gets the
			// 100,000 items above.
			if limit, ok := constraintAt(t, typ, n.path, protocol.MaxItems, setItems(1000)); ok {
				item := fillTree(n.typ.Elem())
				add(n.path+": more items than the model allows", wantValidation, withValue(base, n.steps, repeated(item, limit+1)))
			}
		case kindStruct:
			big(n.path+": 10,000 nested objects", wantSerialization, n.steps, "objects", func() any { return nestedObjects(10000) })
		}
	}
	for _, p := range required {
		n, ok := nodeAt(nodes, p)
		if !ok {
			t.Fatalf("%s: required member %s is not among the input's members", op.Name, p)
		}
		add(p+": null in an otherwise plausible input", wantValidation, withValue(base, n.steps, nil))
	}
	return cases
}

// wireKind is how a member is written on the wire.
type wireKind int

const (
	kindString wireKind = iota + 1
	kindBool
	kindInt
	kindFloat
	kindTime
	kindStruct
	kindList
)

var timeType = reflect.TypeFor[time.Time]()

func kindOfType(typ reflect.Type) wireKind {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch {
	case typ == timeType:
		return kindTime
	case typ.Kind() == reflect.Struct:
		return kindStruct
	case typ.Kind() == reflect.Slice:
		return kindList
	case typ.Kind() == reflect.String:
		return kindString
	case typ.Kind() == reflect.Bool:
		return kindBool
	case typ.Kind() == reflect.Int32 || typ.Kind() == reflect.Int64:
		return kindInt
	case typ.Kind() == reflect.Float64:
		return kindFloat
	}
	panic("hostile: unexpected member type " + typ.String())
}

// wrongValues are values of other types than a member of kind k has. CBOR
// tells integers from floats and tagged from untagged times, so it has a
// few more.
func wrongValues(k wireKind, cbor bool) []struct {
	what string
	v    any
} {
	type w = struct {
		what string
		v    any
	}
	obj := map[string]any{"a": "b"}
	switch k {
	case kindString:
		return []w{{"a number", int64(7)}, {"an object", obj}}
	case kindBool:
		return []w{{"a string", "true"}, {"a number", int64(1)}}
	case kindInt:
		ws := []w{{"a string", "1"}, {"a number with a fraction", 1.5}}
		if cbor {
			ws = append(ws, w{"a float", 1.0})
		}
		return ws
	case kindFloat:
		return []w{{"a string", "1.5"}, {"a boolean", true}}
	case kindTime:
		ws := []w{{"a date string", "2026-05-04T09:00:00Z"}, {"an object", obj}}
		if cbor {
			ws = append(ws, w{"an untagged number", int64(1777885200)})
		}
		return ws
	case kindStruct:
		return []w{{"a string", "x"}, {"a list", []any{obj}}}
	case kindList:
		return []w{{"a string", "x"}, {"an object", obj}}
	}
	return nil
}

// memberNode is one member of an input, at any depth; list items are
// members at index 0.
type memberNode struct {
	path     string // as validation problems name it: a.b[0].c
	steps    []any  // member names (string) and list indexes (int)
	typ      reflect.Type
	kind     wireKind
	itemZero any // for lists: a smallest item
}

func memberNodes(typ reflect.Type) []memberNode {
	var out []memberNode
	var walk func(typ reflect.Type, path string, steps []any)
	walk = func(typ reflect.Type, path string, steps []any) {
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		switch kindOfType(typ) {
		case kindStruct:
			for i := range typ.NumField() {
				f := typ.Field(i)
				name := jsonName(f)
				if name == "" {
					continue
				}
				p := name
				if path != "" {
					p = path + "." + name
				}
				s := append(slices.Clone(steps), name)
				n := memberNode{path: p, steps: s, typ: derefType(f.Type), kind: kindOfType(f.Type)}
				if n.kind == kindList {
					n.itemZero = smallest(n.typ.Elem())
				}
				out = append(out, n)
				walk(f.Type, p, s)
			}
		case kindList:
			item := typ.Elem()
			p, s := path+"[0]", append(slices.Clone(steps), 0)
			n := memberNode{path: p, steps: s, typ: derefType(item), kind: kindOfType(item)}
			if n.kind == kindList {
				n.itemZero = smallest(n.typ.Elem())
			}
			out = append(out, n)
			walk(item, p, s)
		}
	}
	walk(typ, "", nil)
	return out
}

func nodeAt(nodes []memberNode, path string) (memberNode, bool) {
	for _, n := range nodes {
		if n.path == path {
			return n, true
		}
	}
	return memberNode{}, false
}

func derefType(typ reflect.Type) reflect.Type {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	return typ
}

func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

var fillTime = time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)

// fillTree is a plausible wire value of typ: every member present, lists
// of one item, enums at their first value.
func fillTree(typ reflect.Type) any {
	typ = derefType(typ)
	switch kindOfType(typ) {
	case kindString:
		if m := reflect.Zero(typ).MethodByName("Values"); m.IsValid() {
			if vs := m.Call(nil)[0]; vs.Len() > 0 {
				return vs.Index(0).String()
			}
		}
		return "x"
	case kindBool:
		return true
	case kindInt:
		return int64(1)
	case kindFloat:
		return 1.5
	case kindTime:
		return fillTime
	case kindList:
		return []any{fillTree(typ.Elem())}
	default:
		m := map[string]any{}
		for i := range typ.NumField() {
			if name := jsonName(typ.Field(i)); name != "" {
				m[name] = fillTree(typ.Field(i).Type)
			}
		}
		return m
	}
}

// smallest is a short item of the right type, for long lists.
func smallest(typ reflect.Type) any {
	switch kindOfType(typ) {
	case kindStruct:
		return map[string]any{}
	case kindList:
		return []any{}
	case kindString:
		return "x" // not an enum's first value: 100,000 items must stay under the size limit
	default:
		return fillTree(typ)
	}
}

// withValue is a copy of root with v at steps, made where root lacks it.
func withValue[T any](root T, steps []any, v any) T {
	return setAt(root, steps, v).(T)
}

func setAt(root any, steps []any, v any) any {
	if len(steps) == 0 {
		return v
	}
	switch s := steps[0].(type) {
	case string:
		m, _ := root.(map[string]any)
		m = maps.Clone(m)
		if m == nil {
			m = map[string]any{}
		}
		m[s] = setAt(m[s], steps[1:], v)
		return m
	default:
		l, _ := root.([]any)
		l = slices.Clone(l)
		for len(l) <= s.(int) {
			l = append(l, nil)
		}
		l[s.(int)] = setAt(l[s.(int)], steps[1:], v)
		return l
	}
}

func nestedLists(n int) any {
	var v any = []any{}
	for range n - 1 {
		v = []any{v}
	}
	return v
}

func nestedObjects(n int) any {
	var v any = map[string]any{}
	for range n - 1 {
		v = map[string]any{"a": v}
	}
	return v
}

func repeated(item any, n int) []any {
	l := make([]any, n)
	for i := range l {
		l[i] = item
	}
	return l
}

// requiredPaths asks the generated validator which members are required:
// at the top, from an empty input, and at every depth, from an input whose
// structures and lists are all present but whose scalars are not.
func requiredPaths(t *testing.T, typ reflect.Type) (top, all []string) {
	t.Helper()
	top = problemPaths(t, reflect.New(typ), protocol.Required)
	skeleton := reflect.New(typ)
	skeleton.Elem().Set(goSkeleton(typ, "", "", nil))
	all = problemPaths(t, skeleton, protocol.Required)
	for _, p := range top {
		if !slices.Contains(all, p) {
			all = append(all, p)
		}
	}
	return top, all
}

func problemPaths(t *testing.T, in reflect.Value, c protocol.Constraint) []string {
	t.Helper()
	var paths []string
	for _, p := range problems(t, in) {
		if p.Constraint == c {
			paths = append(paths, p.Path)
		}
	}
	return paths
}

func problems(t *testing.T, in reflect.Value) []protocol.Problem {
	t.Helper()
	err := in.Interface().(protocol.Validator).Validate()
	if err == nil {
		return nil
	}
	var ve *protocol.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate: %v", err)
	}
	return ve.Problems
}

// constraintAt reports whether the model constrains the member at path
// with c, found by validating an input whose member holds the value set
// makes, and the constraint's numeric limit when it has one.
func constraintAt(t *testing.T, typ reflect.Type, path string, c protocol.Constraint, set func(reflect.Type) reflect.Value) (int, bool) {
	t.Helper()
	in := reflect.New(typ)
	in.Elem().Set(goSkeleton(typ, "", path, set))
	for _, p := range problems(t, in) {
		if p.Path == path && p.Constraint == c {
			limit, _ := strconv.Atoi(p.Limit)
			return limit, true
		}
	}
	return 0, false
}

// goSkeleton is a Go value of typ with every structure present, every list
// of one item and no scalar set, except the member at target, which set
// makes.
func goSkeleton(typ reflect.Type, path, target string, set func(reflect.Type) reflect.Value) reflect.Value {
	if set != nil && path == target && path != "" {
		return set(typ)
	}
	switch {
	case typ.Kind() == reflect.Pointer && typ.Elem().Kind() == reflect.Struct && typ.Elem() != timeType:
		p := reflect.New(typ.Elem())
		p.Elem().Set(goSkeleton(typ.Elem(), path, target, set))
		return p
	case typ.Kind() == reflect.Struct && typ != timeType:
		v := reflect.New(typ).Elem()
		for i := range typ.NumField() {
			f := typ.Field(i)
			name := jsonName(f)
			if name == "" {
				continue
			}
			p := name
			if path != "" {
				p = path + "." + name
			}
			v.Field(i).Set(goSkeleton(f.Type, p, target, set))
		}
		return v
	case typ.Kind() == reflect.Slice:
		s := reflect.MakeSlice(typ, 1, 1)
		s.Index(0).Set(goSkeleton(typ.Elem(), path+"[0]", target, set))
		return s
	default:
		return reflect.Zero(typ)
	}
}

// setString, setNumber and setItems make a member's value for
// constraintAt, whether the member is optional (a pointer) or a list item.
func setString(s string) func(reflect.Type) reflect.Value {
	return setScalar(func(v reflect.Value) { v.SetString(s) })
}

func setNumber(n int64) func(reflect.Type) reflect.Value {
	return setScalar(func(v reflect.Value) {
		if v.Kind() == reflect.Float64 {
			v.SetFloat(float64(n))
		} else {
			v.SetInt(n)
		}
	})
}

func setScalar(fill func(reflect.Value)) func(reflect.Type) reflect.Value {
	return func(typ reflect.Type) reflect.Value {
		if typ.Kind() == reflect.Pointer {
			p := reflect.New(typ.Elem())
			fill(p.Elem())
			return p
		}
		v := reflect.New(typ).Elem()
		fill(v)
		return v
	}
}

func setItems(n int) func(reflect.Type) reflect.Value {
	return func(typ reflect.Type) reflect.Value { return reflect.MakeSlice(typ, n, n) }
}

// appendJSONTree writes a tree as JSON. Strings are written byte for
// byte, escaping only what JSON requires, so invalid UTF-8 reaches the
// server as it is; map members are sorted for repeatable bodies.
func appendJSONTree(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, v)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case float64:
		return strconv.AppendFloat(b, v, 'g', -1, 64)
	case time.Time:
		return strconv.AppendFloat(b, float64(v.UnixMilli())/1000, 'f', -1, 64)
	case string:
		b = append(b, '"')
		for i := range len(v) {
			switch c := v[i]; {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20:
				b = fmt.Appendf(b, `\u%04x`, c)
			default:
				b = append(b, c)
			}
		}
		return append(b, '"')
	case []any:
		b = append(b, '[')
		for i, x := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONTree(b, x)
		}
		return append(b, ']')
	case map[string]any:
		b = append(b, '{')
		for i, k := range slices.Sorted(maps.Keys(v)) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONTree(b, k)
			b = append(b, ':')
			b = appendJSONTree(b, v[k])
		}
		return append(b, '}')
	}
	panic(fmt.Sprintf("hostile: no JSON for %T", v))
}

// cborOf turns a tree into smithy-go CBOR values; times are tag 1 over
// epoch seconds, as the SDKs send them.
func cborOf(v any) smithycbor.Value {
	switch v := v.(type) {
	case nil:
		return &smithycbor.Nil{}
	case bool:
		return smithycbor.Bool(v)
	case int:
		return cborOf(int64(v))
	case int64:
		if v < 0 {
			return smithycbor.NegInt(uint64(-v))
		}
		return smithycbor.Uint(uint64(v))
	case float64:
		return smithycbor.Float64(v)
	case time.Time:
		return &smithycbor.Tag{ID: 1, Value: smithycbor.Float64(float64(v.UnixMilli()) / 1000)}
	case string:
		return smithycbor.String(v)
	case []any:
		l := make(smithycbor.List, len(v))
		for i, x := range v {
			l[i] = cborOf(x)
		}
		return l
	case map[string]any:
		m := make(smithycbor.Map, len(v))
		for k, x := range v {
			m[k] = cborOf(x)
		}
		return m
	}
	panic(fmt.Sprintf("hostile: no CBOR for %T", v))
}

func hexOf(s string) string { return fmt.Sprintf("%x", s) }

func unhexString(t *testing.T, s string) []byte {
	t.Helper()
	b := make([]byte, len(s)/2)
	for i := range b {
		n, err := strconv.ParseUint(s[2*i:2*i+2], 16, 8)
		if err != nil {
			t.Fatalf("bad hex %q", s)
		}
		b[i] = byte(n)
	}
	return b
}
