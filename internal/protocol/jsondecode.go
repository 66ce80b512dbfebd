package protocol

import (
	"math"
	"reflect"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeJSON fills input, a pointer to a generated structure, from an
// awsJson request body.
//
// It is a small recursive-descent parser that binds straight into the
// structure through its cached plan: no intermediate map, no encoding/json
// token allocations, and full control over limits and error messages.
// Unknown members are validated and skipped; null means absent; an empty
// body is {}.
func decodeJSON(body []byte, input any) error {
	v, s, err := structOf(input)
	if err != nil {
		return err
	}
	d := jsonDecoder{data: body}
	d.skipSpace()
	if d.pos == len(d.data) {
		return nil // "Server implementations MUST also accept empty request bodies"
	}
	if d.data[d.pos] != '{' {
		if found := foundJSON(d.data[d.pos]); found != "" {
			return serr("expected a JSON object, found %s", found)
		}
		return d.syntax("invalid character")
	}
	if e := d.object(s, v); e != nil {
		return e
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return d.syntax("unexpected data after the top-level object")
	}
	return nil
}

type jsonDecoder struct {
	data  []byte
	pos   int
	depth int
	buf   []byte // scratch for strings that need unescaping
}

func (d *jsonDecoder) syntax(msg string) *SerializationError {
	return serr("invalid JSON at offset %d: %s", d.pos, msg)
}

func (d *jsonDecoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte without consuming it.
func (d *jsonDecoder) peek() (byte, *SerializationError) {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return 0, d.syntax("unexpected end of input")
	}
	return d.data[d.pos], nil
}

func (d *jsonDecoder) enter() *SerializationError {
	d.depth++
	if d.depth > MaxDepth {
		return serr("nesting exceeds %d levels", MaxDepth)
	}
	return nil
}

func (d *jsonDecoder) literal(word string) *SerializationError {
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		return d.syntax("invalid literal")
	}
	d.pos += len(word)
	return nil
}

// foundJSON names the kind of JSON value that starts with c, or "" when no
// value can start with it.
func foundJSON(c byte) string {
	switch {
	case c == '"':
		return "a string"
	case c == '{':
		return "an object"
	case c == '[':
		return "a list"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == '-' || isDigit(c):
		return "a number"
	case c == 'n':
		return "null" // only a top-level null gets here: members treat it as absent
	default:
		return ""
	}
}

func (d *jsonDecoder) mismatch(want kind) *SerializationError {
	found := foundJSON(d.data[d.pos])
	if found == "" {
		return d.syntax("invalid character")
	}
	return serr("expected %s, found %s", want, found)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// value decodes one JSON value into v, which has plan s.
func (d *jsonDecoder) value(s *shape, v reflect.Value) *SerializationError {
	c, e := d.peek()
	if e != nil {
		return e
	}
	if c == 'n' {
		if e := d.literal("null"); e != nil {
			return e
		}
		// null is absent: clear what an earlier duplicate may have set.
		if s.kind == kindPtr || s.kind == kindList {
			v.SetZero()
		}
		return nil
	}
	switch s.kind {
	case kindPtr:
		p := reflect.New(s.elem.typ)
		if e := d.value(s.elem, p.Elem()); e != nil {
			return e
		}
		v.Set(p)
	case kindString:
		if c != '"' {
			return d.mismatch(s.kind)
		}
		b, e := d.str()
		if e != nil {
			return e
		}
		v.SetString(string(b))
	case kindBool:
		switch c {
		case 't':
			if e := d.literal("true"); e != nil {
				return e
			}
			v.SetBool(true)
		case 'f':
			if e := d.literal("false"); e != nil {
				return e
			}
			v.SetBool(false)
		default:
			return d.mismatch(s.kind)
		}
	case kindInt32, kindInt64:
		if c != '-' && !isDigit(c) {
			return d.mismatch(s.kind)
		}
		n, e := d.integer(s.kind)
		if e != nil {
			return e
		}
		v.SetInt(n)
	case kindFloat64:
		f, e := d.float(c)
		if e != nil {
			return e
		}
		v.SetFloat(f)
	case kindTime:
		if c != '-' && !isDigit(c) {
			return d.mismatch(s.kind)
		}
		ms, e := d.epochMillis()
		if e != nil {
			return e
		}
		setTime(v, millisTime(ms))
	case kindStruct:
		if c != '{' {
			return d.mismatch(s.kind)
		}
		return d.object(s, v)
	case kindList:
		if c != '[' {
			return d.mismatch(s.kind)
		}
		return d.array(s, v)
	}
	return nil
}

// object decodes a JSON object into the structure v. s may be nil to skip
// every member.
func (d *jsonDecoder) object(s *shape, v reflect.Value) *SerializationError {
	if e := d.enter(); e != nil {
		return e
	}
	d.pos++ // '{'
	if c, e := d.peek(); e != nil {
		return e
	} else if c == '}' {
		d.pos++
		d.depth--
		return nil
	}
	for n := 1; ; n++ {
		if n > MaxElements {
			return serr("an object has more than %d members", MaxElements)
		}
		if c, e := d.peek(); e != nil {
			return e
		} else if c != '"' {
			return d.syntax("expected a member name")
		}
		key, e := d.str()
		if e != nil {
			return e
		}
		if c, e := d.peek(); e != nil {
			return e
		} else if c != ':' {
			return d.syntax("expected ':' after a member name")
		}
		d.pos++
		var f *field
		if s != nil {
			f = s.byName[string(key)] // no allocation: the compiler keys the lookup on the bytes
		}
		if f == nil {
			if e := d.skip(); e != nil {
				return e
			}
		} else if e := d.value(f.shape, v.Field(f.index)); e != nil {
			return e.under(f.name)
		}
		c, e := d.peek()
		if e != nil {
			return e
		}
		switch c {
		case ',':
			d.pos++
		case '}':
			d.pos++
			d.depth--
			return nil
		default:
			return d.syntax("expected ',' or '}' after a member")
		}
	}
}

// array decodes a JSON array into the slice v, which is present (non-nil)
// afterwards even when the array is empty.
func (d *jsonDecoder) array(s *shape, v reflect.Value) *SerializationError {
	if e := d.enter(); e != nil {
		return e
	}
	d.pos++ // '['
	v.Set(reflect.MakeSlice(s.typ, 0, 0))
	if c, e := d.peek(); e != nil {
		return e
	} else if c == ']' {
		d.pos++
		d.depth--
		return nil
	}
	for n := 0; ; n++ {
		if n >= MaxElements {
			return serr("a list has more than %d items", MaxElements)
		}
		c, e := d.peek()
		if e != nil {
			return e
		}
		if c == 'n' {
			// Lists in these models are dense: a null item has no meaning.
			return serr("null is not allowed in a list").under(indexPath(n))
		}
		if n == v.Cap() {
			v.Grow(1)
		}
		v.SetLen(n + 1)
		if e := d.value(s.elem, v.Index(n)); e != nil {
			return e.under(indexPath(n))
		}
		if c, e = d.peek(); e != nil {
			return e
		}
		switch c {
		case ',':
			d.pos++
		case ']':
			d.pos++
			d.depth--
			return nil
		default:
			return d.syntax("expected ',' or ']' after a list item")
		}
	}
}

func indexPath(i int) string { return "[" + strconv.Itoa(i) + "]" }

// skip validates and discards one value of any type.
func (d *jsonDecoder) skip() *SerializationError {
	c, e := d.peek()
	if e != nil {
		return e
	}
	switch {
	case c == '"':
		_, e := d.str()
		return e
	case c == '{':
		return d.object(nil, reflect.Value{})
	case c == '[':
		return d.skipArray()
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	case c == '-' || isDigit(c):
		_, _, e := d.number()
		return e
	default:
		return d.syntax("invalid character")
	}
}

func (d *jsonDecoder) skipArray() *SerializationError {
	if e := d.enter(); e != nil {
		return e
	}
	d.pos++ // '['
	if c, e := d.peek(); e != nil {
		return e
	} else if c == ']' {
		d.pos++
		d.depth--
		return nil
	}
	for n := 1; ; n++ {
		if n > MaxElements {
			return serr("a list has more than %d items", MaxElements)
		}
		if e := d.skip(); e != nil {
			return e
		}
		c, e := d.peek()
		if e != nil {
			return e
		}
		switch c {
		case ',':
			d.pos++
		case ']':
			d.pos++
			d.depth--
			return nil
		default:
			return d.syntax("expected ',' or ']' after a list item")
		}
	}
}

// number scans a JSON number and returns its text, and whether it is
// written as an integer (no fraction, no exponent).
func (d *jsonDecoder) number() (lit []byte, integral bool, e *SerializationError) {
	data, i := d.data, d.pos
	digits := func() bool {
		start := i
		for i < len(data) && isDigit(data[i]) {
			i++
		}
		return i > start
	}
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case !digits():
		return nil, false, d.syntax("invalid number")
	}
	integral = true
	if i < len(data) && data[i] == '.' {
		integral = false
		i++
		if !digits() {
			return nil, false, d.syntax("invalid number")
		}
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		integral = false
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		if !digits() {
			return nil, false, d.syntax("invalid number")
		}
	}
	lit, d.pos = data[d.pos:i], i
	return lit, integral, nil
}

// integer reads a number for an Integer or Long member. JSON does not tell
// 1 from 1.0, so a number written with a fraction or exponent is accepted
// when its value is a whole number in range.
func (d *jsonDecoder) integer(k kind) (int64, *SerializationError) {
	lit, integral, e := d.number()
	if e != nil {
		return 0, e
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if k == kindInt32 {
		lo, hi = math.MinInt32, math.MaxInt32
	}
	if integral {
		n, ok := parseInteger(lit, lo, hi)
		if !ok {
			return 0, serr("integer out of range")
		}
		return n, nil
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		return 0, serr("integer out of range")
	}
	if f != math.Trunc(f) {
		return 0, serr("expected an integer, found a number with a fraction")
	}
	// float64(hi) rounds up to 2^63 for int64, hence >=.
	if f < float64(lo) || f >= float64(hi)+1 {
		return 0, serr("integer out of range")
	}
	return int64(f), nil
}

// parseInteger parses an integer literal (already validated by number)
// without allocating, failing when it lies outside [lo, hi].
func parseInteger(lit []byte, lo, hi int64) (int64, bool) {
	neg := lit[0] == '-'
	if neg {
		lit = lit[1:]
	}
	limit := uint64(hi)
	if neg {
		limit = uint64(-(lo + 1)) + 1
	}
	var u uint64
	for _, c := range lit {
		dgt := uint64(c - '0')
		if u > (limit-dgt)/10 {
			return 0, false
		}
		u = u*10 + dgt
	}
	if neg {
		return -int64(u-1) - 1, true // avoids overflowing on MinInt64
	}
	return int64(u), true
}

// float reads a Double member: a number, or one of the strings the
// awsJson protocols use for the values JSON cannot write.
func (d *jsonDecoder) float(c byte) (float64, *SerializationError) {
	if c == '"' {
		b, e := d.str()
		if e != nil {
			return 0, e
		}
		switch string(b) {
		case "NaN":
			return math.NaN(), nil
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
		return 0, serr(`expected a number, found a string other than "NaN", "Infinity" or "-Infinity"`)
	}
	if c != '-' && !isDigit(c) {
		return 0, d.mismatch(kindFloat64)
	}
	lit, _, e := d.number()
	if e != nil {
		return 0, e
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		return 0, serr("number out of range")
	}
	return f, nil
}

// epochMillis reads a timestamp in epoch seconds: botocore sends integers,
// the Go SDK floats with millisecond precision.
func (d *jsonDecoder) epochMillis() (int64, *SerializationError) {
	lit, integral, e := d.number()
	if e != nil {
		return 0, e
	}
	if integral {
		secs, ok := parseInteger(lit, minEpochSeconds, maxEpochSeconds)
		if !ok {
			return 0, serr("timestamp out of range")
		}
		return secs * 1000, nil
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		return 0, serr("timestamp out of range")
	}
	return secondsToMillis(f)
}

// str reads a JSON string starting at its opening quote. The bytes alias
// the input when nothing needed unescaping, and the decoder's scratch
// buffer otherwise: copy them before the next call.
func (d *jsonDecoder) str() ([]byte, *SerializationError) {
	start := d.pos + 1
	for i := start; i < len(d.data); i++ {
		c := d.data[i]
		if c == '"' {
			d.pos = i + 1
			return d.data[start:i], nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			return d.strSlow(start, i)
		}
	}
	d.pos = len(d.data)
	return nil, d.syntax("unterminated string")
}

// strSlow finishes a string that has escapes, control characters or
// non-ASCII bytes.
//
// Raw bytes that are not UTF-8 are refused: JSON text must be UTF-8
// (RFC 8259 §8.1), the CBOR codec refuses invalid text strings too, and
// repairing them as encoding/json does would store a value the client never
// sent. An escaped lone surrogate (\ud800) is well-formed JSON that a
// JavaScript or Python client can produce from its own strings; it becomes
// U+FFFD, as in encoding/json.
func (d *jsonDecoder) strSlow(start, i int) ([]byte, *SerializationError) {
	buf := append(d.buf[:0], d.data[start:i]...)
	defer func() { d.buf = buf[:0] }() // keep the grown buffer for the next string
	data := d.data
	for i < len(data) {
		c := data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return buf, nil
		case c == '\\':
			d.pos = i
			if i+1 >= len(data) {
				return nil, d.syntax("unterminated string")
			}
			esc := data[i+1]
			i += 2
			switch esc {
			case '"', '\\', '/':
				buf = append(buf, esc)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := hex4(data[i:])
				if !ok {
					return nil, d.syntax("invalid \\u escape")
				}
				i += 4
				if utf16.IsSurrogate(r) {
					// A high surrogate must pair with a following low one.
					r2, ok := rune(-1), false
					if len(data)-i >= 6 && data[i] == '\\' && data[i+1] == 'u' {
						r2, ok = hex4(data[i+2:])
					}
					if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				buf = utf8.AppendRune(buf, r)
			default:
				return nil, d.syntax("invalid escape")
			}
		case c < 0x20:
			d.pos = i
			return nil, d.syntax("control character in string")
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			i++
		default:
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size == 1 {
				d.pos = i
				return nil, serr("invalid UTF-8 at offset %d", i)
			}
			buf = append(buf, data[i:i+size]...)
			i += size
		}
	}
	d.pos = len(data)
	return nil, d.syntax("unterminated string")
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
