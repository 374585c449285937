package rest

import (
	"context"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/rest/api"
	openapi_types "github.com/oapi-codegen/runtime/types"
)

func (s *Server) GetUser(ctx context.Context, req api.GetUserRequestObject) (api.GetUserResponseObject, error) {
	u, err := s.Users.FindUser(ctx, req.UserId)
	if err != nil {
		return nil, err
	}
	return api.GetUser200JSONResponse(userOut(u)), nil
}

func userOut(u *cairn.User) api.User {
	roles := make([]api.UserRoles, len(u.Roles))
	for i, r := range u.Roles {
		roles[i] = api.UserRoles(r)
	}
	return api.User{
		Id: u.ID, Email: openapi_types.Email(u.Email), Name: u.Name, Locale: u.Locale, Timezone: u.Timezone,
		Roles: roles, Status: api.UserStatus(u.Status), CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}
