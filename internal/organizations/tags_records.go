package organizations

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	api "github.com/orgstack/orgstack/internal/api/organizations"
)

// bucketTags holds the tags of every taggable resource (account, root, OU,
// policy): resource id + "/" + tag key -> tag value. A resource's tags are
// one range scan, in key order.
const bucketTags = "org.tags"

type tag struct{ Key, Value string }

func (r repo) tags(resourceID string) ([]tag, error) {
	var out []tag
	err := r.tx.Scan(bucketTags, resourceID+"/", "", 0, func(key string, value []byte) error {
		out = append(out, tag{Key: strings.TrimPrefix(key, resourceID+"/"), Value: string(value)})
		return nil
	})
	return out, err
}

func (r repo) putTag(resourceID string, t tag) error {
	return r.tx.Put(bucketTags, resourceID+"/"+t.Key, []byte(t.Value))
}

func (r repo) deleteTag(resourceID, key string) error {
	return r.tx.Delete(bucketTags, resourceID+"/"+key)
}

// deleteTags removes every tag of a resource, as removal from an
// organization does to an account's tags.
func (r repo) deleteTags(resourceID string) error {
	_, err := r.tx.DeletePrefix(bucketTags, resourceID+"/")
	return err
}

func (r repo) tagCount(resourceID string) (int, error) {
	return r.tx.Count(bucketTags, resourceID+"/")
}

// tagCharset is the model's TagKey/TagValue pattern, anchored here so that
// the whole key or value must match.
var tagCharset = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

// validateTags checks tags that a request would put on a resource which
// already has the tags in existing (nil for a new resource), the way every
// tagging operation does (TagResource, CreateAccount,
// CreateOrganizationalUnit, InviteAccountToOrganization, CreatePolicy): the
// model's key and value constraints, no key twice in one request
// (DUPLICATE_TAG_KEY), no key in the aws: namespace reserved for AWS
// (INVALID_SYSTEM_TAGS_PARAMETER), and at most limit tags on the resource
// afterwards (MAX_TAG_LIMIT_EXCEEDED). Any failure refuses the whole request.
func validateTags(in []api.Tag, existing []tag, limit int) error {
	has := make(map[string]bool, len(existing))
	for _, t := range existing {
		has[t.Key] = true
	}
	seen := make(map[string]bool, len(in))
	added := 0
	for _, t := range in {
		if t.Key == nil || t.Value == nil {
			return invalidInput(api.InvalidInputExceptionReasonInputRequired, "Every tag needs a key and a value; the value may be empty but not null.")
		}
		k, v := *t.Key, *t.Value
		switch n := utf8.RuneCountInString(k); {
		case n < 1:
			return invalidInput(api.InvalidInputExceptionReasonMinLengthExceeded, "A tag key must not be empty.")
		case n > 128:
			return invalidInput(api.InvalidInputExceptionReasonMaxLengthExceeded, "A tag key can be at most 128 characters long.")
		}
		if utf8.RuneCountInString(v) > 256 {
			return invalidInput(api.InvalidInputExceptionReasonMaxLengthExceeded, "A tag value can be at most 256 characters long.")
		}
		if !tagCharset.MatchString(k) || !tagCharset.MatchString(v) {
			return invalidInput(api.InvalidInputExceptionReasonInvalidPattern, "Tag keys and values may hold only letters, digits, spaces and the characters _ . : / = + - @.")
		}
		if err := checkSystemTagKey(k); err != nil {
			return err
		}
		if seen[k] {
			return invalidInput(api.InvalidInputExceptionReasonDuplicateTagKey, fmt.Sprintf("The tag key %q appears more than once in the request.", k))
		}
		seen[k] = true
		if !has[k] {
			added++
		}
	}
	if len(existing)+added > limit {
		e := api.NewConstraintViolationException(fmt.Sprintf("A resource can have at most %d tags.", limit))
		e.Reason = ptr(api.ConstraintViolationExceptionReasonMaxTagLimitExceeded)
		return e
	}
	return nil
}

// checkSystemTagKey refuses keys in the aws: namespace, which only AWS
// may add, change or remove.
func checkSystemTagKey(k string) error {
	if strings.HasPrefix(strings.ToLower(k), "aws:") {
		return invalidInput(api.InvalidInputExceptionReasonInvalidSystemTagsParameter, fmt.Sprintf("The tag key %q is in the aws: namespace reserved for AWS.", k))
	}
	return nil
}

func invalidInput(reason api.InvalidInputExceptionReason, msg string) error {
	e := api.NewInvalidInputException(msg)
	e.Reason = ptr(reason)
	return e
}

// putTags stores validated tags on a resource, replacing the values of
// keys it already has.
func (r repo) putTags(resourceID string, in []api.Tag) error {
	for _, t := range in {
		if err := r.putTag(resourceID, tag{Key: *t.Key, Value: *t.Value}); err != nil {
			return err
		}
	}
	return nil
}
