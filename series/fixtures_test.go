package series

import (
	"errors"
	"github.com/cairn-fit/cairn/fixtures"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/muktihari/fit/decoder"
	"github.com/muktihari/fit/profile/basetype"
	"github.com/muktihari/fit/profile/mesgdef"
	"github.com/muktihari/fit/profile/typedef"
)

// stream is one metric of one fixture, as cairn would store it: the
// samples that have the metric, at their record timestamps.
type stream struct {
	file, metric string
	t            []int64
	cols         [][]float64
}

// fixtureMetrics are the metrics the benchmarks extract, position last.
var fixtureMetrics = []string{"heart_rate", "power", "cadence", "speed", "altitude", "distance", "temperature", "position"}

// fixtureDir returns shared/fixtures/fit beside the repository root.
func fixtureDir() (string, error) {
	root, ok := fixtures.Root()
	if !ok {
		return "", errors.New("no ../shared/fixtures beside the repository")
	}
	return filepath.Join(root, "fit"), nil
}

// loadStreams decodes every FIT fixture into per-metric streams, skipping
// tb when the fixtures are absent.
func loadStreams(tb testing.TB) []stream {
	tb.Helper()
	dir, err := fixtureDir()
	if err == nil {
		_, err = os.Stat(dir)
	}
	if err != nil {
		tb.Skipf("FIT fixtures not available (%v); they live in shared/fixtures/fit beside the repository", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var out []stream
	for _, e := range entries {
		if e.IsDir() || !strings.EqualFold(filepath.Ext(e.Name()), ".fit") {
			continue
		}
		recs, err := readRecords(filepath.Join(dir, e.Name()))
		if _, verbose := tb.(*testing.T); verbose && err != nil {
			tb.Logf("%s: %v (kept %d records)", e.Name(), err, len(recs))
		}
		out = append(out, streamsOf(e.Name(), recs)...)
	}
	if len(out) == 0 {
		tb.Skip("no FIT fixture has record messages")
	}
	return out
}

// readRecords returns the record messages of every FIT file chained in
// path, keeping those decoded before an error. The checksum is ignored:
// the library computes it wrongly for files with 12-byte headers.
func readRecords(path string) ([]*mesgdef.Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var recs []*mesgdef.Record
	dec := decoder.New(f, decoder.WithIgnoreChecksum())
	for dec.Next() {
		fit, err := dec.Decode()
		if err != nil {
			return recs, err
		}
		for i := range fit.Messages {
			if fit.Messages[i].Num == typedef.MesgNumRecord {
				recs = append(recs, mesgdef.NewRecord(&fit.Messages[i]))
			}
		}
	}
	return recs, nil
}

func streamsOf(file string, recs []*mesgdef.Record) []stream {
	var out []stream
	for _, m := range fixtureMetrics {
		s := stream{file: file, metric: m}
		for _, r := range recs {
			if r.Timestamp.IsZero() {
				continue
			}
			if vals, ok := recordValue(r, m); ok {
				s.t = append(s.t, r.Timestamp.UnixMilli())
				if s.cols == nil {
					s.cols = make([][]float64, len(vals))
				}
				for i, v := range vals {
					s.cols[i] = append(s.cols[i], v)
				}
			}
		}
		if len(s.t) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// recordValue returns metric m of r as FIT decoders scale it (the
// library's own helpers, so altitude is raw/5-500 in float64 arithmetic).
func recordValue(r *mesgdef.Record, m string) ([]float64, bool) {
	switch m {
	case "heart_rate":
		return []float64{float64(r.HeartRate)}, r.HeartRate != basetype.Uint8Invalid
	case "power":
		return []float64{float64(r.Power)}, r.Power != basetype.Uint16Invalid
	case "cadence":
		return []float64{float64(r.Cadence)}, r.Cadence != basetype.Uint8Invalid
	case "speed":
		if r.EnhancedSpeed != basetype.Uint32Invalid {
			return []float64{r.EnhancedSpeedScaled()}, true
		}
		return []float64{r.SpeedScaled()}, r.Speed != basetype.Uint16Invalid
	case "altitude":
		if r.EnhancedAltitude != basetype.Uint32Invalid {
			return []float64{r.EnhancedAltitudeScaled()}, true
		}
		return []float64{r.AltitudeScaled()}, r.Altitude != basetype.Uint16Invalid
	case "distance":
		return []float64{r.DistanceScaled()}, r.Distance != basetype.Uint32Invalid
	case "temperature":
		return []float64{float64(r.Temperature)}, r.Temperature != basetype.Sint8Invalid
	case "position":
		ok := r.PositionLat != basetype.Sint32Invalid && r.PositionLong != basetype.Sint32Invalid
		return []float64{r.PositionLatDegrees(), r.PositionLongDegrees()}, ok
	}
	return nil, false
}
