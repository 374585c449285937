package graphql

import (
	"context"

	"github.com/cairn-fit/cairn"
	graphql "github.com/graph-gophers/graphql-go"
)

// deviceList is a list of devices and what their fields load together.
type deviceList struct {
	s     *Server
	ctx   context.Context // the request's, for User (see must)
	items []cairn.Device
	users *siblings[string, *cairn.User]
}

func (s *Server) deviceList(ctx context.Context, items []cairn.Device) *deviceList {
	l := &deviceList{s: s, ctx: ctx, items: items}
	l.users = newSiblings(func() []string {
		out := make([]string, len(l.items))
		for i := range l.items {
			out[i] = l.items[i].UserID
		}
		return out
	}, s.loadUsers)
	return l
}

func (l *deviceList) resolver(i int) *deviceResolver { return &deviceResolver{list: l, d: &l.items[i]} }

// loadUsers reads users by id in one query.
func (s *Server) loadUsers(ctx context.Context, ids []string) (map[string]*cairn.User, error) {
	rows, err := s.d.Batch.FindUsers(ctx, ids)
	return byKey(rows, func(u *cairn.User) string { return u.ID }), err
}

type deviceResolver struct {
	list *deviceList
	d    *cairn.Device
}

func (r *deviceResolver) ID() graphql.ID          { return globalID(kindDevice, r.d.ID) }
func (r *deviceResolver) DatabaseID() graphql.ID  { return graphql.ID(r.d.ID) }
func (r *deviceResolver) Manufacturer() string    { return r.d.Manufacturer }
func (r *deviceResolver) Model() string           { return r.d.Model }
func (r *deviceResolver) SerialNumber() string    { return r.d.SerialNumber }
func (r *deviceResolver) FirmwareVersion() string { return r.d.FirmwareVersion }
func (r *deviceResolver) LastSyncAt() *dateTime   { return dtp(r.d.LastSyncAt) }
func (r *deviceResolver) Status() string          { return enumOut(r.d.Status) }
func (r *deviceResolver) CreatedAt() dateTime     { return dt(r.d.CreatedAt) }
func (r *deviceResolver) UpdatedAt() dateTime     { return dt(r.d.UpdatedAt) }

// User is resolved without a context; see must.
func (r *deviceResolver) User() *userResolver {
	u, err := r.list.users.load(r.list.ctx, r.d.UserID)
	if err == nil && u == nil {
		err = cairn.Errorf(cairn.ENOTFOUND, "not found")
	}
	return r.list.s.userOf(must(u, err))
}

func (r *deviceResolver) Activities(ctx context.Context, args pageArgs) (*connection[*activityResolver], error) {
	return r.list.s.activities(ctx, args, cairn.ActivityFilter{UserID: r.d.UserID, DeviceID: r.d.ID})
}
