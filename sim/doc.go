// Package sim simulates the services cairn syncs with — Strava, Garmin,
// a historical weather API and a reverse geocoder — at the real services'
// paths and in their documented shapes, for tests, benchmarks and demos.
// New returns an http.Handler; `cairn sim` serves it.
//
// # What is simulated
//
// Strava API v3: GET /oauth/authorize (and /oauth/mobile/authorize)
// approves at once and redirects to redirect_uri with code, state and
// scope; POST /oauth/token exchanges a code (single use, 10 minutes) or a
// refresh token (the same access token while it has more than an hour to
// live, else new access and refresh tokens; the spent refresh token stops
// working, the old access token lives out its 6 hours); POST
// /oauth/deauthorize. GET /api/v3/athlete, GET /api/v3/athlete/activities
// (before and after in epoch seconds, both strict; page; per_page up to
// 200, 400 beyond; newest first, oldest first when only after is given;
// activity:read or activity:read_all required, private activities only
// with the latter), GET /api/v3/activities/{id} (DetailedActivity with
// splits_metric, one lap, map.polyline) and GET
// /api/v3/activities/{id}/streams (keys; key_by_type=true for the keyed
// form, a list otherwise; the series_type stream, distance by default, is
// always included). Errors have Strava's {message, errors: [{resource,
// field, code}]} shape. Push subscriptions: POST, GET and DELETE
// /api/v3/push_subscriptions with client_id and client_secret; creation
// validates the callback with GET ?hub.mode=subscribe&hub.challenge=…&
// hub.verify_token=… and needs the challenge echoed as JSON within two
// seconds; events {object_type, object_id, aspect_type, updates,
// owner_id, subscription_id, event_time} are POSTed to it, three attempts
// at most.
//
// Rate limits are per application (client_id) in Strava's windows: 15
// minutes aligned to :00, :15, :30 and :45, and the UTC day; overall and
// "read" (every request but creating activities and uploads), by default
// 200/2,000 and 100/1,000. Every request counts, refused ones too, as
// Strava documents; past a limit the answer is 429. Each answer carries
// X-RateLimit-Limit, X-RateLimit-Usage, X-ReadRateLimit-Limit and
// X-ReadRateLimit-Usage ("15-minute,daily").
//
// Garmin: OAuth 2.0 with PKCE (S256) at GET /oauth2Confirm and POST
// /di-oauth2-service/oauth/token (24-hour access tokens, 90-day refresh
// tokens, rotated on refresh); GET /wellness-api/rest/user/id and
// /user/permissions; DELETE /wellness-api/rest/user/registration (revokes,
// and notifies deregistrations). Summary types dailies, epochs, sleeps,
// hrv, bodyComps, activities, activityDetails and activityFiles: the
// partner's callback per type (Config.GarminEndpoints, SetGarminEndpoint,
// PUT /sim/garmin/endpoints/{type}) receives pushes ({"dailies": [...]},
// each summary with the user's userId and userAccessToken, header
// Garmin-Client-Id) or pings ({userId, uploadStartTimeInSeconds,
// uploadEndTimeInSeconds, callbackURL}, windows of at most a day).
// Pulls, GET /wellness-api/rest/{type}?uploadStartTimeInSeconds&
// uploadEndTimeInSeconds (at most 86,400 s), need the user's bearer token.
// Activity files always come as notices whose callbackURL downloads a FIT
// file (GET /wellness-api/rest/activityFile) of the very recording Strava
// serves as streams. Backfill, GET /wellness-api/rest/backfill/{type}?
// summaryStartTimeInSeconds&summaryEndTimeInSeconds, answers 202 and
// queues the window's summaries (at most 30 days for activities and
// details, 90 for the rest); the same window again is 409. Training API:
// POST /training-api/workout, GET and DELETE /training-api/workout/{id}.
//
// Weather: Open-Meteo's archive, GET /v1/archive?latitude&longitude&
// start_date&end_date&hourly=… (temperature_2m, apparent_temperature,
// relative_humidity_2m, dew_point_2m, surface_pressure, wind_speed_10m,
// wind_direction_10m, weather_code, uv_index, precipitation, cloud_cover;
// timezone GMT, an IANA name or auto), answering {latitude, longitude,
// utc_offset_seconds, timezone, elevation, hourly_units, hourly}.
// Reverse geocoding: Nominatim's GET /reverse?lat&lon&format=json|jsonv2
// answering {place_id, licence, lat, lon, display_name, address: {road,
// city, state, postcode, country, country_code}, boundingbox}, or
// {"error": "Unable to geocode"}.
//
// # Data
//
// Everything derives from Config.Seed (math/rand/v2 PCG streams and
// hashes): two simulators with one seed answer byte for byte alike.
// Athletes live in towns of a small gazetteer; each has
// Config.StravaActivities activities (runs, trail runs, road, gravel,
// mountain-bike and virtual rides, walks, hikes, pool swims) ending at
// Config.Until. Streams are one sample a second and generated on demand:
// terrain as waves over distance, speed from pace (runs, slower uphill)
// or from power through a riding-resistance model (rides, coasting
// downhill), stops at junctions, heart rate lagging effort with cardiac
// drift, cadence, GPS tracks that move at the recorded speed (loops or out
// and back), air temperature from the weather model. Totals, polylines,
// Garmin summaries and FIT files are computed from the streams, so every
// view of an activity agrees. Health summaries are derived per day, with
// resting heart rate, sleep, HRV and steps following the training.
//
// # Faults and time
//
// Config.FaultRate of API calls (not /sim/…, not authorize pages) fail,
// chosen by a hash of the seed and the call's number: 429s, 500/502/503,
// hangs until the client gives up or Config.FaultTimeout passes (then
// 504), and, for GETs, the real answer cut off half way. Config.TokenCalls
// makes access tokens expire after that many calls. Config.Now is the
// clock of token expiry, rate-limit windows and event times. Stats (GET
// /sim/stats) counts calls by route pattern and status (499: the client
// gave up), faults by kind and callback deliveries; Reset (POST
// /sim/reset) zeroes them. Deliver (POST /sim/deliver) sends queued
// webhooks and notifications; Run sends them periodically. AddActivity
// (POST /sim/activities) records a new activity and queues its Strava
// event and Garmin notifications; EditActivity (PATCH
// /sim/strava/activities/{id}: name, sport_type, private) and
// DeleteActivity (DELETE /sim/strava/activities/{id}) change or remove
// one as the athlete would on Strava and queue the "update" (updates:
// title, type, private) or "delete" event.
//
// # What differs from the real services
//
// Consent is automatic (?athlete= picks who logs in). Redirect URIs are
// not checked against a registered domain. Strava: no segments, clubs,
// gear, routes, uploads or activity writes; one lap per activity; stream
// resolution is always "high"; kudos and photo counts are zero; the push
// subscription answer's status (201) and the ascending order with after
// follow client libraries' accounts, not the reference. Garmin: error
// bodies ({"errorMessage": …}) are the simulator's own, as Garmin does not
// publish them; pings carry no user token; file links do not expire and
// may be fetched again; backfill and Training API rate limits, stress
// details, user metrics, pulse ox, respiration and Move IQ are not
// simulated. Open-Meteo: a 0.1° grid, generationtime_ms is 0, no daily
// variables, and dates are not limited to the archive's range.
// Nominatim: only the towns of the gazetteer, roads picked by position.
package sim
