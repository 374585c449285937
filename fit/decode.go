// Package fit decodes Garmin FIT files into cairn's decoded types, using
// github.com/muktihari/fit as a streaming message decoder.
//
// What a file becomes depends on its file_id type:
//
//   - activity: Kind activity, one DecodedActivity per session message.
//     A multisport file has one session per leg (and transitions); each
//     activity's Metadata["session_index"] is its position in time order
//     and Metadata["session_count"] the number of sessions. The ingester
//     links the sessions of one file to a parent multisport activity.
//     Records and laps go to the session whose [start, start+elapsed]
//     holds their timestamp (precisely: the last session starting at or
//     before it). A file without a session message (a recording cut
//     short) gives one activity spanning its records. Metadata also has
//     "utc_offset_s", the device's time zone offset in seconds, when the
//     activity message gives it, and "developer_fields" (see
//     DeveloperField).
//   - monitoring_a, monitoring_b, monitoring_daily: Kind health, with
//     steps and calories (per-activity-type day counters added up),
//     heart rate, intensity minutes (moderate + 2 × vigorous, as Garmin
//     counts them), stress, resting heart rate and HRV.
//   - weight: Kind health, body composition metrics.
//   - workout: Kind workout, one cairn.Workout whose Definition is the
//     JSON of its []cairn.WorkoutStep (see workout.go for the units).
//   - any other type: a *cairn.Error with code EUNSUPPORTEDFILE.
//
// Chained FIT files (several FIT files back to back) are decoded one after
// the other; a chained file of a different kind is skipped with a warning.
//
// Broken files: the decoder keeps what it decoded before the break. A file
// with nothing usable fails with a *cairn.Error of code EINVALIDFILE; a
// file with usable data decodes with DecodedFile.Partial set and a warning
// saying what broke. A CRC mismatch in a file that otherwise decodes is
// treated the same way (Partial, warning "FIT file CRC mismatch"): the
// data is probably fine but cannot be trusted to be complete. Memory is
// bounded by caps on records, laps, metrics and developer values; data
// past a cap is dropped with a warning and Partial set.
package fit

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/cairn-fit/cairn"
	"github.com/muktihari/fit/decoder"
)

// Caps that bound the memory one file may take.
const (
	maxRecords    = 2_000_000 // per FIT file of a chain, that is per activity or less
	maxLaps       = 100_000
	maxSessions   = 10_000
	maxMetrics    = 2_000_000
	maxSteps      = 10_000
	maxDevSamples = 2_000_000
)

// Decode reads a FIT file, or a chain of them, from r. It streams: r is
// read once, through a small buffer, and only the decoded data is kept.
// Errors are *cairn.Error (EINVALIDFILE, EUNSUPPORTEDFILE) except a
// failure of r itself, which is returned wrapped.
func Decode(r io.Reader) (file *cairn.DecodedFile, err error) {
	defer func() {
		// The library should not panic, but a hostile file must never take
		// the process down: any panic is a corrupt file.
		if p := recover(); p != nil {
			file = nil
			err = cairn.Wrap(cairn.EINVALIDFILE, &panicError{value: p, stack: debug.Stack()}, "FIT file is corrupt")
		}
	}()
	cr := &crcReader{r: r}
	b := newBuilder()
	dec := decoder.New(cr,
		decoder.WithIgnoreChecksum(), // checked by crcReader, see there
		decoder.WithBroadcastOnly(),  // messages go to b only, nothing is retained
		decoder.WithMesgListener(b),
	)
	seq := 0
	var failure error
	for dec.Next() {
		b.segment = seq
		if _, err := dec.Decode(); err != nil {
			failure = err
			break
		}
		b.checkIntegrity(cr, seq)
		seq++
	}
	if cr.err != nil {
		return nil, fmt.Errorf("fit: read: %w", cr.err)
	}
	return b.finish(cr.n, failure)
}

// panicError is the cause of the error Decode returns when decoding
// panicked; the fuzz test looks for it.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("fit: panic: %v\n%s", e.value, e.stack) }

// failureMessage turns a decoder error into a message safe for users.
func failureMessage(err error) string {
	switch {
	case errors.Is(err, decoder.ErrNotFITFile):
		return "FIT header invalid"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of file"
	case errors.Is(err, decoder.ErrMesgDefMissing):
		return "FIT file corrupt: message without definition"
	}
	return "FIT file corrupt"
}
