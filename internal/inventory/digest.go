package inventory

import (
	"crypto/sha256"
	"errors"

	"github.com/orgstack/orgstack/internal/store"
)

// bucketDigests finds a volume from its digest: digest -> volume id.
// Automation builds its recommended action ids from the digest, so that
// an id is stable for as long as the volume exists and can be resolved
// without scanning the fleet.
const bucketDigests = "inv.volume-digests"

// DigestLen is the length of a volume digest.
const DigestLen = 14

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Digest is a short, stable, alphanumeric name of a volume derived from
// its account, Region and id (14 base-62 digits, about 83 bits).
func Digest(account, region, volumeID string) string {
	sum := sha256.Sum256([]byte("orgstack/ebs-volume/" + account + "/" + region + "/" + volumeID))
	out := make([]byte, DigestLen)
	for i := range out {
		out[i] = base62[int(sum[i])%62]
	}
	return string(out)
}

// VolumeByDigest resolves a digest to its volume.
func VolumeByDigest(tx store.Tx, digest string) (*Volume, error) {
	id, err := tx.Get(bucketDigests, digest)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return GetVolume(tx, string(id))
}
