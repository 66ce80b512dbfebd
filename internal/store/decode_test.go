package store

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

type flatRecord struct {
	ID      string    `json:"id"`
	N       int       `json:"n"`
	At      time.Time `json:"at"`
	Inner   struct{ A, B string }
	private bool
}

type item struct {
	Name string    `json:"name"`
	At   time.Time `json:"at"`
}

type withSlices struct {
	ID    string   `json:"id"`
	Items []item   `json:"items"`
	Raw   []byte   `json:"raw"`
	Tags  []string `json:"tags"`
	Sub   struct {
		More []int `json:"more"`
	} `json:"sub"`
	Limits map[string]int `json:"limits"`
}

func TestCopyable(t *testing.T) {
	tests := []struct {
		v      any
		ok     bool
		slices [][]int
	}{
		{flatRecord{}, true, nil},
		{withSlices{}, true, [][]int{{1}, {2}, {3}, {4, 0}, {5}}},
		{time.Time{}, true, nil},
		{int64(0), true, nil},
		{struct{ M map[string]string }{}, true, [][]int{{0}}},
		{struct{ M map[string][]string }{}, false, nil},
		{struct{ M map[string]*int }{}, false, nil},
		{struct{ P *int }{}, false, nil},
		{struct{ X any }{}, false, nil},
		{struct{ S [][]string }{}, false, nil},
		{struct{ S []*int }{}, false, nil},
		{struct{ Inner struct{ M map[int]int } }{}, true, [][]int{{0, 0}}},
		{struct{ Inner struct{ P *int } }{}, false, nil},
		{[]string{}, false, nil},
	}
	for _, tt := range tests {
		slices, ok := copyable(reflect.TypeOf(tt.v))
		if ok != tt.ok || !reflect.DeepEqual(slices, tt.slices) {
			t.Errorf("copyable(%T) = %v, %v; want %v, %v", tt.v, slices, ok, tt.slices, tt.ok)
		}
	}
}

// TestDecodeIsUnmarshal checks that decode answers what json.Unmarshal
// does, the first time and from the memo, and that what a caller does to
// its value, slices included, reaches no other caller.
func TestDecodeIsUnmarshal(t *testing.T) {
	docs := [][]byte{
		[]byte(`{"id":"a","items":[{"name":"x","at":"2026-01-02T03:04:05Z"}],"raw":"AQI=","tags":["t"],"sub":{"more":[1,2]},"limits":{"a":1,"b":2}}`),
		[]byte(`{"id":"b","items":[],"tags":null}`),
		[]byte(`{"id":"c"}`),
	}
	for _, doc := range docs {
		var want withSlices
		if err := json.Unmarshal(doc, &want); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			got, err := decode[withSlices](doc, true)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, want) {
				t.Fatalf("decode #%d of %s = %+v; want %+v", i, doc, *got, want)
			}
			// Scribble over everything the caller got.
			got.ID = "changed"
			for j := range got.Items {
				got.Items[j].Name = "changed"
			}
			for j := range got.Raw {
				got.Raw[j] = 0xff
			}
			for j := range got.Tags {
				got.Tags[j] = "changed"
			}
			for j := range got.Sub.More {
				got.Sub.More[j] = -1
			}
			for k := range got.Limits {
				got.Limits[k] = -1
			}
			if got.Limits != nil {
				got.Limits["added"] = 1
			}
		}
	}
	if _, err := decode[withSlices]([]byte(`{"id":`), true); err == nil {
		t.Error("decode of broken JSON succeeded")
	}
	// A type that cannot be memoised decodes all the same.
	got, err := decode[map[string]int]([]byte(`{"a":1}`), true)
	if err != nil || (*got)["a"] != 1 {
		t.Errorf("decode of a map = %v, %v", got, err)
	}
}

func TestDecodeMemoBudget(t *testing.T) {
	forgetAll()
	pad := make([]byte, 1000)
	for i := range pad {
		pad[i] = 'x'
	}
	for i := range 2 * memoBudget / len(pad) {
		doc := fmt.Appendf(nil, `{"id":"%d-%s"}`, i, pad)
		if _, err := decode[flatRecord](doc, true); err != nil {
			t.Fatal(err)
		}
		if n := memoBytes.Load(); n > memoBudget {
			t.Fatalf("the memos hold %d bytes, over their budget of %d", n, memoBudget)
		}
	}
}

func TestDecodeConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				doc := fmt.Appendf(nil, `{"id":"%d","n":%d,"items":[{"name":"%d"}]}`, i%50, i%50, w)
				got, err := decode[withSlices](doc, true)
				if err != nil || got.ID != fmt.Sprint(i%50) || got.Items[0].Name != fmt.Sprint(w) {
					t.Errorf("decode(%s) = %+v, %v", doc, got, err)
					return
				}
				got.Items[0].Name = "mine"
			}
		})
	}
	wg.Wait()
}

func TestScansDoNotFillTheMemo(t *testing.T) {
	forgetAll()
	if _, err := decode[flatRecord]([]byte(`{"id":"scanned"}`), false); err != nil {
		t.Fatal(err)
	}
	if n := memoBytes.Load(); n != 0 {
		t.Errorf("a scan's decode put %d bytes in the memo", n)
	}
	if _, err := decode[flatRecord]([]byte(`{"id":"read"}`), true); err != nil {
		t.Fatal(err)
	}
	if n := memoBytes.Load(); n == 0 {
		t.Error("a point read's decode left the memo empty")
	}
}
