package protocol

import (
	"math"
	"reflect"
	"strconv"
	"time"
	"unicode/utf8"
)

// The JSON encoder appends straight into a byte slice from the cached plan:
// members in struct order, absent members (nil pointers, nil slices)
// omitted, timestamps as epoch seconds with millisecond precision, and the
// non-finite doubles as the strings the awsJson protocols define.

func appendJSONStruct(b []byte, s *shape, v reflect.Value) []byte {
	b = append(b, '{')
	b = appendJSONMembers(b, s, v, false)
	return append(b, '}')
}

// appendJSONMembers writes the present members of v; comma says whether
// something precedes them inside the object (an error's __type).
func appendJSONMembers(b []byte, s *shape, v reflect.Value, comma bool) []byte {
	for i := range s.fields {
		f := &s.fields[i]
		fv := v.Field(f.index)
		if !present(f.shape, fv) {
			continue
		}
		if comma {
			b = append(b, ',')
		}
		comma = true
		b = append(b, f.jsonKey...)
		b = appendJSONValue(b, f.shape, fv)
	}
	return b
}

func appendJSONValue(b []byte, s *shape, v reflect.Value) []byte {
	switch s.kind {
	case kindPtr:
		if v.IsNil() {
			// Only reachable for a nil item in a []*T, which the models
			// do not produce; null is the one faithful rendering.
			return append(b, "null"...)
		}
		return appendJSONValue(b, s.elem, v.Elem())
	case kindString:
		return appendJSONString(b, v.String())
	case kindBool:
		return strconv.AppendBool(b, v.Bool())
	case kindInt32, kindInt64:
		return strconv.AppendInt(b, v.Int(), 10)
	case kindFloat64:
		return appendJSONFloat(b, v.Float())
	case kindTime:
		return appendEpochSeconds(b, timeOf(v))
	case kindStruct:
		return appendJSONStruct(b, s, v)
	case kindList:
		b = append(b, '[')
		for i := range v.Len() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONValue(b, s.elem, v.Index(i))
		}
		return append(b, ']')
	}
	return b
}

// appendEpochSeconds writes a timestamp as epoch seconds rounded to the
// millisecond, e.g. 1515531081.123, or 1515531081 for a whole second.
// The shortest float formatting of ms/1e3 prints at most three decimals
// because every timestamp in range has fewer than 16 significant digits.
func appendEpochSeconds(b []byte, t time.Time) []byte {
	return strconv.AppendFloat(b, float64(epochMillis(t))/1e3, 'f', -1, 64)
}

// appendJSONFloat writes a double the way ECMAScript and encoding/json do
// (no exponent between 1e-6 and 1e21), and NaN/±Inf as strings.
func appendJSONFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// Shorten e-07 to e-7, as encoding/json does.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// and U+2028/U+2029 are escaped so that the output is also valid JavaScript.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
