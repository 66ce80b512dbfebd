package organizations

import (
	"context"
	"errors"
	"testing"

	api "github.com/orgstack/orgstack/internal/api/organizations"
	"github.com/orgstack/orgstack/internal/store"
	"github.com/orgstack/orgstack/internal/store/sqlite"
)

// TestOUIndexes checks that the OU name index and counts follow creation,
// renaming and deletion, and that EnsureIndexes builds them for a store
// written before they existed.
func TestOUIndexes(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Options{Path: sqlite.Memory})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	write := func(fn func(r repo) error) {
		t.Helper()
		if err := st.Write(ctx, func(tx store.Tx) error { return fn(repo{tx}) }); err != nil {
			t.Fatal(err)
		}
	}
	type want struct {
		parent, name, id string
	}
	check := func(stage string, names []want, counts map[string]int) {
		t.Helper()
		err := st.Read(ctx, func(tx store.Tx) error {
			r := repo{tx}
			for _, w := range names {
				if id, err := r.ouWithName(w.parent, w.name); err != nil || id != w.id {
					t.Errorf("%s: OU named %q under %s = %q, %v; want %q", stage, w.name, w.parent, id, err, w.id)
				}
			}
			for org, n := range counts {
				if got, err := r.ouCount(org); err != nil || got != n {
					t.Errorf("%s: %s has %d OUs, %v; want %d", stage, org, got, err, n)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	// An older orgstack kept the OUs and the organization index only.
	old := []*ou{
		{ID: "ou-a-1", OrgID: "o-a", ParentID: "r-a", Name: "x"},
		{ID: "ou-a-2", OrgID: "o-a", ParentID: "r-a", Name: "y"},
		{ID: "ou-a-3", OrgID: "o-a", ParentID: "ou-a-1", Name: "x"},
		{ID: "ou-b-1", OrgID: "o-b", ParentID: "r-b", Name: "x"},
	}
	write(func(r repo) error {
		for _, u := range old {
			if err := store.PutJSON(r.tx, bucketOUs, u.ID, u); err != nil {
				return err
			}
			if err := r.tx.Put(bucketOrgOUs, u.OrgID+"/"+u.ID, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err := st.Write(ctx, EnsureIndexes); err != nil {
		t.Fatal(err)
	}
	check("after EnsureIndexes", []want{
		{"r-a", "x", "ou-a-1"}, {"r-a", "y", "ou-a-2"}, {"ou-a-1", "x", "ou-a-3"}, {"r-b", "x", "ou-b-1"}, {"r-a", "z", ""},
	}, map[string]int{"o-a": 3, "o-b": 1, "o-c": 0})

	write(func(r repo) error { return r.createOU(&ou{ID: "ou-a-4", OrgID: "o-a", ParentID: "r-a", Name: "z"}) })
	check("after create", []want{{"r-a", "z", "ou-a-4"}}, map[string]int{"o-a": 4})
	write(func(r repo) error {
		u, err := r.ou("ou-a-4")
		if err != nil {
			return err
		}
		u.Name = "w"
		return r.renameOU(u, "z")
	})
	check("after rename", []want{{"r-a", "z", ""}, {"r-a", "w", "ou-a-4"}}, map[string]int{"o-a": 4})
	write(func(r repo) error {
		u, err := r.ou("ou-a-2")
		if err != nil {
			return err
		}
		return r.deleteOU(u)
	})
	check("after delete", []want{{"r-a", "y", ""}, {"r-a", "x", "ou-a-1"}}, map[string]int{"o-a": 3, "o-b": 1})

	err = st.Read(ctx, func(tx store.Tx) error {
		r := repo{tx}
		var dup *api.DuplicateOrganizationalUnitException
		if err := r.checkOUName("r-a", "x", ""); !errors.As(err, &dup) {
			t.Errorf("a sibling's name: %v; want DuplicateOrganizationalUnitException", err)
		}
		if err := r.checkOUName("r-a", "x", "ou-a-1"); err != nil {
			t.Errorf("the OU's own name: %v", err)
		}
		if err := r.checkOUName("r-b", "y", ""); err != nil {
			t.Errorf("a free name: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A second EnsureIndexes leaves them as they are.
	if err := st.Write(ctx, EnsureIndexes); err != nil {
		t.Fatal(err)
	}
	check("after a second EnsureIndexes", []want{{"r-a", "w", "ou-a-4"}, {"r-a", "y", ""}}, map[string]int{"o-a": 3})
}
