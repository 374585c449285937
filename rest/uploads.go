package rest

import (
	"context"
	"errors"
	"io"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/rest/api"
)

func (s *Server) CreateUpload(ctx context.Context, req api.CreateUploadRequestObject) (api.CreateUploadResponseObject, error) {
	if req.Body == nil {
		return nil, cairn.Invalid(map[string]string{"file": "a multipart/form-data body with a file field is required"})
	}
	for {
		part, err := req.Body.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, cairn.Invalid(map[string]string{"file": "is required"})
		} else if err != nil {
			return nil, cairn.Invalid(map[string]string{"body": "is not valid multipart/form-data"})
		}
		if part.FormName() != "file" {
			part.Close()
			continue
		}
		u, err := s.Uploads.Accept(ctx, req.UserId, part.FileName(), part)
		part.Close()
		if err != nil {
			return nil, err
		}
		return api.CreateUpload202JSONResponse(uploadOut(u)), nil
	}
}

func (s *Server) GetUpload(ctx context.Context, req api.GetUploadRequestObject) (api.GetUploadResponseObject, error) {
	u, err := s.Uploads.FindUpload(ctx, req.UploadId)
	if err != nil {
		return nil, err
	}
	return api.GetUpload200JSONResponse(uploadOut(u)), nil
}

func uploadOut(u *cairn.Upload) api.Upload {
	out := api.Upload{
		Id: u.ID, UserId: u.UserID, Filename: u.Filename, Size: u.Size, Status: api.UploadStatus(u.Status),
		ActivityIds: nonNil(u.ActivityIDs), WorkoutIds: nonNil(u.WorkoutIDs), HealthMetrics: u.HealthMetrics,
		Partial: u.Partial, Warnings: nonNil(u.Warnings), CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
	if u.FileHash != "" {
		out.FileHash = &u.FileHash
	}
	if u.Kind != "" {
		k := api.UploadKind(u.Kind)
		out.Kind = &k
	}
	if u.Error != nil {
		out.Error = &api.UploadError{Code: u.Error.Code, Message: u.Error.Message}
	}
	return out
}

// nonNil makes empty lists encode as [] rather than null.
func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}
