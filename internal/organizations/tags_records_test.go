package organizations

import (
	"errors"
	"strings"
	"testing"

	api "github.com/orgstack/orgstack/internal/api/organizations"
)

func TestValidateTags(t *testing.T) {
	t.Parallel()
	tg := func(k, v string) api.Tag { return api.Tag{Key: ptr(k), Value: ptr(v)} }
	existing := []tag{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}}
	for _, tc := range []struct {
		name       string
		in         []api.Tag
		existing   []tag
		limit      int
		invalid    api.InvalidInputExceptionReason
		constraint api.ConstraintViolationExceptionReason
	}{
		{name: "fine", in: []api.Tag{tg("env", "prod"), tg("Empty", ""), tg("ünï cödé 1", "_.:/=+-@")}, limit: 50},
		{name: "overwrites do not count", in: []api.Tag{tg("a", "x"), tg("b", "y")}, existing: existing, limit: 2},
		{name: "one too many", in: []api.Tag{tg("a", "x"), tg("c", "y")}, existing: existing, limit: 2, constraint: api.ConstraintViolationExceptionReasonMaxTagLimitExceeded},
		{name: "too many on a new resource", in: []api.Tag{tg("a", "1"), tg("b", "2")}, limit: 1, constraint: api.ConstraintViolationExceptionReasonMaxTagLimitExceeded},
		{name: "duplicate", in: []api.Tag{tg("a", "1"), tg("a", "1")}, limit: 50, invalid: api.InvalidInputExceptionReasonDuplicateTagKey},
		{name: "system key", in: []api.Tag{tg("aws:x", "1")}, limit: 50, invalid: api.InvalidInputExceptionReasonInvalidSystemTagsParameter},
		{name: "system key upper case", in: []api.Tag{tg("Aws:x", "1")}, limit: 50, invalid: api.InvalidInputExceptionReasonInvalidSystemTagsParameter},
		{name: "aws without colon is fine", in: []api.Tag{tg("awsome", "1")}, limit: 50},
		{name: "pattern, key", in: []api.Tag{tg("a#b", "1")}, limit: 50, invalid: api.InvalidInputExceptionReasonInvalidPattern},
		{name: "pattern, value", in: []api.Tag{tg("a", "<script>")}, limit: 50, invalid: api.InvalidInputExceptionReasonInvalidPattern},
		{name: "key of 128 runes", in: []api.Tag{tg(strings.Repeat("é", 128), "")}, limit: 50},
		{name: "key of 129", in: []api.Tag{tg(strings.Repeat("k", 129), "")}, limit: 50, invalid: api.InvalidInputExceptionReasonMaxLengthExceeded},
		{name: "value of 256 runes", in: []api.Tag{tg("k", strings.Repeat("é", 256))}, limit: 50},
		{name: "value of 257", in: []api.Tag{tg("k", strings.Repeat("v", 257))}, limit: 50, invalid: api.InvalidInputExceptionReasonMaxLengthExceeded},
		{name: "empty key", in: []api.Tag{tg("", "v")}, limit: 50, invalid: api.InvalidInputExceptionReasonMinLengthExceeded},
		{name: "null value", in: []api.Tag{{Key: ptr("k")}}, limit: 50, invalid: api.InvalidInputExceptionReasonInputRequired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := validateTags(tc.in, tc.existing, tc.limit)
			var ii *api.InvalidInputException
			var cv *api.ConstraintViolationException
			switch {
			case tc.invalid != "":
				if !errors.As(err, &ii) || *ii.Reason != tc.invalid {
					t.Errorf("err = %v, want InvalidInputException %s", err, tc.invalid)
				}
			case tc.constraint != "":
				if !errors.As(err, &cv) || *cv.Reason != tc.constraint {
					t.Errorf("err = %v, want ConstraintViolationException %s", err, tc.constraint)
				}
			case err != nil:
				t.Errorf("err = %v, want none", err)
			}
		})
	}
}
