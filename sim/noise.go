package sim

import (
	"math"
	"math/rand/v2"
)

// mix is SplitMix64's finalizer: a well-spread hash of a 64-bit value.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// hash combines keys into one value. Data that must not depend on the
// order in which it is asked for (weather at an hour, a day's health
// summary) is derived from hashes of its coordinates, not from a stream.
func hash(keys ...uint64) uint64 {
	h := uint64(0x63616972_6e73696d)
	for _, k := range keys {
		h = mix(h ^ k)
	}
	return h
}

// unit maps a hash to [0, 1).
func unit(h uint64) float64 { return float64(h>>11) / (1 << 53) }

// rng is a deterministic generator for one object (an athlete, an
// activity) from the seed and the object's key.
func rng(seed uint64, keys ...uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, hash(keys...)))
}

// smoothNoise is value noise in [-1, 1] along x: hashed values at whole
// numbers, joined by a smoothstep, so neighbouring x agree.
func smoothNoise(x float64, keys ...uint64) float64 {
	i := math.Floor(x)
	f := x - i
	f = f * f * (3 - 2*f)
	h := hash(keys...)
	a := unit(mix(h^uint64(int64(i))))*2 - 1
	b := unit(mix(h^uint64(int64(i)+1)))*2 - 1
	return a + (b-a)*f
}

func round(v float64, places int) float64 {
	p := math.Pow10(places)
	return math.Round(v*p) / p
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

func between(r *rand.Rand, lo, hi float64) float64 { return lo + r.Float64()*(hi-lo) }
