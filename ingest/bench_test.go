package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/fit"
	"github.com/cairn-fit/cairn/fixtures"
	"github.com/cairn-fit/cairn/sqldb/dbtest"
)

// largestFIT returns the biggest valid activity fixture and its records.
func largestFIT(b *testing.B) ([]byte, int) {
	dir := fixtures.Dir(b, "fit")
	entries, _ := os.ReadDir(dir)
	var best []byte
	for _, e := range entries {
		if broken(e.Name()) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err == nil && len(data) > len(best) {
			if f, err := fit.Decode(bytes.NewReader(data)); err == nil && f.Kind == cairn.KindActivity && !f.Partial {
				best = data
			}
		}
	}
	f, err := fit.Decode(bytes.NewReader(best))
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, a := range f.Activities {
		n += len(a.Records)
	}
	return best, n
}

// BenchmarkIngestFIT measures the whole import of the largest fixture:
// decode, summarize, encode the series, write blobs and rows on SQLite.
// Each iteration imports for a new user, so nothing is a duplicate.
func BenchmarkIngestFIT(b *testing.B) {
	data, records := largestFIT(b)
	f := setup(b, dbtest.Open(b, "sqlite"))
	sys := cairn.SystemContext(context.Background())
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		u := &cairn.User{Email: fmt.Sprintf("bench%d@example.com", i)}
		if err := f.db.CreateUser(sys, u); err != nil {
			b.Fatal(err)
		}
		ctx := cairn.WithActor(context.Background(), cairn.Actor{UserID: u.ID})
		b.StartTimer()
		if _, err := f.svc.Import(ctx, u.ID, all, bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkDecodeOnly is the decode part of BenchmarkIngestFIT on the same
// file, for the ingest/decode ratio.
func BenchmarkDecodeOnly(b *testing.B) {
	data, records := largestFIT(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := fit.Decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
