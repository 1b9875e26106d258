package model

import "math"

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

// categorical turns the nodes that split reports on into comparisons of
// their split's column (after the width columns the preparation makes),
// and returns the splits, one per distinct (column, set).
func (f *forest) categorical(width int, split func(i int) (categorySplit, bool)) []categorySplit {
	var splits []categorySplit
	index := map[categorySplit]int{}
	for i := range f.nodes {
		s, ok := split(i)
		if !ok {
			continue
		}
		q, seen := index[s]
		if !seen {
			q = len(splits)
			index[s] = q
			splits = append(splits, s)
		}
		f.nodes[i].feature, f.nodes[i].threshold = int32(width+q), 0.5
	}
	return splits
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
