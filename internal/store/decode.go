package store

import (
	"encoding/json"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
)

// Decoding records is most of the work of a read-only call: every request
// decodes the caller's account, its membership and its organization, the
// same few records again and again. decode keeps, per record type, the
// values it decoded, keyed by the stored bytes, and answers a repeat with
// a copy. The memo is exact by construction: the same bytes always decode
// to the same value, so nothing is ever invalidated — a changed record has
// new bytes, hence a new key — and it works the same over every engine.
//
// Only types that a copy fully separates from the memo take part: no
// pointers, interfaces or channels (time.Time aside, whose location is
// immutable), and slices and maps only of such elements, as fields, which
// the copy clones. Callers may change what they get, as with a fresh
// decode.

// memoBudget bounds the memory all memos take together, as estimated by
// memoSize; when they would take more, they all start again empty. Some
// 12,000 records of the usual size fit.
const memoBudget = 8 << 20

// memoSize estimates what an entry for stored bytes b takes: the key, the
// decoded value's strings (about as long), the value itself and the map's
// slot.
func memoSize(b []byte) int64 { return int64(2*len(b) + 128) }

// memoBytes is what the memos take, against memoBudget.
var memoBytes atomic.Int64

// memo is one type's decoded records.
type memo struct {
	// clones are the index paths of the slice and map fields a copy
	// clones.
	clones [][]int

	mu   sync.RWMutex
	vals map[string]any // the stored bytes -> a *T never handed out
}

// memos maps a reflect.Type to its *memo, or to noMemo when the type
// cannot take part.
var memos sync.Map

var noMemo = &memo{}

func memoFor(t reflect.Type) *memo {
	if m, ok := memos.Load(t); ok {
		return m.(*memo)
	}
	m := noMemo
	if clones, ok := copyable(t); ok {
		m = &memo{clones: clones, vals: map[string]any{}}
	}
	actual, _ := memos.LoadOrStore(t, m)
	return actual.(*memo)
}

// decode unmarshals b into a new T, from the memo when it can. remember
// says whether a record the memo lacks goes into it: point reads do,
// for the records calls read again and again; scans do not, so that going
// once over many records does not push those out.
func decode[T any](b []byte, remember bool) (*T, error) {
	v := new(T)
	m := memoFor(reflect.TypeFor[T]())
	if m == noMemo {
		if err := json.Unmarshal(b, v); err != nil {
			return nil, err
		}
		return v, nil
	}
	m.mu.RLock()
	src, ok := m.vals[string(b)]
	m.mu.RUnlock()
	if ok {
		*v = *src.(*T)
		m.cloneRefs(v)
		return v, nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return nil, err
	}
	if !remember {
		return v, nil
	}
	kept := new(T)
	*kept = *v
	m.cloneRefs(kept)
	m.mu.Lock()
	_, dup := m.vals[string(b)]
	if !dup {
		m.vals[string(b)] = kept
	}
	m.mu.Unlock()
	if !dup && memoBytes.Add(memoSize(b)) > memoBudget {
		forgetAll()
	}
	return v, nil
}

// forgetAll empties every memo.
func forgetAll() {
	memos.Range(func(_, v any) bool {
		if m := v.(*memo); m != noMemo {
			m.mu.Lock()
			m.vals = map[string]any{}
			m.mu.Unlock()
		}
		return true
	})
	memoBytes.Store(0)
}

// cloneRefs gives the struct *p slices and maps of its own, in place of
// those it shares with the value it was copied from.
func (m *memo) cloneRefs(p any) {
	if len(m.clones) == 0 {
		return
	}
	v := reflect.ValueOf(p).Elem()
	for _, path := range m.clones {
		f := v.FieldByIndex(path)
		if f.IsNil() {
			continue
		}
		switch f.Kind() {
		case reflect.Slice:
			c := reflect.MakeSlice(f.Type(), f.Len(), f.Len())
			reflect.Copy(c, f)
			f.Set(c)
		case reflect.Map:
			c := reflect.MakeMapWithSize(f.Type(), f.Len())
			for it := f.MapRange(); it.Next(); {
				c.SetMapIndex(it.Key(), it.Value())
			}
			f.Set(c)
		}
	}
}

var timeType = reflect.TypeFor[time.Time]()

// copyable says whether a plain copy of a value of type t, with the slices
// and maps at the returned field paths cloned, shares nothing mutable with
// it.
func copyable(t reflect.Type) (clones [][]int, ok bool) {
	if t.Kind() != reflect.Struct || t == timeType {
		return nil, flat(t)
	}
	for i := range t.NumField() {
		f := t.Field(i)
		switch {
		case f.Type.Kind() == reflect.Slice && flat(f.Type.Elem()),
			f.Type.Kind() == reflect.Map && flat(f.Type.Key()) && flat(f.Type.Elem()):
			clones = append(clones, []int{i})
		case f.Type.Kind() == reflect.Struct && f.Type != timeType:
			inner, ok := copyable(f.Type)
			if !ok {
				return nil, false
			}
			for _, p := range inner {
				clones = append(clones, append([]int{i}, p...))
			}
		case !flat(f.Type):
			return nil, false
		}
	}
	return clones, true
}

// flat says whether a plain copy of a value of type t shares nothing
// mutable with it.
func flat(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	case reflect.Array:
		return flat(t.Elem())
	case reflect.Struct:
		if t == timeType {
			return true
		}
		for i := range t.NumField() {
			if !flat(t.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}
