package inventory

import (
	"math"
	"testing"
)

func TestMonthlyCost(t *testing.T) {
	t.Parallel()
	cases := []struct {
		region, typ            string
		size, iops, throughput int32
		want                   float64
	}{
		{"us-east-1", "gp2", 100, 300, 128, 10},
		{"us-east-1", "gp3", 100, 3000, 125, 8},                       // the baseline is free
		{"us-east-1", "gp3", 100, 4000, 225, 8 + 5 + 4},               // 1000 IOPS at .005, 100 MiB/s at .04
		{"us-east-1", "io1", 100, 1000, 0, 12.5 + 65},                 // .125/GB + .065/IOPS
		{"us-east-1", "io2", 100, 40000, 0, 12.5 + 2080 + 364},        // 32,000 at .065, 8,000 at .0455
		{"us-east-1", "io2", 100, 70000, 0, 12.5 + 2080 + 1456 + 192}, // and 6,000 at .032
		{"eu-west-1", "gp2", 100, 300, 128, 11},
		{"ap-south-2", "st1", 1000, 0, 0, 45}, // unlisted Regions at us-east-1 prices
	}
	for _, c := range cases {
		got := MonthlyCost(c.region, c.typ, c.size, c.iops, c.throughput)
		if math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s %s %d GiB %d IOPS %d MiB/s = %v, want %v", c.region, c.typ, c.size, c.iops, c.throughput, got, c.want)
		}
	}
	if got := SnapshotMonthlyCost("us-east-1", 100); got != 5 {
		t.Errorf("snapshot of 100 GiB = %v, want 5", got)
	}
}

func TestBaselinePerformance(t *testing.T) {
	t.Parallel()
	cases := []struct {
		typ              string
		size             int32
		iops, throughput int32
	}{
		{"gp2", 10, 100, 128}, {"gp2", 1000, 3000, 250}, {"gp2", 10000, 16000, 250}, {"gp3", 1, 3000, 125}, {"st1", 500, 0, 0},
	}
	for _, c := range cases {
		if i, tp := BaselinePerformance(c.typ, c.size); i != c.iops || tp != c.throughput {
			t.Errorf("%s %d GiB: %d IOPS %d MiB/s, want %d %d", c.typ, c.size, i, tp, c.iops, c.throughput)
		}
	}
}
