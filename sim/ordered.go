package sim

import (
	"encoding/json"
	"strconv"
)

// object is a JSON object that keeps its keys in the order given, for
// answers whose real counterparts order keys by request or by meaning.
type object []field

type field struct {
	key   string
	value any
}

func (o object) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, f := range o {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, f.key)
		b = append(b, ':')
		v, err := json.Marshal(f.value)
		if err != nil {
			return nil, err
		}
		b = append(b, v...)
	}
	return append(b, '}'), nil
}
