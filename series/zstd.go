package series

import (
	"sync"

	"github.com/klauspost/compress/zstd"
)

// The zstd coders are expensive to create and safe for concurrent
// EncodeAll/DecodeAll, so the package shares one of each, made on first use.
var (
	zstdEncoder = sync.OnceValues(func() (*zstd.Encoder, error) {
		return zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.SpeedDefault),
			// Blobs are small: one block, no need for a big window.
			zstd.WithWindowSize(1<<20),
			zstd.WithLowerEncoderMem(true),
		)
	})
	zstdDecoder = sync.OnceValues(func() (*zstd.Decoder, error) {
		return zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(0),
			zstd.WithDecoderMaxMemory(maxPayload),
			// Decode into exactly the length the header promised.
			zstd.WithDecodeAllCapLimit(true),
		)
	})
)
