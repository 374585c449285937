package series

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/cairn-fit/cairn"
	"pgregory.net/rapid"
)

var (
	fitInvalid = math.Float64frombits(math.MaxUint64) // what FIT decoders return for "no value"
	negNaN     = math.Float64frombits(0xfff8000000000000)
	sigNaN     = math.Float64frombits(0x7ff0000000000001)
	negZero    = math.Copysign(0, -1)
)

func seconds(n int) []int64 {
	t := make([]int64, n)
	for i := range t {
		t[i] = 1_700_000_000_000 + int64(i)*1000
	}
	return t
}

func TestRoundTripCases(t *testing.T) {
	tests := []struct {
		name string
		t    []int64
		cols [][]float64
	}{
		{"empty", nil, [][]float64{nil}},
		{"empty two columns", []int64{}, [][]float64{{}, {}}},
		{"one sample", []int64{42}, [][]float64{{1.5}}},
		{"specials", seconds(9), [][]float64{{math.NaN(), fitInvalid, negNaN, sigNaN, math.Inf(1), math.Inf(-1), negZero, 0, 1}}},
		{"extremes", seconds(6), [][]float64{{math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, 1e-310, 1 << 53, -(1 << 62)}}},
		{"timestamp extremes", []int64{math.MinInt64, math.MaxInt64, 0, -1, math.MinInt64, math.MaxInt64}, [][]float64{{1, 2, 3, 4, 5, 6}}},
		{"unsorted and duplicate timestamps", []int64{5000, 3000, 3000, 9000, 1000, 1000}, [][]float64{{1, 2, 3, 4, 5, 6}}},
		{"heart rate with gaps", seconds(8), [][]float64{{120, 121, math.NaN(), math.NaN(), 125, 124, math.NaN(), 130}}},
		{"all NaN", seconds(5), [][]float64{{math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()}}},
		{"decimals", seconds(5), [][]float64{{0.1, 0.2, 0.30000000000000004, 1.001, -7.25}}},
		{"fit altitude", seconds(4), [][]float64{{2601.0/5 - 500, 2602.0/5 - 500, 2599.0/5 - 500, 0.0/5 - 500}}},
		{"position", seconds(3), [][]float64{
			{float64(int32(567_000_000)) * semicircle, float64(int32(567_000_101)) * semicircle, fitInvalid},
			{float64(int32(-1_500_000)) * semicircle, float64(int32(-1_499_950)) * semicircle, fitInvalid},
		}},
		{"ragged floats", seconds(4), [][]float64{{math.Pi, math.E, math.Sqrt2, 1.0 / 3}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Encode(tc.t, tc.cols...)
			if err != nil {
				t.Fatal(err)
			}
			assertRoundTrip(t, b, tc.t, tc.cols)
		})
	}
}

// TestScaleChoice checks that fixed-point sensor values are recognised, as
// that is where the compression comes from.
func TestScaleChoice(t *testing.T) {
	alt := make([]float64, 200)
	pos := make([]float64, 200)
	for i := range alt {
		alt[i] = float64(2500+i)/5 - 500
		pos[i] = float64(int32(567_000_000+37*i)) * semicircle
	}
	tests := []struct {
		name string
		v    []float64
		want scale
	}{
		{"integers", []float64{120, 121, 119, -3}, scale{}},
		{"speed", []float64{3.141, 2.5, 0.001}, scale{k: 3}},
		{"fit altitude", alt, scale{kind: kindDecimalOffset, k: 1, offset: 500}},
		{"semicircles", pos, scale{kind: kindQuantum, quantum: semicircle}},
		{"NaN aside", []float64{1.5, math.NaN(), 2.5}, scale{k: 1}},
	}
	for _, tc := range tests {
		got, ok := chooseScale(tc.v)
		if !ok || got != tc.want {
			t.Errorf("%s: chooseScale = %+v, %v; want %+v", tc.name, got, ok, tc.want)
		}
	}
	if s, ok := chooseScale([]float64{math.Pi, math.E, math.Sqrt2}); ok {
		t.Errorf("irrational values got scale %+v, want xor", s)
	}
}

func TestCompactness(t *testing.T) {
	const n = 3600
	r := rand.New(rand.NewPCG(3, 4))
	hr, gappy := make([]float64, n), make([]float64, n)
	v := 130.0
	for i := range hr {
		v = max(60, min(190, v+float64(r.IntN(3)-1)))
		hr[i], gappy[i] = v, v
		if i%2 == 0 {
			gappy[i] = math.NaN()
		}
	}
	for _, tc := range []struct {
		name  string
		v     []float64
		limit float64 // bytes per sample
	}{
		{"heart rate", hr, 0.4},
		{"every other sample missing", gappy, 0.6},
	} {
		b, err := Encode(seconds(n), tc.v)
		if err != nil {
			t.Fatal(err)
		}
		if got := float64(len(b)) / n; got > tc.limit {
			t.Errorf("%s: %.3f B/sample, want ≤ %.2f", tc.name, got, tc.limit)
		}
	}
}

func TestEncodeInvalid(t *testing.T) {
	tests := []struct {
		name string
		t    []int64
		cols [][]float64
	}{
		{"no columns", []int64{1}, nil},
		{"short column", []int64{1, 2}, [][]float64{{1, 2}, {1}}},
		{"too many columns", []int64{1}, make([][]float64, MaxColumns+1)},
		{"too many samples", make([]int64, MaxSamples+1), [][]float64{make([]float64, MaxSamples+1)}},
		{"too many values", make([]int64, maxValues/4+1), [][]float64{make([]float64, maxValues/4+1), make([]float64, maxValues/4+1), make([]float64, maxValues/4+1)}},
	}
	for _, tc := range tests {
		if _, err := Encode(tc.t, tc.cols...); cairn.ErrorCode(err) != cairn.EVALIDATION {
			t.Errorf("%s: err = %v, want %s", tc.name, err, cairn.EVALIDATION)
		}
	}
}

func TestPoints(t *testing.T) {
	points := syntheticSeries(1000)
	points[10].V = math.NaN()
	b, err := EncodePoints(points)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodePoints(b)
	if err != nil {
		t.Fatal(err)
	}
	for i := range points {
		if got[i].T != points[i].T || math.Float64bits(got[i].V) != math.Float64bits(points[i].V) {
			t.Fatalf("point %d = %v, want %v", i, got[i], points[i])
		}
	}
	two, _ := Encode([]int64{1}, []float64{1}, []float64{2})
	if _, err := DecodePoints(two); cairn.ErrorCode(err) != cairn.EINVALIDFILE {
		t.Errorf("two columns: err = %v, want %s", err, cairn.EINVALIDFILE)
	}
}

// validBlobs are encodings of each column kind, stored and compressed.
func validBlobs(t testing.TB) [][]byte {
	t.Helper()
	n := 500
	ts := seconds(n)
	hr, speed, alt, rnd := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	r := rand.New(rand.NewPCG(5, 6))
	for i := range ts {
		hr[i] = float64(100 + r.IntN(20))
		speed[i] = float64(r.IntN(9000)) / 1000
		alt[i] = float64(2500+r.IntN(100))/5 - 500
		rnd[i] = r.NormFloat64()
	}
	hr[7] = math.NaN()
	var blobs [][]byte
	for _, in := range []struct {
		t    []int64
		cols [][]float64
	}{
		{ts, [][]float64{hr}},
		{ts, [][]float64{speed, alt, rnd}},
		{ts[:3], [][]float64{{1, math.NaN(), 2}}}, // too small to compress
		{[]int64{}, [][]float64{{}}},
	} {
		b, err := Encode(in.t, in.cols...)
		if err != nil {
			t.Fatal(err)
		}
		blobs = append(blobs, b)
	}
	return append(blobs, storedForms(t, blobs)...)
}

// storedForms returns the compressed blobs among blobs with their payload
// stored instead, which lets fuzzing mutate the payload directly.
func storedForms(t testing.TB, blobs [][]byte) [][]byte {
	var out [][]byte
	for _, b := range blobs {
		if b[3]&flagZstd == 0 {
			continue
		}
		h, rest, err := parseHeader(b)
		if err != nil {
			t.Fatal(err)
		}
		payload, err := decompress(h, rest)
		if err != nil {
			t.Fatal(err)
		}
		stored := append([]byte(nil), b[:len(b)-len(rest)]...)
		stored[3] &^= flagZstd
		out = append(out, append(stored, payload...))
	}
	return out
}

func TestBlobsCoverBothPayloadForms(t *testing.T) {
	var forms [2]bool
	for _, b := range validBlobs(t) {
		forms[b[3]&flagZstd] = true
	}
	if !forms[0] || !forms[1] {
		t.Errorf("stored, compressed seen = %v; want both", forms)
	}
}

func TestDecodeCorrupt(t *testing.T) {
	for _, b := range validBlobs(t) {
		for i := range len(b) {
			if _, _, err := Decode(b[:i]); cairn.ErrorCode(err) != cairn.EINVALIDFILE {
				t.Fatalf("prefix of %d/%d bytes: err = %v, want %s", i, len(b), err, cairn.EINVALIDFILE)
			}
			// A flipped bit must give an error or some series, never a panic.
			flipped := append([]byte(nil), b...)
			flipped[i] ^= 1 << (i % 8)
			if _, _, err := Decode(flipped); err != nil && cairn.ErrorCode(err) != cairn.EINVALIDFILE {
				t.Fatalf("bit flip at %d: err = %v, want %s", i, err, cairn.EINVALIDFILE)
			}
		}
		if _, _, err := Decode(append(b, 0)); cairn.ErrorCode(err) != cairn.EINVALIDFILE {
			t.Errorf("trailing byte: err = %v, want %s", err, cairn.EINVALIDFILE)
		}
	}
}

// TestDecodeHostileCounts feeds headers that claim huge series over a few
// bytes; Decode must refuse them without allocating for the claim.
func TestDecodeHostileCounts(t *testing.T) {
	big := func(flags byte, n, ncols, raw uint64, rest ...byte) []byte {
		b := []byte{magic0, magic1, version, flags}
		for _, v := range []uint64{n, ncols, raw} {
			for v >= 0x80 {
				b = append(b, byte(v)|0x80)
				v >>= 7
			}
			b = append(b, byte(v))
		}
		return append(b, rest...)
	}
	blobs := [][]byte{
		big(flagZstd, MaxSamples, 2, maxPayload, 2, 1, kindXOR),
		big(flagZstd, MaxSamples, MaxColumns, maxPayload, 2, 1, kindXOR),
		big(flagZstd, MaxSamples, 1, maxPayload, 2, 1, kindXOR, 0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0),
		big(0, MaxSamples, 1, 2*MaxSamples, 2, 1, kindXOR),
		big(0, MaxSamples+1, 1, 1),
		big(0, 10, MaxColumns+1, 1),
		big(0, 10, 1, maxPayload+1),
		big(0, 10, 1, 40, 2, 1, kindDecimal, 3, 11), // more exceptions than samples
		big(0, 10, 1, 40, 2, 0, kindDecimal, 3, 1),  // zero time unit
		big(0, 1, 1, 2, 3, 1, kindXOR, 0, 0x80),     // bad order
		big(0, 1, 1, 2, 2, 1, kindDecimal, 10, 0),   // too many digits
		big(0, 1, 1, 2, 2, 1, 9),                    // unknown kind
	}
	for i, b := range blobs {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, _, err := Decode(b)
		runtime.ReadMemStats(&after)
		if cairn.ErrorCode(err) != cairn.EINVALIDFILE {
			t.Errorf("blob %d: err = %v, want %s", i, err, cairn.EINVALIDFILE)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
			t.Errorf("blob %d: allocated %d bytes", i, alloc)
		}
	}
}

// genFloat draws floats of every sort: arbitrary bit patterns (NaNs with
// payloads, infinities, subnormals, -0) and short decimals as sensors
// produce.
func genFloat() *rapid.Generator[float64] {
	return rapid.OneOf(
		rapid.Map(rapid.Uint64(), math.Float64frombits),
		rapid.Map(rapid.Int64Range(-1e6, 1e6), func(i int64) float64 { return float64(i) / 100 }),
		rapid.SampledFrom([]float64{math.NaN(), fitInvalid, negZero, math.Inf(1), 0}),
		rapid.Float64(),
	)
}

func genTimestamps(n int) *rapid.Generator[[]int64] {
	return rapid.OneOf(
		rapid.SliceOfN(rapid.Int64(), n, n),
		rapid.Custom(func(t *rapid.T) []int64 {
			ts := make([]int64, n)
			cur := rapid.Int64Range(0, 2e12).Draw(t, "start")
			step := rapid.SampledFrom([]int64{1, 250, 1000}).Draw(t, "step")
			for i := range ts {
				ts[i] = cur
				cur += step * rapid.Int64Range(0, 3).Draw(t, "gap")
			}
			return ts
		}),
	)
}

func TestRapidRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 300).Draw(t, "n")
		ts := genTimestamps(n).Draw(t, "t")
		cols := make([][]float64, rapid.IntRange(1, 3).Draw(t, "ncols"))
		for i := range cols {
			// Each column draws from one kind so that scales get chosen,
			// with a sprinkle of arbitrary values as exceptions.
			base := genFloat().Draw(t, "base")
			cols[i] = make([]float64, n)
			for j := range cols[i] {
				cols[i][j] = rapid.OneOf(genFloat(), rapid.Just(base)).Draw(t, "v")
			}
		}
		b, err := Encode(ts, cols...)
		if err != nil {
			t.Fatal(err)
		}
		assertRoundTrip(t, b, ts, cols)
	})
}
