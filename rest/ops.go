package rest

import (
	"bytes"
	"context"
	"io"
	"net/http"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/rest/api"
	"github.com/prometheus/common/expfmt"
)

func (s *Server) GetHealthz(ctx context.Context, _ api.GetHealthzRequestObject) (api.GetHealthzResponseObject, error) {
	return api.GetHealthz200JSONResponse{Status: "ok"}, nil
}

func (s *Server) GetReadyz(ctx context.Context, _ api.GetReadyzRequestObject) (api.GetReadyzResponseObject, error) {
	if err := s.Ready(ctx); err != nil {
		s.log.WarnContext(ctx, "not ready", "err", err)
		return nil, cairn.Wrap(cairn.EUNAVAILABLE, err, "not ready")
	}
	return api.GetReadyz200JSONResponse{Status: "ok"}, nil
}

// rawResponse writes bytes as they are (the embedded document, metrics).
type rawResponse struct {
	contentType string
	body        []byte
}

func (r rawResponse) write(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", r.contentType)
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(r.body)
	return err
}

func (r rawResponse) VisitGetOpenAPIResponse(w http.ResponseWriter) error { return r.write(w) }
func (r rawResponse) VisitGetMetricsResponse(w http.ResponseWriter) error { return r.write(w) }
func (r rawResponse) VisitListActivitiesResponse(w http.ResponseWriter) error {
	return r.write(w)
}

func (s *Server) GetOpenAPI(ctx context.Context, _ api.GetOpenAPIRequestObject) (api.GetOpenAPIResponseObject, error) {
	return rawResponse{"application/json", api.OpenAPIJSON}, nil
}

func (s *Server) GetMetrics(ctx context.Context, _ api.GetMetricsRequestObject) (api.GetMetricsResponseObject, error) {
	families, err := s.Metrics.Registry.Gather()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	format := expfmt.NewFormat(expfmt.TypeTextPlain)
	enc := expfmt.NewEncoder(io.Writer(&buf), format)
	for _, mf := range families {
		if err := enc.Encode(mf); err != nil {
			return nil, err
		}
	}
	return rawResponse{string(format), buf.Bytes()}, nil
}
