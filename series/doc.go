// Package series stores metric streams compactly and serves them to the API.
//
// The codec is lossless: Decode(Encode(t, cols...)) returns bit-identical
// timestamps and values for every input, including NaN payloads, ±Inf, -0,
// unsorted or duplicate timestamps and empty series. Slice and Downsample cut
// decoded series down to what a chart needs.
//
// # Wire format (version 1)
//
// "uvarint" is encoding/binary's unsigned varint; "float64" is the 8 bytes
// of an IEEE 754 double, little-endian. A blob is a header followed by the
// payload:
//
//	magic    "cS"
//	version  1
//	flags    bit 0: payload is one zstd frame (else stored as is)
//	uvarint  n, samples per column (≤ MaxSamples, n×(1+c) ≤ 2^23)
//	uvarint  c, value columns (1..MaxColumns)
//	uvarint  raw payload length, after decompression
//	byte     timestamp predictor order (0, 1 or 2)
//	uvarint  timestamp unit u ≥ 1, their greatest common divisor
//	c ×      column descriptor
//	payload
//
// A column descriptor starts with one byte, kind | order<<4:
//
//	kind 0  decimal          byte k (0..9)                  v = float64(i)/10^k
//	kind 1  decimal+offset   byte k, float64 offset         v = float64(i)/10^k - offset
//	kind 2  quantum          float64 q                      v = float64(i)*q
//	kind 3  xor              -                              Gorilla-style float bits
//
// kinds 0-2 ("scaled") end with a uvarint count of exceptions; kind 3 has
// order 0. The formulas are single IEEE 754 double operations, and the
// encoder uses a scale only for values they reproduce bit for bit.
//
// The payload holds the timestamps, then each column in order:
//
//	timestamps  an integer sequence (below) of t/u
//	scaled      exceptions: (uvarint gap, xor value) each, where the index
//	            is the previous exception's index + 1 + gap (the first's
//	            index is its gap); then an integer sequence of the scaled
//	            integers i
//	xor         n xor values
//
// An integer sequence is coded as residuals against a predictor of the
// order in its descriptor: 0 predicts 0, 1 the previous integer (delta
// coding), 2 the previous integer plus the previous difference
// (delta-of-delta; the second integer is predicted by the first). The
// encoder picks the cheapest order per sequence, which is almost always 2
// for regular timestamps. Arithmetic wraps at 64 bits. Each residual r is
// zigzagged, z = (r << 1) ^ (r >> 63), and the sequence is n symbol bytes,
// z itself when z < 255 and 255 otherwise, followed by a uvarint z-255 for
// each 255 symbol, in order. One byte per small residual keeps the symbols
// a clean alphabet for zstd's entropy coder.
//
// An xor value is the float's bits XOR the bits of the previous value in
// the same sequence (a column, or a column's exceptions; 0 at the start),
// written as a control byte lead<<4|trail,
// the counts of leading and trailing zero bytes of the XOR, followed by the
// 8-lead-trail middle bytes, most significant first. A zero XOR is 0x80.
//
// Why scaled integers: sensors report fixed-point numbers (bpm, watts, mm/s,
// semicircles), so a decimal or binary scale turns each float back into the
// device's small integer, whose differences are tiny and compress well.
// Values that do not fit the chosen scale exactly (NaN for "missing", ±Inf,
// -0, the odd outlier) are exceptions: the integer sequence holds the
// previous integer there, and the exact bits are patched in after scaling.
// A column where too many values misfit every scale uses xor instead.
//
// The payload is zstd-compressed unless that does not make it smaller.
// Decoding checks every count against the bytes that remain (each sample
// takes at least one byte per column) and caps the decompressed size, so a
// hostile blob can neither crash the decoder nor make it allocate much more
// than the series it claims to hold.
package series
