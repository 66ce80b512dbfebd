package organizations

import "strings"

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
