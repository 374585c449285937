package graphql

import (
	"encoding/base64"
	"strings"

	"github.com/cairn-fit/cairn"
	graphql "github.com/graph-gophers/graphql-go"
)

// Global ids are "Kind:id" in unpadded URL-safe base64: opaque to
// clients, unique across kinds, and the kind tells node(id:) where to
// look. A route is named by its activity's id (one route per activity).
const (
	kindUser     = "User"
	kindDevice   = "Device"
	kindActivity = "Activity"
	kindMetric   = "Metric"
	kindRoute    = "Route"
	kindHealth   = "HealthMetric"
	kindDaily    = "DailyMetric"
	kindWorkout  = "Workout"
)

func globalID(kind, id string) graphql.ID {
	return graphql.ID(base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + id)))
}

// parseGlobal splits a global id; ok is false when it is not one.
func parseGlobal(raw graphql.ID) (kind, id string, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(string(raw))
	if err != nil {
		return "", "", false
	}
	kind, id, ok = strings.Cut(string(b), ":")
	return kind, id, ok && kind != "" && id != ""
}

// idOf returns the database id of a global id of the given kind; field
// names the argument in a validation error.
func idOf(raw graphql.ID, kind, field string) (string, error) {
	k, id, ok := parseGlobal(raw)
	if !ok || k != kind {
		return "", cairn.Invalid(map[string]string{field: "is not the global id of a " + kind})
	}
	return id, nil
}

// optID is idOf for an optional argument.
func optID(raw *graphql.ID, kind, field string) (*string, error) {
	if raw == nil {
		return nil, nil
	}
	id, err := idOf(*raw, kind, field)
	return &id, err
}
