package model

import (
	"bytes"
	"io"
	"strings"
	"unicode"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// exported turns a model name into an exported Go identifier.
func exported(name string) string {
	if name == "" {
		return name
	}
	r := []rune(name)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// enumConstName builds the Go constant name for an enum value, e.g.
// InvalidInputExceptionReason + "INVALID_ENUM" -> InvalidInputExceptionReasonInvalidEnum.
func enumConstName(typeName, value string) string {
	var b strings.Builder
	b.WriteString(typeName)
	words := strings.FieldsFunc(value, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	for _, w := range words {
		if isUpperWord(w) {
			w = strings.ToLower(w)
		}
		b.WriteString(exported(w))
	}
	return b.String()
}

// isUpperWord reports whether w has no lower-case letter (SNAKE_CASE parts),
// which are lowered before capitalising; camelCase values keep their humps.
func isUpperWord(w string) bool {
	for _, r := range w {
		if unicode.IsLower(r) {
			return false
		}
	}
	return true
}

// goPattern rewrites an ECMA-262 pattern from the model into RE2 syntax.
// The only construct the models use that RE2 lacks is \uXXXX.
func goPattern(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '\\' && i+1 < len(p) {
			if p[i+1] == 'u' && i+5 < len(p) {
				b.WriteString(`\x{` + p[i+2:i+6] + `}`)
				i += 5
				continue
			}
			b.WriteByte(p[i])
			b.WriteByte(p[i+1])
			i++
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
}
