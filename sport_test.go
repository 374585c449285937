package cairn

import "testing"

func TestMapSport(t *testing.T) {
	tests := []struct {
		format, sport, sub string
		want               ActivityType
	}{
		// FIT, names as muktihari/fit's typedef String() gives them.
		{FormatFIT, "running", "generic", ActivityRun},
		{FormatFIT, "running", "", ActivityRun},
		{FormatFIT, "running", "street", ActivityRun},
		{FormatFIT, "running", "trail", ActivityTrailRun},
		{FormatFIT, "running", "treadmill", ActivityTreadmillRun},
		{FormatFIT, "running", "virtual_activity", ActivityTreadmillRun},
		{FormatFIT, "cycling", "SubSportInvalid(255)", ActivityRide},
		{FormatFIT, "cycling", "road", ActivityRide},
		{FormatFIT, "cycling", "commuting", ActivityRide},
		{FormatFIT, "cycling", "indoor_cycling", ActivityIndoorRide},
		{FormatFIT, "cycling", "virtual_activity", ActivityIndoorRide},
		{FormatFIT, "cycling", "mountain", ActivityMountainBike},
		{FormatFIT, "cycling", "gravel_cycling", ActivityGravelRide},
		{FormatFIT, "swimming", "lap_swimming", ActivityPoolSwim},
		{FormatFIT, "swimming", "open_water", ActivityOpenWaterSwim},
		{FormatFIT, "walking", "generic", ActivityWalk},
		{FormatFIT, "hiking", "generic", ActivityHike},
		{FormatFIT, "fitness_equipment", "indoor_rowing", ActivityRowing},
		{FormatFIT, "fitness_equipment", "elliptical", ActivityOther},
		{FormatFIT, "training", "strength_training", ActivityStrength},
		{FormatFIT, "training", "yoga", ActivityYoga},
		{FormatFIT, "generic", "treadmill", ActivityTreadmillRun},
		{FormatFIT, "generic", "generic", ActivityOther},
		{FormatFIT, "multisport", "triathlon", ActivityMultisport},
		{FormatFIT, "transition", "generic", ActivityTransition},
		{FormatFIT, "alpine_skiing", "resort", ActivitySki},
		{FormatFIT, "kayaking", "whitewater", ActivityPaddle},
		{FormatFIT, "SportInvalid(200)", "", ActivityOther},
		{FormatFIT, "RUNNING", "TRAIL", ActivityTrailRun},
		// GPX <type>: Garmin Connect keys, Strava names, plain words.
		{FormatGPX, "running", "", ActivityRun},
		{FormatGPX, "Run", "", ActivityRun},
		{FormatGPX, "9", "", ActivityRun},
		{FormatGPX, "TrailRun", "", ActivityTrailRun},
		{FormatGPX, "trail_running", "", ActivityTrailRun},
		{FormatGPX, "cycling", "", ActivityRide},
		{FormatGPX, "Ride", "", ActivityRide},
		{FormatGPX, "road_biking", "", ActivityRide},
		{FormatGPX, "MountainBikeRide", "", ActivityMountainBike},
		{FormatGPX, "mountain_biking", "", ActivityMountainBike},
		{FormatGPX, "GravelRide", "", ActivityGravelRide},
		{FormatGPX, "VirtualRide", "", ActivityIndoorRide},
		{FormatGPX, "hiking", "", ActivityHike},
		{FormatGPX, "Hike", "", ActivityHike},
		{FormatGPX, "walking", "", ActivityWalk},
		{FormatGPX, " Walk ", "", ActivityWalk},
		{FormatGPX, "Swim", "", ActivityPoolSwim},
		{FormatGPX, "open_water_swimming", "", ActivityOpenWaterSwim},
		{FormatGPX, "AlpineSki", "", ActivitySki},
		{FormatGPX, "NordicSki", "", ActivitySki},
		{FormatGPX, "Kayaking", "", ActivityPaddle},
		{FormatGPX, "StandUpPaddling", "", ActivityPaddle},
		{FormatGPX, "Rowing", "", ActivityRowing},
		{FormatGPX, "WeightTraining", "", ActivityStrength},
		{FormatGPX, "Yoga", "", ActivityYoga},
		{FormatGPX, "Stair climbing", "", ActivityOther},
		{FormatGPX, "", "", ActivityOther},
		// TCX Sport attribute.
		{FormatTCX, "Running", "", ActivityRun},
		{FormatTCX, "Biking", "", ActivityRide},
		{FormatTCX, "Other", "", ActivityOther},
		{FormatTCX, "Walking", "", ActivityWalk},
		// Case-insensitive format names.
		{"TCX", "biking", "", ActivityRide},
		{"", "Run", "", ActivityRun},
	}
	for _, tt := range tests {
		if got := MapSport(tt.format, tt.sport, tt.sub); got != tt.want {
			t.Errorf("MapSport(%q, %q, %q) = %q, want %q", tt.format, tt.sport, tt.sub, got, tt.want)
		}
	}
}

func TestSportRulesValid(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range sportRules {
		if !r.Type.Valid() {
			t.Errorf("rule %+v maps to unknown type", r)
		}
		k := sportKey(r.Format, r.Sport, r.Sub)
		if seen[k] {
			t.Errorf("rule %+v is listed twice", r)
		}
		seen[k] = true
	}
}

// TestMapSportOwnNames: what cairn's encoders write as the sport (the
// ActivityType itself) maps back to the same type.
func TestMapSportOwnNames(t *testing.T) {
	for _, typ := range ActivityTypes {
		for _, format := range []string{FormatGPX, FormatTCX} {
			if got := MapSport(format, string(typ), ""); got != typ {
				t.Errorf("MapSport(%q, %q) = %q", format, typ, got)
			}
		}
	}
}
