package policy

import (
	"fmt"
	"testing"
)

// BenchmarkEffectiveSevenLevels merges a tag policy at the root, at five
// nested OUs and on the account: the engine's share of
// DescribeEffectivePolicy (internal/e2e's benchmark of the same shape).
func BenchmarkEffectiveSevenLevels(b *testing.B) {
	levels := make([]Level, 7)
	for i := range levels {
		levels[i] = Level{[]byte(fmt.Sprintf(`{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"},"tag_value":{"@@append":["level-%d"]}},"team%d":{"tag_key":{"@@assign":"Team%d"},"enforced_for":{"@@assign":["ec2:instance"]}}}}`, i, i, i))}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Effective(levels); err != nil {
			b.Fatal(err)
		}
	}
}
