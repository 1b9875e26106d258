package model

import (
	"encoding/binary"
	"fmt"
	"math"
)

// categorySplit is one distinct categorical split of a tree ensemble (a
// HistGradientBoosting's bitset, an XGBoost node's category set), read
// from its column into a column of its own before the walk: 0 where the
// split sends the row left, 1 right, NaN where missing values go. Its nodes
// then compare that with 0.5, so the walk stays one comparison for every
// node and a model without categorical splits pays nothing for them.
type categorySplit struct {
	column int32
	// set holds a bit per category (little-endian within each byte);
	// a category in it goes to member, any other to other.
	set           string
	member, other float64
	// known, where not empty, are the categories the model saw: any other
	// goes where missing values go, as does a negative one; where empty,
	// a negative category goes to other.
	known string
}

func has(bits string, c int) bool { return c/8 < len(bits) && bits[c/8]>>(c%8)&1 == 1 }

// side is where category v goes.
func (s *categorySplit) side(v float64) float64 {
	switch {
	case v != v:
		return math.NaN()
	case !(v >= 0 && v < 1<<31):
		if s.known != "" {
			return math.NaN()
		}
		return s.other
	}
	c := int(v) // the libraries read a category as an integer, truncated
	switch {
	case s.known != "" && !has(s.known, c):
		return math.NaN()
	case has(s.set, c):
		return s.member
	}
	return s.other
}

// categorical reads splits, an int32 per node (the node's set, one of
// sets, or -1 for a numeric split or a leaf), turns each node with a set
// into a comparison of its split's column (after the width columns the
// preparation makes), and returns the splits, one per distinct (column,
// set). split makes a node's categorySplit from its set.
func (f *forest) categorical(width int, splits []byte, sets int, split func(nd *node, set int) (categorySplit, error)) ([]categorySplit, error) {
	if len(splits) != 4*len(f.nodes) {
		return nil, fmt.Errorf("%d splits for %d nodes", len(splits)/4, len(f.nodes))
	}
	var out []categorySplit
	index := map[categorySplit]int{}
	for i := range f.nodes {
		nd := &f.nodes[i]
		set := int(int32(binary.LittleEndian.Uint32(splits[4*i:])))
		switch {
		case set < 0:
			continue
		case set >= sets:
			return nil, fmt.Errorf("node %d: set %d of %d", i, set, sets)
		case nd.child[0] == int32(i):
			return nil, fmt.Errorf("node %d: a leaf with a split", i)
		}
		s, err := split(nd, set)
		if err != nil {
			return nil, fmt.Errorf("node %d: %w", i, err)
		}
		q, seen := index[s]
		if !seen {
			q = len(out)
			index[s] = q
			out = append(out, s)
		}
		nd.feature, nd.threshold = int32(width+q), 0.5
	}
	return out, nil
}

// appendSides appends each split's side of row z to z.
func appendSides(z []float64, splits []categorySplit) []float64 {
	for i := range splits {
		z = append(z, splits[i].side(z[splits[i].column]))
	}
	return z
}

// bits packs the little-endian 32-bit words of a bitset into a set.
func bits(words []uint32) string {
	b := make([]byte, 4*len(words))
	for i, w := range words {
		b[4*i], b[4*i+1], b[4*i+2], b[4*i+3] = byte(w), byte(w>>8), byte(w>>16), byte(w>>24)
	}
	return string(b)
}
