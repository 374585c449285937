package rest

import (
	"context"
	"net/http"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/rest/api"
)

func (s *Server) ConnectProvider(ctx context.Context, req api.ConnectProviderRequestObject) (api.ConnectProviderResponseObject, error) {
	svc, err := s.sync()
	if err != nil {
		return nil, err
	}
	u, err := svc.AuthorizeURL(ctx, req.UserId, string(req.Provider))
	if err != nil {
		return nil, err
	}
	return api.ConnectProvider200JSONResponse{AuthorizeUrl: u}, nil
}

func (s *Server) ListConnections(ctx context.Context, req api.ListConnectionsRequestObject) (api.ListConnectionsResponseObject, error) {
	svc, err := s.sync()
	if err != nil {
		return nil, err
	}
	list, err := svc.ListConnections(ctx, req.UserId)
	if err != nil {
		return nil, err
	}
	return api.ListConnections200JSONResponse{Data: nonNil(mapSlice(list, connectionOut))}, nil
}

func (s *Server) RevokeConnection(ctx context.Context, req api.RevokeConnectionRequestObject) (api.RevokeConnectionResponseObject, error) {
	svc, err := s.sync()
	if err != nil {
		return nil, err
	}
	if err := svc.RevokeConnection(ctx, req.UserId, string(req.Provider)); err != nil {
		return nil, err
	}
	return api.RevokeConnection204Response{}, nil
}

func connectionOut(c *cairn.Connection) api.Connection {
	return api.Connection{Id: c.ID, UserId: c.UserID, Provider: api.ConnectionProvider(c.Provider),
		ExternalUserId: c.ExternalUserID, ExpiresAt: c.ExpiresAt, Scopes: c.Scopes,
		Status: api.ConnectionStatus(c.Status), CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

func (s *Server) UploadWorkoutToGarmin(ctx context.Context, req api.UploadWorkoutToGarminRequestObject) (api.UploadWorkoutToGarminResponseObject, error) {
	svc, err := s.sync()
	if err != nil {
		return nil, err
	}
	up, err := svc.UploadWorkoutToGarmin(ctx, req.WorkoutId)
	if err != nil {
		return nil, err
	}
	return api.UploadWorkoutToGarmin200JSONResponse{WorkoutId: up.WorkoutID, GarminWorkoutId: up.GarminWorkoutID,
		UploadedToGarminAt: up.UploadedToGarminAt}, nil
}

// withSyncEvents serves the sync event stream in front of the generated
// routes: it streams, which the generated handlers and the buffering
// middlewares (ETag) cannot.
func (s *Server) withSyncEvents(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /v1/sync-sessions/{sessionId}/events", s.syncEvents())
	mux.Handle("/", next)
	return mux
}
