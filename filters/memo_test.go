package filters

import (
	"bytes"
	"fmt"
	"testing"
)

// TestDecisionMemo holds the memo to the contract classify relies on: a
// lookup hits only for the exact text a filled slot holds, and then gives
// that slot's rule, whether the text was one of the last two looked up
// (compared without hashing) or an older one still in its slot, and
// that the text looked up last always hits.
func TestDecisionMemo(t *testing.T) {
	texts := [][]byte{
		[]byte("Traceback (most recent call last):\nA\n"),
		[]byte("Traceback (most recent call last):\nB\n"), // same length as A
		[]byte("Traceback (most recent call last):\nBB\n"),
		[]byte("Traceback (most recent call last):\nA\n\n"),
	}
	for i := range 70 {
		// More texts than slots, so some share a slot.
		texts = append(texts, fmt.Appendf(nil, "event %d\nline\n", i))
	}
	orders := map[string][]int{
		"repeat":      {0, 0, 0, 1, 1, 0},
		"alternate":   {0, 1, 0, 1, 2, 0, 2, 1},
		"three turns": {0, 1, 2, 0, 1, 2, 3, 0, 3},
		"many":        nil,
	}
	for i := range texts {
		orders["many"] = append(orders["many"], i, i%4, len(texts)-1-i)
	}
	for name, order := range orders {
		t.Run(name, func(t *testing.T) {
			var m decisionMemo
			rule := map[int]int{} // text index -> rule stored for it
			last := 0             // the text of the last lookup, +1
			for step, k := range order {
				// The last text looked up is in its slot whatever
				// the hashes; an older one may have lost its slot to a
				// text with the same hash modulo the slots.
				recent := last == k+1
				last = k + 1
				view := bytes.Clone(texts[k])
				s := m.lookup(view)
				if !bytes.Equal(s.text, view) {
					t.Fatalf("step %d: lookup of text %d gave a slot holding %q", step, k, s.text)
				}
				if recent && !s.valid {
					t.Fatalf("step %d: text %d, the last looked up, missed", step, k)
				}
				if s.valid {
					want, seen := rule[k]
					if !seen || s.rule != want {
						t.Fatalf("step %d: text %d hit with rule %d (stored: %d, %v)", step, k, s.rule, want, seen)
					}
					continue
				}
				s.rule, s.valid = 100+step, true
				rule[k] = s.rule
			}
		})
	}
}
