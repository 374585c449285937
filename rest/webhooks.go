package rest

import (
	"context"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/rest/api"
)

// webhooks returns the webhook service, or UNAVAILABLE on a server
// without one.
func (s *Server) webhooks() (cairn.WebhookService, error) {
	if s.Webhooks == nil {
		return nil, cairn.Errorf(cairn.EUNAVAILABLE, "webhooks are not available on this server")
	}
	return s.Webhooks, nil
}

func (s *Server) ListWebhooks(ctx context.Context, req api.ListWebhooksRequestObject) (api.ListWebhooksResponseObject, error) {
	w, err := s.webhooks()
	if err != nil {
		return nil, err
	}
	page, err := pageRequest(req.Params.Cursor, req.Params.Limit)
	if err != nil {
		return nil, err
	}
	list, err := w.ListEndpoints(ctx, page)
	if err != nil {
		return nil, err
	}
	return api.ListWebhooks200JSONResponse{Data: mapSlice(list.Data, webhookOut), NextCursor: list.NextCursor,
		PrevCursor: list.PrevCursor, Total: list.Total}, nil
}

func (s *Server) CreateWebhook(ctx context.Context, req api.CreateWebhookRequestObject) (api.CreateWebhookResponseObject, error) {
	w, err := s.webhooks()
	if err != nil {
		return nil, err
	}
	b := req.Body
	e := &cairn.WebhookEndpoint{URL: b.Url, Enabled: b.Enabled == nil || *b.Enabled, EventTypes: eventTypesIn(b.EventTypes)}
	if !e.Enabled {
		e.DisabledReason = "disabled by the user"
	}
	if err := w.CreateEndpoint(ctx, e); err != nil {
		return nil, err
	}
	out := withSecret(e)
	self := "/v1/webhooks/" + e.ID
	return api.CreateWebhook201JSONResponse{Body: out, Headers: api.CreateWebhook201ResponseHeaders{Location: &self}}, nil
}

func (s *Server) GetWebhook(ctx context.Context, req api.GetWebhookRequestObject) (api.GetWebhookResponseObject, error) {
	w, err := s.webhooks()
	if err != nil {
		return nil, err
	}
	e, err := w.FindEndpoint(ctx, req.WebhookId)
	if err != nil {
		return nil, err
	}
	return api.GetWebhook200JSONResponse(webhookOut(e)), nil
}

func (s *Server) UpdateWebhook(ctx context.Context, req api.UpdateWebhookRequestObject) (api.UpdateWebhookResponseObject, error) {
	w, err := s.webhooks()
	if err != nil {
		return nil, err
	}
	b := req.Body
	p := cairn.WebhookEndpointPatch{URL: b.Url, Enabled: b.Enabled}
	if b.EventTypes != nil {
		types := eventTypesIn(b.EventTypes)
		p.EventTypes = &types
	}
	var e *cairn.WebhookEndpoint
	err = retryStale(req.Params.IfMatch, func() (err error) {
		e, err = w.UpdateEndpoint(ctx, req.WebhookId, p, func(current *cairn.WebhookEndpoint) error {
			return checkIfMatch(req.Params.IfMatch, webhookOut(current))
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return api.UpdateWebhook200JSONResponse(webhookOut(e)), nil
}

func (s *Server) DeleteWebhook(ctx context.Context, req api.DeleteWebhookRequestObject) (api.DeleteWebhookResponseObject, error) {
	w, err := s.webhooks()
	if err != nil {
		return nil, err
	}
	if err := w.DeleteEndpoint(ctx, req.WebhookId); err != nil {
		return nil, err
	}
	return api.DeleteWebhook204Response{}, nil
}

func (s *Server) RotateWebhookSecret(ctx context.Context, req api.RotateWebhookSecretRequestObject) (api.RotateWebhookSecretResponseObject, error) {
	w, err := s.webhooks()
	if err != nil {
		return nil, err
	}
	var grace time.Duration
	if g := req.Params.GracePeriodSeconds; g != nil {
		if *g < 1 || *g > 7*24*3600 {
			return nil, cairn.Invalid(map[string]string{"grace_period_seconds": "must be between 1 and 604800 (7 days)"})
		}
		grace = time.Duration(*g) * time.Second
	}
	e, err := w.RotateSecret(ctx, req.WebhookId, grace)
	if err != nil {
		return nil, err
	}
	return api.RotateWebhookSecret200JSONResponse(withSecret(e)), nil
}

func (s *Server) ListWebhookDeliveries(ctx context.Context, req api.ListWebhookDeliveriesRequestObject) (api.ListWebhookDeliveriesResponseObject, error) {
	w, err := s.webhooks()
	if err != nil {
		return nil, err
	}
	p := req.Params
	page, err := pageRequest(p.Cursor, p.Limit)
	if err != nil {
		return nil, err
	}
	list, err := w.ListDeliveries(ctx, cairn.DeliveryFilter{EndpointID: req.WebhookId, Status: string(deref(p.Status)), Page: page})
	if err != nil {
		return nil, err
	}
	return api.ListWebhookDeliveries200JSONResponse{Data: mapSlice(list.Data, deliveryOut), NextCursor: list.NextCursor,
		PrevCursor: list.PrevCursor, Total: list.Total}, nil
}

func (s *Server) ReplayWebhookDelivery(ctx context.Context, req api.ReplayWebhookDeliveryRequestObject) (api.ReplayWebhookDeliveryResponseObject, error) {
	w, err := s.webhooks()
	if err != nil {
		return nil, err
	}
	d, err := w.Replay(ctx, req.WebhookId, req.DeliveryId)
	if err != nil {
		return nil, err
	}
	return api.ReplayWebhookDelivery202JSONResponse(deliveryOut(d)), nil
}

func (s *Server) ReplayWebhookDeliveries(ctx context.Context, req api.ReplayWebhookDeliveriesRequestObject) (api.ReplayWebhookDeliveriesResponseObject, error) {
	w, err := s.webhooks()
	if err != nil {
		return nil, err
	}
	n, err := w.ReplayDead(ctx, req.WebhookId, req.Body.Since)
	if err != nil {
		return nil, err
	}
	return api.ReplayWebhookDeliveries202JSONResponse{Replayed: n}, nil
}

func (s *Server) GetWebhookStats(ctx context.Context, _ api.GetWebhookStatsRequestObject) (api.GetWebhookStatsResponseObject, error) {
	w, err := s.webhooks()
	if err != nil {
		return nil, err
	}
	st, err := w.Stats(ctx)
	if err != nil {
		return nil, err
	}
	out := api.GetWebhookStats200JSONResponse{EndpointsEnabled: st.EndpointsEnabled, EndpointsDisabled: st.EndpointsDisabled,
		EndpointsFailing: st.EndpointsFailing, Deliveries: st.Deliveries, OldestPendingAt: st.OldestPendingAt}
	out.DeadByEndpoint = make([]struct {
		Dead      int    `json:"dead"`
		WebhookId string `json:"webhook_id"`
	}, len(st.DeadByEndpoint))
	for i, c := range st.DeadByEndpoint {
		out.DeadByEndpoint[i].Dead, out.DeadByEndpoint[i].WebhookId = c.Dead, c.EndpointID
	}
	return out, nil
}

func eventTypesIn(types *[]api.EventType) []cairn.EventType {
	if types == nil {
		return nil
	}
	out := make([]cairn.EventType, len(*types))
	for i, t := range *types {
		out[i] = cairn.EventType(t)
	}
	return out
}

func webhookOut(e *cairn.WebhookEndpoint) api.Webhook {
	types := make([]api.EventType, len(e.EventTypes))
	for i, t := range e.EventTypes {
		types[i] = api.EventType(t)
	}
	return api.Webhook{Id: e.ID, UserId: ptrIf(e.UserID), ClientId: ptrIf(e.ClientID), Url: e.URL, EventTypes: types, Enabled: e.Enabled,
		DisabledReason: e.DisabledReason, FailingSince: e.FailingSince, PreviousSecretExpiresAt: e.PreviousSecretExpiresAt,
		CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
}

func withSecret(e *cairn.WebhookEndpoint) api.WebhookWithSecret {
	w := webhookOut(e)
	return api.WebhookWithSecret{Id: w.Id, UserId: w.UserId, ClientId: w.ClientId, Url: w.Url, EventTypes: w.EventTypes, Enabled: w.Enabled,
		DisabledReason: w.DisabledReason, FailingSince: w.FailingSince, PreviousSecretExpiresAt: w.PreviousSecretExpiresAt,
		CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt, Secret: e.Secret}
}

func deliveryOut(d *cairn.WebhookDelivery) api.WebhookDelivery {
	attempts := mapSlice(d.Attempts, func(a *cairn.DeliveryAttempt) api.DeliveryAttempt {
		return api.DeliveryAttempt{At: a.At, StatusCode: a.StatusCode, LatencyMs: float32(a.LatencyMS), Error: ptrIf(a.Error)}
	})
	return api.WebhookDelivery{Id: d.ID, WebhookId: d.EndpointID, EventId: d.EventID, EventType: api.EventType(d.EventType),
		Status: api.DeliveryStatus(d.Status), AttemptCount: d.AttemptCount, Attempts: attempts, NextAttemptAt: d.NextAttemptAt,
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}
