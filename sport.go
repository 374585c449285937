package cairn

import "strings"

// sportRule maps one source sport name to an ActivityType. Format is
// FormatFIT, FormatGPX, FormatTCX or "*" for a name any format may use;
// Sub is a FIT sub-sport or "*" for any. Names are compared normalized
// (see normSport), so "TrailRun", "trail_run" and "trail run" are one key.
type sportRule struct {
	Format, Sport, Sub string
	Type               ActivityType
}

// sportRules is the one sport mapping table of every decoder. FIT names
// are those of the FIT profile (muktihari/fit's typedef String()); GPX
// <type> values are free text, so the "*" rows list what Garmin Connect,
// Strava and common apps write; TCX only knows Running, Biking and Other.
var sportRules = []sportRule{
	// FIT sport, any sub-sport, then the sub-sports that change the type.
	{FormatFIT, "running", "*", ActivityRun},
	{FormatFIT, "running", "trail", ActivityTrailRun},
	{FormatFIT, "running", "treadmill", ActivityTreadmillRun},
	{FormatFIT, "running", "indoor_running", ActivityTreadmillRun},
	{FormatFIT, "running", "virtual_activity", ActivityTreadmillRun},
	{FormatFIT, "cycling", "*", ActivityRide},
	{FormatFIT, "cycling", "mountain", ActivityMountainBike},
	{FormatFIT, "cycling", "downhill", ActivityMountainBike},
	{FormatFIT, "cycling", "enduro", ActivityMountainBike},
	{FormatFIT, "cycling", "e_bike_mountain", ActivityMountainBike},
	{FormatFIT, "cycling", "gravel_cycling", ActivityGravelRide},
	{FormatFIT, "cycling", "mixed_surface", ActivityGravelRide},
	{FormatFIT, "cycling", "indoor_cycling", ActivityIndoorRide},
	{FormatFIT, "cycling", "spin", ActivityIndoorRide},
	{FormatFIT, "cycling", "virtual_activity", ActivityIndoorRide},
	{FormatFIT, "cycling", "indoor_hand_cycling", ActivityIndoorRide},
	{FormatFIT, "e_biking", "*", ActivityRide},
	{FormatFIT, "e_biking", "e_bike_mountain", ActivityMountainBike},
	{FormatFIT, "swimming", "*", ActivityPoolSwim},
	{FormatFIT, "swimming", "open_water", ActivityOpenWaterSwim},
	{FormatFIT, "walking", "*", ActivityWalk},
	{FormatFIT, "hiking", "*", ActivityHike},
	{FormatFIT, "mountaineering", "*", ActivityHike},
	{FormatFIT, "snowshoeing", "*", ActivityHike},
	{FormatFIT, "rowing", "*", ActivityRowing},
	{FormatFIT, "paddling", "*", ActivityPaddle},
	{FormatFIT, "kayaking", "*", ActivityPaddle},
	{FormatFIT, "rafting", "*", ActivityPaddle},
	{FormatFIT, "stand_up_paddleboarding", "*", ActivityPaddle},
	{FormatFIT, "cross_country_skiing", "*", ActivitySki},
	{FormatFIT, "alpine_skiing", "*", ActivitySki},
	{FormatFIT, "snowboarding", "*", ActivitySki},
	{FormatFIT, "multisport", "*", ActivityMultisport},
	{FormatFIT, "transition", "*", ActivityTransition},
	{FormatFIT, "training", "strength_training", ActivityStrength},
	{FormatFIT, "training", "yoga", ActivityYoga},
	{FormatFIT, "training", "pilates", ActivityYoga},
	{FormatFIT, "training", "flexibility_training", ActivityYoga},
	{FormatFIT, "fitness_equipment", "indoor_rowing", ActivityRowing},
	{FormatFIT, "fitness_equipment", "treadmill", ActivityTreadmillRun},
	{FormatFIT, "fitness_equipment", "indoor_running", ActivityTreadmillRun},
	{FormatFIT, "fitness_equipment", "indoor_cycling", ActivityIndoorRide},
	{FormatFIT, "fitness_equipment", "strength_training", ActivityStrength},
	{FormatFIT, "fitness_equipment", "yoga", ActivityYoga},
	{FormatFIT, "fitness_equipment", "pilates", ActivityYoga},
	// A sub-sport that says it all under a sport without a row of its own
	// ("generic", "training", "fitness_equipment" default to other).
	{FormatFIT, "*", "treadmill", ActivityTreadmillRun},
	{FormatFIT, "*", "indoor_cycling", ActivityIndoorRide},
	{FormatFIT, "*", "indoor_rowing", ActivityRowing},
	{FormatFIT, "*", "strength_training", ActivityStrength},
	{FormatFIT, "*", "yoga", ActivityYoga},
	{FormatFIT, "*", "lap_swimming", ActivityPoolSwim},
	{FormatFIT, "*", "open_water", ActivityOpenWaterSwim},

	// TCX Activity Sport attribute.
	{FormatTCX, "running", "*", ActivityRun},
	{FormatTCX, "biking", "*", ActivityRide},
	{FormatTCX, "other", "*", ActivityOther},

	// Free-text names (GPX <type>, TCX from other tools): Garmin Connect
	// activity keys, Strava's sport types and everyday words.
	{"*", "running", "*", ActivityRun},
	{"*", "run", "*", ActivityRun},
	{"*", "9", "*", ActivityRun}, // Strava's numeric type in its GPX export
	{"*", "street_running", "*", ActivityRun},
	{"*", "track_running", "*", ActivityRun},
	{"*", "trail_running", "*", ActivityTrailRun},
	{"*", "trail_run", "*", ActivityTrailRun},
	{"*", "treadmill_running", "*", ActivityTreadmillRun},
	{"*", "treadmill_run", "*", ActivityTreadmillRun},
	{"*", "indoor_running", "*", ActivityTreadmillRun},
	{"*", "virtual_run", "*", ActivityTreadmillRun},
	{"*", "walking", "*", ActivityWalk},
	{"*", "walk", "*", ActivityWalk},
	{"*", "casual_walking", "*", ActivityWalk},
	{"*", "speed_walking", "*", ActivityWalk},
	{"*", "hiking", "*", ActivityHike},
	{"*", "hike", "*", ActivityHike},
	{"*", "mountaineering", "*", ActivityHike},
	{"*", "snowshoe", "*", ActivityHike},
	{"*", "cycling", "*", ActivityRide},
	{"*", "biking", "*", ActivityRide},
	{"*", "bike", "*", ActivityRide},
	{"*", "ride", "*", ActivityRide},
	{"*", "1", "*", ActivityRide}, // Strava's numeric type in its GPX export
	{"*", "road_biking", "*", ActivityRide},
	{"*", "road_cycling", "*", ActivityRide},
	{"*", "e_bike_ride", "*", ActivityRide},
	{"*", "handcycle", "*", ActivityRide},
	{"*", "velomobile", "*", ActivityRide},
	{"*", "mountain_biking", "*", ActivityMountainBike},
	{"*", "mountain_bike_ride", "*", ActivityMountainBike},
	{"*", "e_mountain_bike_ride", "*", ActivityMountainBike},
	{"*", "gravel_cycling", "*", ActivityGravelRide},
	{"*", "gravel_ride", "*", ActivityGravelRide},
	{"*", "indoor_cycling", "*", ActivityIndoorRide},
	{"*", "virtual_ride", "*", ActivityIndoorRide},
	{"*", "swimming", "*", ActivityPoolSwim},
	{"*", "swim", "*", ActivityPoolSwim},
	{"*", "lap_swimming", "*", ActivityPoolSwim},
	{"*", "open_water_swimming", "*", ActivityOpenWaterSwim},
	{"*", "rowing", "*", ActivityRowing},
	{"*", "indoor_rowing", "*", ActivityRowing},
	{"*", "virtual_row", "*", ActivityRowing},
	{"*", "kayaking", "*", ActivityPaddle},
	{"*", "canoeing", "*", ActivityPaddle},
	{"*", "paddling", "*", ActivityPaddle},
	{"*", "stand_up_paddling", "*", ActivityPaddle},
	{"*", "stand_up_paddleboarding", "*", ActivityPaddle},
	{"*", "alpine_ski", "*", ActivitySki},
	{"*", "alpine_skiing", "*", ActivitySki},
	{"*", "backcountry_ski", "*", ActivitySki},
	{"*", "backcountry_skiing", "*", ActivitySki},
	{"*", "nordic_ski", "*", ActivitySki},
	{"*", "cross_country_skiing", "*", ActivitySki},
	{"*", "skiing", "*", ActivitySki},
	{"*", "snowboard", "*", ActivitySki},
	{"*", "snowboarding", "*", ActivitySki},
	{"*", "weight_training", "*", ActivityStrength},
	{"*", "strength_training", "*", ActivityStrength},
	{"*", "yoga", "*", ActivityYoga},
	{"*", "pilates", "*", ActivityYoga},
	{"*", "multisport", "*", ActivityMultisport},
	{"*", "triathlon", "*", ActivityMultisport},
	{"*", "transition", "*", ActivityTransition},
	{"*", "other", "*", ActivityOther},
	// cairn's own type names, which the GPX and TCX encoders write.
	{"*", "mountain_bike", "*", ActivityMountainBike},
	{"*", "indoor_ride", "*", ActivityIndoorRide},
	{"*", "pool_swim", "*", ActivityPoolSwim},
	{"*", "open_water_swim", "*", ActivityOpenWaterSwim},
	{"*", "paddle", "*", ActivityPaddle},
	{"*", "ski", "*", ActivitySki},
	{"*", "strength", "*", ActivityStrength},
}

// sportIndex is sportRules keyed by "format|sport|sub", normalized.
var sportIndex = func() map[string]ActivityType {
	m := make(map[string]ActivityType, len(sportRules))
	for _, r := range sportRules {
		m[sportKey(r.Format, r.Sport, r.Sub)] = r.Type
	}
	return m
}()

// MapSport returns cairn's activity type for a source's sport name.
// format is FormatFIT, FormatGPX or FormatTCX; subSport is the FIT
// sub-sport ("" elsewhere). Names are case-insensitive and ignore spaces,
// '_' and '-'. A name the table does not know gives ActivityOther.
func MapSport(format, sport, subSport string) ActivityType {
	if subSport == "" {
		subSport = "*"
	}
	keys := []string{
		sportKey(format, sport, subSport), // FIT sport with its sub-sport
		sportKey(format, sport, "*"),      // the format's own sport name
		sportKey("*", sport, "*"),         // a free-text name
		sportKey(format, "*", subSport),   // a telling FIT sub-sport under "generic"
	}
	for _, k := range keys {
		if t, ok := sportIndex[k]; ok {
			return t
		}
	}
	return ActivityOther
}

func sportKey(format, sport, sub string) string {
	return normSport(format) + "|" + normSport(sport) + "|" + normSport(sub)
}

// normSport lowercases s and drops separators so that the spellings of
// the different sources ("TrailRun", "trail_run", "Trail Run") meet.
func normSport(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '_', '-', '\t':
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(s)))
}
