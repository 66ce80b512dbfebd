package inventory

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// GenerateSpec asks for a fleet: volumes spread over the accounts and
// Regions, the same fleet for the same seed.
type GenerateSpec struct {
	AccountIDs []string `json:"accountIds"`
	Regions    []string `json:"regions"`
	Volumes    int      `json:"volumes"`
	Seed       uint64   `json:"seed"`
}

// maxGenerate bounds one generate call.
const maxGenerate = 1_000_000

// Generate makes a realistic fleet at now: mostly gp2/gp3, some io1/io2
// and HDD volumes, about a third unattached for up to 120 days, sizes
// skewed small, tags for environment and team. Volume ids come from the
// seed too, so a fleet is reproducible.
func Generate(g GenerateSpec, now time.Time) ([]*Volume, error) {
	if len(g.AccountIDs) == 0 || len(g.Regions) == 0 {
		return nil, errors.New("accountIds and regions must not be empty")
	}
	if g.Volumes < 1 || g.Volumes > maxGenerate {
		return nil, fmt.Errorf("volumes must be 1 to %d", maxGenerate)
	}
	for _, a := range g.AccountIDs {
		if !accountRE.MatchString(a) {
			return nil, fmt.Errorf("accountId %q is not a 12-digit account id", a)
		}
	}
	for _, r := range g.Regions {
		if !regionRE.MatchString(r) {
			return nil, fmt.Errorf("region %q is not a Region name", r)
		}
	}
	rng := rand.New(rand.NewPCG(g.Seed, g.Seed^0x9e3779b97f4a7c15))
	types := []struct {
		name   string
		weight int
	}{{"gp2", 40}, {"gp3", 35}, {"io1", 8}, {"io2", 5}, {"st1", 5}, {"sc1", 4}, {"standard", 3}}
	envs := []string{"prod", "staging", "dev", "test"}
	teams := []string{"payments", "search", "data", "platform", "web", "ml"}
	out := make([]*Volume, 0, g.Volumes)
	for i := range g.Volumes {
		w := rng.IntN(100)
		typ := types[0].name
		for _, t := range types {
			if w < t.weight {
				typ = t.name
				break
			}
			w -= t.weight
		}
		lim := sizeLimits[typ]
		size := min(max(int32(8<<rng.IntN(9)), lim[0]), lim[1]) // 8 GiB to 2 TiB
		v := &Volume{
			AccountID: g.AccountIDs[i%len(g.AccountIDs)],
			Region:    g.Regions[(i/len(g.AccountIDs))%len(g.Regions)],
			ID:        fmt.Sprintf("vol-%x%016x", rng.IntN(16), rng.Uint64()),
			Type:      typ,
			SizeGiB:   size,
			Tags:      map[string]string{"env": envs[rng.IntN(len(envs))], "team": teams[rng.IntN(len(teams))]},
			Created:   now,
		}
		v.IOPS, v.Throughput = BaselinePerformance(typ, size)
		if typ == "io1" || typ == "io2" {
			v.IOPS = int32(1000 * (1 + rng.IntN(40)))
		}
		v.State = StateInUse
		if rng.IntN(3) == 0 {
			v.State = StateAvailable
			v.UnattachedSince = now.Add(-time.Duration(rng.IntN(120*24)) * time.Hour)
		}
		out = append(out, v)
	}
	return out, nil
}
