// Package inventory is orgstack's simulated EC2 estate that Compute
// Optimizer Automation looks at and acts on: EBS volumes and snapshots per
// account and Region, kept in the store, with EBS list prices. It has no
// AWS API of its own; the admin API seeds and shows it.
package inventory

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/orgstack/orgstack/internal/idgen"
	"github.com/orgstack/orgstack/internal/store"
)

// Volumes are stored under account and Region so that the volumes of one
// account (and Region) are one range scan, the shape every Automation
// listing reads; the id index finds a volume from its id alone.
const (
	bucketVolumes   = "inv.volumes"    // account/region/volume id -> Volume
	bucketVolumeIDs = "inv.volume-ids" // volume id -> account/region
	bucketSnapshots = "inv.snapshots"  // account/region/snapshot id -> Snapshot
	bucketSnapIDs   = "inv.snapshot-ids"
)

// Volume states (EC2 DescribeVolumes, reduced to what Automation needs).
const (
	StateAvailable = "available"
	StateInUse     = "in-use"
	StateDeleted   = "deleted"
)

// Step names a volume's FailStep can hold (the Automation StepType values).
var Steps = []string{"CreateEbsSnapshot", "DeleteEbsVolume", "ModifyEbsVolume", "CreateEbsVolume"}

// Volume is one simulated EBS volume.
type Volume struct {
	AccountID  string            `json:"accountId"`
	Region     string            `json:"region"`
	ID         string            `json:"volumeId"`
	Type       string            `json:"volumeType"`
	SizeGiB    int32             `json:"sizeInGib"`
	IOPS       int32             `json:"iops,omitempty"`
	Throughput int32             `json:"throughput,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
	State      string            `json:"state"`
	// UnattachedSince is when the volume was last detached (or created,
	// if never attached); zero while attached.
	UnattachedSince time.Time `json:"unattachedSince,omitzero"`
	Created         time.Time `json:"created"`
	DeletedAt       time.Time `json:"deletedAt,omitzero"`
	// Modifications are the times of Elastic Volumes changes, for EBS's
	// limit of four per volume in any 24 hours.
	Modifications []time.Time `json:"modifications,omitempty"`
	// SourceSnapshot is the snapshot a restored volume was created from.
	SourceSnapshot string `json:"sourceSnapshot,omitempty"`
	// FailStep makes that Automation step fail on this volume, so that
	// tests can exercise failures.
	FailStep string `json:"failStep,omitempty"`
	// EventID is the Automation event acting on the volume right now;
	// a volume under way has no recommended actions.
	EventID string `json:"eventId,omitempty"`
}

// ARN is the volume's EC2 resource ARN.
func (v *Volume) ARN() string {
	return "arn:aws:ec2:" + v.Region + ":" + v.AccountID + ":volume/" + v.ID
}

// Attached reports whether the volume is attached to an instance.
func (v *Volume) Attached() bool { return v.State == StateInUse }

func (v *Volume) key() string { return v.AccountID + "/" + v.Region + "/" + v.ID }

// Snapshot is one simulated EBS snapshot.
type Snapshot struct {
	AccountID  string            `json:"accountId"`
	Region     string            `json:"region"`
	ID         string            `json:"snapshotId"`
	VolumeID   string            `json:"volumeId"`
	VolumeType string            `json:"volumeType"`
	SizeGiB    int32             `json:"sizeInGib"`
	IOPS       int32             `json:"iops,omitempty"`
	Throughput int32             `json:"throughput,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
	// VolumeTags are the user tags of the volume at snapshot time, given
	// back to a volume restored from it.
	VolumeTags map[string]string `json:"volumeTags,omitempty"`
	State      string            `json:"state"` // completed | deleted
	Created    time.Time         `json:"created"`
}

func (s *Snapshot) key() string { return s.AccountID + "/" + s.Region + "/" + s.ID }

// ModificationsSince counts the volume's modifications after t.
func (v *Volume) ModificationsSince(t time.Time) int {
	n := 0
	for _, m := range v.Modifications {
		if m.After(t) {
			n++
		}
	}
	return n
}

// NewVolumeID and NewSnapshotID make ids in AWS's current long form:
// the prefix and 17 hexadecimal digits.
func NewVolumeID() string   { return "vol-" + idgen.String("0123456789abcdef", 17) }
func NewSnapshotID() string { return "snap-" + idgen.String("0123456789abcdef", 17) }

// ErrNotFound is returned for an unknown volume or snapshot.
var ErrNotFound = errors.New("inventory: not found")

// PutVolume stores a change of a volume that CreateVolume made (its
// indexes stay as they are: a volume never moves).
func PutVolume(tx store.Tx, v *Volume) error {
	if err := store.PutJSON(tx, bucketVolumes, v.key(), v); err != nil {
		return fmt.Errorf("inventory: put volume %s: %w", v.ID, err)
	}
	return nil
}

// CreateVolume stores a new volume; a volume id in use is an error.
func CreateVolume(tx store.Tx, v *Volume) error {
	if err := tx.Create(bucketVolumeIDs, v.ID, []byte(v.AccountID+"/"+v.Region)); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("inventory: volume id %s is in use", v.ID)
		}
		return err
	}
	if err := tx.Put(bucketDigests, Digest(v.AccountID, v.Region, v.ID), []byte(v.ID)); err != nil {
		return err
	}
	return store.PutJSON(tx, bucketVolumes, v.key(), v)
}

// GetVolume finds a volume by id.
func GetVolume(tx store.Tx, id string) (*Volume, error) {
	loc, err := tx.Get(bucketVolumeIDs, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return store.GetJSON[Volume](tx, bucketVolumes, string(loc)+"/"+id)
}

// ScanVolumes calls fn for the account's volumes in (region, id) order,
// only in region unless it is empty, starting after the given
// "region/volume id" position ("" for the start). fn may return
// store.ErrStop.
func ScanVolumes(tx store.Tx, account, region, after string, fn func(*Volume) error) error {
	prefix := account + "/"
	if region != "" {
		prefix += region + "/"
	}
	if after != "" {
		after = account + "/" + after
	}
	return store.ScanJSON(tx, bucketVolumes, prefix, after, 0, func(_ string, v *Volume) error {
		return fn(v)
	})
}

// ScanVolumesWhere is ScanVolumes that decodes only the volumes whose
// stored JSON passes keep: a cheap look at the raw record lets a caller
// that wants few of them skip the cost of decoding the rest. keep may
// answer true for a volume it does not want (fn then sees it), never
// false for one it wants.
func ScanVolumesWhere(tx store.Tx, account, region, after string, keep func(raw []byte) bool, fn func(*Volume) error) error {
	prefix := account + "/"
	if region != "" {
		prefix += region + "/"
	}
	if after != "" {
		after = account + "/" + after
	}
	return tx.Scan(bucketVolumes, prefix, after, 0, func(key string, raw []byte) error {
		if !keep(raw) {
			return nil
		}
		v := new(Volume)
		if err := json.Unmarshal(raw, v); err != nil {
			return fmt.Errorf("inventory: decode volume %s: %w", key, err)
		}
		return fn(v)
	})
}

// PutSnapshot stores a snapshot, new or changed.
func PutSnapshot(tx store.Tx, s *Snapshot) error {
	if err := store.PutJSON(tx, bucketSnapshots, s.key(), s); err != nil {
		return fmt.Errorf("inventory: put snapshot %s: %w", s.ID, err)
	}
	return tx.Put(bucketSnapIDs, s.ID, []byte(s.AccountID+"/"+s.Region))
}

// GetSnapshot finds a snapshot by id.
func GetSnapshot(tx store.Tx, id string) (*Snapshot, error) {
	loc, err := tx.Get(bucketSnapIDs, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return store.GetJSON[Snapshot](tx, bucketSnapshots, string(loc)+"/"+id)
}

// ScanSnapshots calls fn for the account's snapshots in (region, id) order.
func ScanSnapshots(tx store.Tx, account string, fn func(*Snapshot) error) error {
	return store.ScanJSON(tx, bucketSnapshots, account+"/", "", 0, func(_ string, s *Snapshot) error {
		return fn(s)
	})
}

// BaselinePerformance is the IOPS and throughput (MiB/s) a volume type
// gives a size without provisioning: gp2 3 IOPS per GiB between 100 and
// 16,000 and 128 MiB/s up to 170 GiB, 250 above; gp3 3,000 and 125; io1
// and io2 a default of 3,000 provisioned IOPS; HDD types report none.
func BaselinePerformance(volumeType string, sizeGiB int32) (iops, throughput int32) {
	switch volumeType {
	case "gp2":
		iops = min(max(3*sizeGiB, 100), 16000)
		throughput = 128
		if sizeGiB > 170 {
			throughput = 250
		}
	case "gp3":
		iops, throughput = gp3FreeIOPS, gp3FreeThroughput
	case "io1", "io2":
		iops = 3000
	}
	return iops, throughput
}
