package rest

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/rest/api"
)

// ListEvents lists the events the token may read: activity events need
// activity:read, the others activity:read or health:read.
func (s *Server) ListEvents(ctx context.Context, req api.ListEventsRequestObject) (api.ListEventsResponseObject, error) {
	if s.Events == nil {
		return nil, cairn.Errorf(cairn.EUNAVAILABLE, "events are not available on this server")
	}
	p := req.Params
	page, err := pageRequest(p.Cursor, p.Limit)
	if err != nil {
		return nil, err
	}
	a, _ := cairn.ActorFrom(ctx)
	readable := func(t cairn.EventType) bool {
		return !strings.HasPrefix(string(t), "activity.") || a.Has(cairn.ScopeActivityRead)
	}
	var types []cairn.EventType
	if p.Type != nil {
		t := cairn.EventType(*p.Type)
		if !t.Valid() {
			return nil, cairn.Invalid(map[string]string{"type": "is not one of the allowed values"})
		}
		if !readable(t) {
			return nil, cairn.Errorf(cairn.EFORBIDDEN, "activity events need the activity:read scope")
		}
		types = []cairn.EventType{t}
	} else if !a.Has(cairn.ScopeActivityRead) {
		for _, t := range cairn.EventTypes {
			if readable(t) {
				types = append(types, t)
			}
		}
	}
	list, err := s.Events.ListEvents(ctx, cairn.EventFilter{Types: types, Since: p.Since, Page: page})
	if err != nil {
		return nil, err
	}
	out := api.ListEvents200JSONResponse{NextCursor: list.NextCursor, PrevCursor: list.PrevCursor, Total: list.Total,
		Data: make([]api.Event, len(list.Data))}
	for i, ev := range list.Data {
		data := map[string]any{}
		if err := json.Unmarshal(ev.Data, &data); err != nil {
			return nil, cairn.Wrap(cairn.EINTERNAL, err, "internal error")
		}
		out.Data[i] = api.Event{Id: ev.ID, Type: api.EventType(ev.Type), Version: ev.Version, UserId: ev.UserID,
			CreatedAt: ev.CreatedAt, Data: data}
	}
	return out, nil
}
