package sim

import (
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// backfillKey is one requested window; Garmin refuses the same again.
type backfillKey struct {
	user, typ  string
	start, end int64
}

// maxBackfill is Garmin's longest backfill window per request.
func maxBackfill(typ string) int64 {
	if typ == "activities" || typ == "activityDetails" {
		return 30 * 86400
	}
	return 90 * 86400
}

// garminBackfill accepts a request for history (202) and queues its
// notifications; a window asked for before is a conflict (409).
func (s *Sim) garminBackfill(w http.ResponseWriter, r *http.Request) {
	typ := r.PathValue("type")
	if !garminTypes[typ] || typ == "deregistrations" || typ == "activityFiles" {
		garminError(w, http.StatusNotFound, "backfill of "+typ+" is not supported")
		return
	}
	from, to, ok := epochWindow(r.URL.Query(), "summaryStartTimeInSeconds", "summaryEndTimeInSeconds")
	if !ok || to-from > maxBackfill(typ) {
		garminError(w, http.StatusBadRequest, fmt.Sprintf("summary window must be at most %d days", maxBackfill(typ)/86400))
		return
	}
	ath := tokenOf(r).athlete
	key := backfillKey{ath.GarminUserID, typ, from, to}
	s.mu.Lock()
	_, dup := s.backfills[key]
	if !dup {
		s.backfills[key] = s.now()
	}
	s.mu.Unlock()
	if dup {
		garminError(w, http.StatusConflict, "duplicate backfill request")
		return
	}
	s.notifyBackfill(ath, typ, from, to)
	w.WriteHeader(http.StatusAccepted)
}

// notifyBackfill queues what a backfill delivers: in push mode the
// summaries; in ping mode a notice whose callback pulls the second the
// request was made, when the backfilled summaries were "uploaded".
// Backfilled activities bring their files' notices too.
func (s *Sim) notifyBackfill(ath *Athlete, typ string, from, to int64) {
	items := s.summaries(ath, typ, time.Unix(from, 0), time.Unix(to, 0))
	if len(items) == 0 {
		return
	}
	now := s.now().Unix()
	s.notify(ath, typ, items, now, now+1)
	if typ == "activities" {
		s.notify(ath, "activityFiles", s.summaries(ath, "activityFiles", time.Unix(from, 0), time.Unix(to, 0)), now, now+1)
	}
}

// backfilledBetween is what backfills requested in [from, to) delivered.
func (s *Sim) backfilledBetween(ath *Athlete, typ string, from, to int64) []gsum {
	s.mu.Lock()
	var keys []backfillKey
	for k, at := range s.backfills {
		fromActivities := typ == "activityFiles" && k.typ == "activities"
		if k.user == ath.GarminUserID && (k.typ == typ || fromActivities) && at.Unix() >= from && at.Unix() < to {
			keys = append(keys, k)
		}
	}
	s.mu.Unlock()
	var out []gsum
	for _, k := range sortedKeys(keys) {
		out = append(out, s.summaries(ath, typ, time.Unix(k.start, 0), time.Unix(k.end, 0))...)
	}
	return out
}

// NotifyGarmin queues notifications of the athlete's summaries of typ
// that start in [from, to), as new uploads do: pushes, or pings whose
// callback covers their upload times.
func (s *Sim) NotifyGarmin(ath *Athlete, typ string, from, to time.Time) {
	items := s.summaries(ath, typ, from, to)
	if len(items) == 0 {
		return
	}
	lo, hi := items[0].upload, items[0].upload
	for _, it := range items {
		lo, hi = min(lo, it.upload), max(hi, it.upload)
	}
	s.notify(ath, typ, items, lo, hi+1)
}

// pushBatch caps how many summaries one push carries.
const pushBatch = 500

// notify queues one type's notifications for the partner's configured
// endpoint; activity files are always notices with a download link.
func (s *Sim) notify(ath *Athlete, typ string, items []gsum, uploadFrom, uploadTo int64) {
	s.mu.Lock()
	ep, ok := s.endpoints[typ]
	s.mu.Unlock()
	if !ok || len(items) == 0 {
		return
	}
	if ep.Mode == ModePing && typ != "activityFiles" {
		var pings []map[string]any
		for from := uploadFrom; from < uploadTo; from += maxPull {
			pings = append(pings, s.ping(ath, typ, from, min(from+maxPull, uploadTo)))
		}
		s.enqueueGarmin(typ, pings)
		return
	}
	entries := s.pushEntries(ath, items)
	for i := 0; i < len(entries); i += pushBatch {
		s.enqueueGarmin(typ, entries[i:min(i+pushBatch, len(entries))])
	}
}

// pushEntries are the summaries as a push carries them: each with the
// user's id and access token, as Garmin's pushes do.
func (s *Sim) pushEntries(ath *Athlete, items []gsum) []map[string]any {
	access := s.garminAccess(ath)
	out := make([]map[string]any, len(items))
	for i, it := range items {
		e := make(map[string]any, len(it.body)+2)
		for k, v := range it.body {
			e[k] = v
		}
		e["userId"] = ath.GarminUserID
		if access != "" {
			e["userAccessToken"] = access
		}
		out[i] = e
	}
	return out
}

// garminAccess is the athlete's newest live access token for the Garmin
// application ("" when the athlete granted none).
func (s *Sim) garminAccess(ath *Athlete) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best *token
	for _, t := range s.tokens.byAccess {
		if t.provider == ProviderGarmin && t.clientID == s.cfg.GarminApp.ClientID && t.athlete == ath && !t.revoked &&
			(best == nil || t.expiresAt.After(best.expiresAt)) {
			best = t
		}
	}
	if best == nil {
		return ""
	}
	return best.access
}

// ping is one entry of a ping notification: a pull window of at most a
// day and the URL that pulls it.
func (s *Sim) ping(ath *Athlete, typ string, from, to int64) map[string]any {
	q := url.Values{"uploadStartTimeInSeconds": {fmt.Sprint(from)}, "uploadEndTimeInSeconds": {fmt.Sprint(to)}}
	return map[string]any{"userId": ath.GarminUserID, "uploadStartTimeInSeconds": from, "uploadEndTimeInSeconds": to,
		"callbackURL": s.cfg.BaseURL + "/wellness-api/rest/" + typ + "?" + q.Encode()}
}

// enqueueGarmin queues {typ: entries} for the type's endpoint, if the
// partner configured one. Garmin retries failed notifications for days;
// the simulator gives up after ten attempts.
func (s *Sim) enqueueGarmin(typ string, entries []map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ep, ok := s.endpoints[typ]
	if !ok {
		return
	}
	body, err := jsonMarshal(map[string]any{typ: entries})
	if err != nil {
		return
	}
	hdr := http.Header{"Garmin-Client-Id": {s.cfg.GarminApp.ClientID}}
	s.outbox = append(s.outbox, &delivery{kind: "garmin_" + typ, url: ep.URL, body: body, header: hdr,
		max: 10, timeout: 30 * time.Second})
}

// SetGarminEndpoint configures the partner's callback for a summary
// type, as Garmin's endpoint configuration tool does.
func (s *Sim) SetGarminEndpoint(typ string, ep Endpoint) error {
	if !garminTypes[typ] || (ep.Mode != ModePush && ep.Mode != ModePing) {
		return fmt.Errorf("sim: unknown garmin summary type %q or mode %q", typ, ep.Mode)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endpoints[typ] = ep
	return nil
}
