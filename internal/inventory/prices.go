package inventory

// EBS list prices in USD, from AWS's public pricing page
// https://aws.amazon.com/ebs/pricing/ as collected in
// ../shared/docs/FACTS.md §7. That page is rendered by script, so these
// could not be read from it directly: per-GB storage rates marked (c) are
// corroborated by several independent public price maps; everything
// marked U is long-standing list price that nobody here confirmed.

// priceTable is one region's EBS prices.
type priceTable struct {
	// storage is the price per GB-month of each volume type.
	storage       map[string]float64
	gp3IOPS       float64 // per provisioned IOPS-month above 3,000 (U)
	gp3Throughput float64 // per MiB/s-month above 125 (U)
	io1IOPS       float64 // per provisioned IOPS-month (U)
	// io2IOPS are the tiers per IOPS-month: up to 32,000, 32,001-64,000,
	// above 64,000 (U; the tiering itself is confirmed).
	io2IOPS  [3]float64
	snapshot float64 // standard tier, per GB-month
}

var usEast1 = priceTable{
	storage: map[string]float64{
		"gp3": 0.08, "gp2": 0.10, "io1": 0.125, "io2": 0.125, // (c)
		"st1": 0.045, "sc1": 0.015, "standard": 0.05, // (c)
	},
	gp3IOPS: 0.005, gp3Throughput: 0.040, io1IOPS: 0.065,
	io2IOPS:  [3]float64{0.065, 0.0455, 0.032},
	snapshot: 0.05, // (c)
}

// euWest1 is Ireland's table; every figure in it is U.
var euWest1 = priceTable{
	storage: map[string]float64{
		"gp3": 0.088, "gp2": 0.11, "io1": 0.138, "io2": 0.138,
		"st1": 0.05, "sc1": 0.0168, "standard": 0.055,
	},
	gp3IOPS: 0.0055, gp3Throughput: 0.044, io1IOPS: 0.072,
	io2IOPS:  [3]float64{0.072, 0.050, 0.035},
	snapshot: 0.05,
}

// prices maps regions to their tables. Regions not listed are priced as
// us-east-1 (U), as are us-east-2 and us-west-2, which FACTS assumes equal.
var prices = map[string]*priceTable{
	"us-east-1": &usEast1,
	"us-east-2": &usEast1,
	"us-west-2": &usEast1,
	"eu-west-1": &euWest1,
}

func table(region string) *priceTable {
	if t, ok := prices[region]; ok {
		return t
	}
	return &usEast1
}

// Free baseline of gp3 volumes (EBS pricing page).
const (
	gp3FreeIOPS       = 3000
	gp3FreeThroughput = 125
)

// MonthlyCost is what a volume of the given configuration costs a month
// in region at list price.
func MonthlyCost(region, volumeType string, sizeGiB, iops, throughput int32) float64 {
	t := table(region)
	cost := t.storage[volumeType] * float64(sizeGiB)
	switch volumeType {
	case "gp3":
		cost += t.gp3IOPS * float64(max(0, iops-gp3FreeIOPS))
		cost += t.gp3Throughput * float64(max(0, throughput-gp3FreeThroughput))
	case "io1":
		cost += t.io1IOPS * float64(iops)
	case "io2":
		rest := float64(iops)
		for i, bound := range []float64{32000, 32000, -1} {
			n := rest
			if bound >= 0 && n > bound {
				n = bound
			}
			cost += t.io2IOPS[i] * n
			rest -= n
			if rest <= 0 {
				break
			}
		}
	}
	return cost
}

// SnapshotMonthlyCost is what a standard-tier snapshot of a volume's full
// provisioned size costs a month, which is how Compute Optimizer counts a
// snapshot-and-delete's remaining cost (automation-rec.html).
func SnapshotMonthlyCost(region string, sizeGiB int32) float64 {
	return table(region).snapshot * float64(sizeGiB)
}
