package automation

import (
	"context"
	"slices"
	"testing"

	"github.com/orgstack/orgstack/internal/store"
	"github.com/orgstack/orgstack/internal/store/sqlite"
)

// TestAssociationIndex checks that the index of associations follows the
// enrollments, and that EnsureIndexes builds it for a store written before
// it existed.
func TestAssociationIndex(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Options{Path: sqlite.Memory})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	members := func(org string) []string {
		t.Helper()
		var got []string
		err := st.Read(ctx, func(tx store.Tx) error {
			var err error
			got, err = associatedMembers(tx, org)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	write := func(fn func(tx store.Tx) error) {
		t.Helper()
		if err := st.Write(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}

	// An older orgstack stored enrollments without the index.
	write(func(tx store.Tx) error {
		for id, org := range map[string]string{"111111111111": "o-a", "222222222222": "o-a", "333333333333": "o-b", "444444444444": ""} {
			if err := store.PutJSON(tx, bucketEnrollment, id, &enrollment{Status: "Active", AssociatedOrg: org}); err != nil {
				return err
			}
		}
		return nil
	})
	if got := members("o-a"); len(got) != 0 {
		t.Fatalf("before EnsureIndexes: %v", got)
	}
	if err := st.Write(ctx, EnsureIndexes); err != nil {
		t.Fatal(err)
	}
	if got := members("o-a"); !slices.Equal(got, []string{"111111111111", "222222222222"}) {
		t.Errorf("o-a after EnsureIndexes: %v", got)
	}
	if got := members("o-b"); !slices.Equal(got, []string{"333333333333"}) {
		t.Errorf("o-b after EnsureIndexes: %v", got)
	}

	// From then on putEnrollment keeps it: associate, move, disassociate.
	change := func(id, org string) {
		t.Helper()
		write(func(tx store.Tx) error {
			e, err := loadEnrollment(tx, id)
			if err != nil {
				return err
			}
			e.AssociatedOrg = org
			return putEnrollment(tx, id, e)
		})
	}
	change("444444444444", "o-a")
	change("111111111111", "o-b")
	change("222222222222", "")
	change("555555555555", "o-b") // no enrollment before
	if got := members("o-a"); !slices.Equal(got, []string{"444444444444"}) {
		t.Errorf("o-a after changes: %v", got)
	}
	if got := members("o-b"); !slices.Equal(got, []string{"111111111111", "333333333333", "555555555555"}) {
		t.Errorf("o-b after changes: %v", got)
	}
	// A second EnsureIndexes leaves the index as it is.
	if err := st.Write(ctx, EnsureIndexes); err != nil {
		t.Fatal(err)
	}
	if got := members("o-b"); !slices.Equal(got, []string{"111111111111", "333333333333", "555555555555"}) {
		t.Errorf("o-b after a second EnsureIndexes: %v", got)
	}
}

// TestMembersSeq walks an organization's members from the index with the
// walker's own account merged in its place, from every starting point.
func TestMembersSeq(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Options{Path: sqlite.Memory})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	members := []string{"200000000000", "400000000000", "600000000000"}
	err = st.Write(ctx, func(tx store.Tx) error {
		for _, id := range members {
			if err := putEnrollment(tx, id, &enrollment{Status: "Active", AssociatedOrg: "o-a"}); err != nil {
				return err
			}
		}
		// Another organization's member, between them in key order.
		return putEnrollment(tx, "300000000000", &enrollment{Status: "Active", AssociatedOrg: "o-b"})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, own := range []string{"", "100000000000", "400000000000", "500000000000", "700000000000"} {
		all := slices.Clone(members)
		if own != "" && !slices.Contains(all, own) {
			all = append(all, own)
		}
		slices.Sort(all)
		for _, from := range []string{"", "100000000000", "200000000000", "250000000000", "400000000000", "500000000000", "600000000000", "650000000000", "999999999999"} {
			var want []string
			for _, a := range all {
				if a >= from {
					want = append(want, a)
				}
			}
			var got []string
			err := st.Read(ctx, func(tx store.Tx) error {
				return membersSeq(tx, "o-a", own)(from, func(a string) error { got = append(got, a); return nil })
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("own %q, from %q: walked %v; want %v", own, from, got, want)
			}
		}
	}
}
