package series

import (
	"bytes"
	"testing"
)

func TestBundle(t *testing.T) {
	parts := map[string][]byte{"heart_rate": {1, 2, 3}, "position": bytes.Repeat([]byte{9}, 300), "empty": {}}
	b := Bundle(parts)
	for name, want := range parts {
		got, err := Part(b, name)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %v %v", name, got, err)
		}
	}
	if _, err := Part(b, "power"); err == nil {
		t.Error("missing part found")
	}
	for i := range len(b) {
		if _, err := Part(b[:i], "position"); err == nil && i < len(b) {
			t.Errorf("truncated at %d accepted", i)
		}
	}
	if key, name := SplitRef(Ref("users/u/a/streams", "speed")); key != "users/u/a/streams" || name != "speed" {
		t.Errorf("SplitRef = %q %q", key, name)
	}
}

func FuzzPart(f *testing.F) {
	f.Add(Bundle(map[string][]byte{"a": {1}, "bb": {2, 3}}), "bb")
	f.Fuzz(func(t *testing.T, b []byte, name string) {
		_, _ = Part(b, name) // must not panic
	})
}
