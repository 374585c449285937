package fit

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkDecodeFIT decodes the largest fixture and reports records/s.
func BenchmarkDecodeFIT(b *testing.B) {
	var largest string
	var size int64
	for _, path := range fixtures(b) {
		if fi, err := os.Stat(path); err == nil && fi.Size() > size {
			largest, size = path, fi.Size()
		}
	}
	data, err := os.ReadFile(largest)
	if err != nil {
		b.Fatal(err)
	}
	file, err := Decode(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	records := 0
	for _, a := range file.Activities {
		records += len(a.Records)
	}
	b.Logf("%s: %d bytes, %d records", filepath.Base(largest), len(data), records)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
