package inventory

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"time"

	"github.com/orgstack/orgstack/internal/clock"
	"github.com/orgstack/orgstack/internal/store"
)

// Admin serves the inventory's admin endpoints.
type Admin struct {
	Store store.Store
	Clock clock.Clock
}

// Routes are the endpoints, for server.Options.AdminRoutes.
func (a *Admin) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		"POST /_orgstack/inventory/ebs-volumes":  http.HandlerFunc(a.addVolumes),
		"GET /_orgstack/inventory/ebs-volumes":   http.HandlerFunc(a.listVolumes),
		"GET /_orgstack/inventory/ebs-snapshots": http.HandlerFunc(a.listSnapshots),
		"POST /_orgstack/inventory/generate":     http.HandlerFunc(a.generate),
	}
}

// VolumeSpec is a volume to add, as the admin API takes it.
type VolumeSpec struct {
	AccountID       string            `json:"accountId"`
	Region          string            `json:"region"`
	VolumeID        string            `json:"volumeId,omitempty"`
	VolumeType      string            `json:"volumeType"`
	SizeGiB         int32             `json:"sizeInGib"`
	IOPS            int32             `json:"iops,omitempty"`
	Throughput      int32             `json:"throughput,omitempty"`
	Attached        bool              `json:"attached"`
	UnattachedSince *time.Time        `json:"unattachedSince,omitempty"`
	Tags            map[string]string `json:"tags,omitempty"`
	FailStep        string            `json:"failStep,omitempty"`
}

var (
	accountRE  = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE   = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
	volumeIDRE = regexp.MustCompile(`^vol-[0-9a-f]{17}$`)
)

// sizeLimits are the sizes EBS allows per type, in GiB.
var sizeLimits = map[string][2]int32{
	"gp2": {1, 16384}, "gp3": {1, 16384}, "io1": {4, 16384}, "io2": {4, 65536},
	"st1": {125, 16384}, "sc1": {125, 16384}, "standard": {1, 1024},
}

// Volume checks a spec and turns it into a volume at now.
func (s VolumeSpec) Volume(now time.Time) (*Volume, error) {
	if !accountRE.MatchString(s.AccountID) {
		return nil, fmt.Errorf("accountId %q is not a 12-digit account id", s.AccountID)
	}
	if !regionRE.MatchString(s.Region) {
		return nil, fmt.Errorf("region %q is not a Region name", s.Region)
	}
	lim, ok := sizeLimits[s.VolumeType]
	if !ok {
		return nil, fmt.Errorf("volumeType %q is not an EBS volume type (gp2, gp3, io1, io2, st1, sc1, standard)", s.VolumeType)
	}
	if s.SizeGiB < lim[0] || s.SizeGiB > lim[1] {
		return nil, fmt.Errorf("sizeInGib %d is outside %d-%d for %s", s.SizeGiB, lim[0], lim[1], s.VolumeType)
	}
	if s.IOPS < 0 || s.Throughput < 0 {
		return nil, errors.New("iops and throughput cannot be negative")
	}
	if s.FailStep != "" && !slices.Contains(Steps, s.FailStep) {
		return nil, fmt.Errorf("failStep %q is not one of %v", s.FailStep, Steps)
	}
	if s.UnattachedSince != nil && (s.Attached || s.UnattachedSince.After(now)) {
		return nil, errors.New("unattachedSince applies to unattached volumes and cannot be in the future")
	}
	v := &Volume{
		AccountID: s.AccountID, Region: s.Region, ID: s.VolumeID, Type: s.VolumeType,
		SizeGiB: s.SizeGiB, Tags: s.Tags, FailStep: s.FailStep, Created: now,
	}
	if v.ID == "" {
		v.ID = NewVolumeID()
	} else if !volumeIDRE.MatchString(v.ID) {
		return nil, fmt.Errorf("volumeId %q is not vol- and 17 hexadecimal digits", v.ID)
	}
	v.IOPS, v.Throughput = BaselinePerformance(v.Type, v.SizeGiB)
	if s.IOPS > 0 {
		v.IOPS = s.IOPS
	}
	if s.Throughput > 0 {
		v.Throughput = s.Throughput
	}
	v.State = StateInUse
	if !s.Attached {
		v.State, v.UnattachedSince = StateAvailable, now
		if s.UnattachedSince != nil {
			v.UnattachedSince = s.UnattachedSince.UTC()
		}
	}
	return v, nil
}

func (a *Admin) addVolumes(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Volumes []VolumeSpec `json:"volumes"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	now := a.Clock.Now()
	vols := make([]*Volume, len(in.Volumes))
	for i, s := range in.Volumes {
		v, err := s.Volume(now)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("volumes[%d]: %v", i, err))
			return
		}
		vols[i] = v
	}
	err := a.Store.Write(r.Context(), func(tx store.Tx) error {
		for _, v := range vols {
			if err := CreateVolume(tx, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		writeError(w, http.StatusConflict, err.Error())
		return
	}
	ids := make([]string, len(vols))
	for i, v := range vols {
		ids[i] = v.ID
	}
	writeJSON(w, http.StatusOK, map[string]any{"volumeIds": ids})
}

func (a *Admin) listVolumes(w http.ResponseWriter, r *http.Request) {
	account, region := r.URL.Query().Get("accountId"), r.URL.Query().Get("region")
	if !accountRE.MatchString(account) {
		writeError(w, http.StatusBadRequest, "accountId is required: a 12-digit account id")
		return
	}
	out := []*Volume{}
	err := a.Store.Read(r.Context(), func(tx store.Tx) error {
		out = out[:0]
		return ScanVolumes(tx, account, region, "", func(v *Volume) error {
			out = append(out, v)
			return nil
		})
	})
	if err != nil {
		writeError(w, http.StatusInternalServerError, "reading volumes")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"volumes": out})
}

func (a *Admin) listSnapshots(w http.ResponseWriter, r *http.Request) {
	account := r.URL.Query().Get("accountId")
	if !accountRE.MatchString(account) {
		writeError(w, http.StatusBadRequest, "accountId is required: a 12-digit account id")
		return
	}
	out := []*Snapshot{}
	err := a.Store.Read(r.Context(), func(tx store.Tx) error {
		out = out[:0]
		return ScanSnapshots(tx, account, func(s *Snapshot) error {
			out = append(out, s)
			return nil
		})
	})
	if err != nil {
		writeError(w, http.StatusInternalServerError, "reading snapshots")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"snapshots": out})
}

func (a *Admin) generate(w http.ResponseWriter, r *http.Request) {
	var in GenerateSpec
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	vols, err := Generate(in, a.Clock.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	err = a.Store.Write(r.Context(), func(tx store.Tx) error {
		for _, v := range vols {
			if err := CreateVolume(tx, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		writeError(w, http.StatusConflict, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"volumes": len(vols)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
