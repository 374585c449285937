package graphql

import (
	"context"
	"sync"

	"github.com/cairn-fit/cairn"
	graphql "github.com/graph-gophers/graphql-go"
)

// userResolver is a user, read when a profile field first needs it.
type userResolver struct {
	s  *Server
	id string
	// granted: an admin operation answered the user, and its permission
	// covers the profile fields (as REST's admin answers show them).
	granted bool

	once sync.Once
	load func(context.Context) (*cairn.User, error)
	u    *cairn.User
	err  error
}

// userByID resolves the user with this id, read with FindUser if needed.
func (s *Server) userByID(id string) *userResolver {
	return &userResolver{s: s, id: id, load: func(ctx context.Context) (*cairn.User, error) {
		return s.d.Users.FindUser(ctx, id)
	}}
}

// userOf resolves a user already read.
func (s *Server) userOf(u *cairn.User) *userResolver {
	return &userResolver{s: s, id: u.ID, u: u, load: func(context.Context) (*cairn.User, error) { return u, nil }}
}

// profile is the user, for the fields that need profile:read.
func (r *userResolver) profile(ctx context.Context) (*cairn.User, error) {
	if !r.granted {
		if err := r.s.need(ctx, opGetUser); err != nil {
			return nil, err
		}
	}
	r.once.Do(func() { r.u, r.err = r.load(ctx) })
	return r.u, r.err
}

func (r *userResolver) ID() graphql.ID         { return globalID(kindUser, r.id) }
func (r *userResolver) DatabaseID() graphql.ID { return graphql.ID(r.id) }

func (r *userResolver) field(ctx context.Context, f func(*cairn.User) string) (string, error) {
	u, err := r.profile(ctx)
	if err != nil {
		return "", err
	}
	return f(u), nil
}

func (r *userResolver) Email(ctx context.Context) (string, error) {
	return r.field(ctx, func(u *cairn.User) string { return u.Email })
}

func (r *userResolver) Name(ctx context.Context) (string, error) {
	return r.field(ctx, func(u *cairn.User) string { return u.Name })
}

func (r *userResolver) Locale(ctx context.Context) (string, error) {
	return r.field(ctx, func(u *cairn.User) string { return u.Locale })
}

func (r *userResolver) Timezone(ctx context.Context) (string, error) {
	return r.field(ctx, func(u *cairn.User) string { return u.Timezone })
}

func (r *userResolver) Status(ctx context.Context) (string, error) {
	return r.field(ctx, func(u *cairn.User) string { return u.Status })
}

func (r *userResolver) Roles(ctx context.Context) ([]string, error) {
	u, err := r.profile(ctx)
	if err != nil {
		return nil, err
	}
	return append([]string{}, u.Roles...), nil
}

func (r *userResolver) CreatedAt(ctx context.Context) (dateTime, error) {
	u, err := r.profile(ctx)
	if err != nil {
		return dateTime{}, err
	}
	return dt(u.CreatedAt), nil
}

func (r *userResolver) UpdatedAt(ctx context.Context) (dateTime, error) {
	u, err := r.profile(ctx)
	if err != nil {
		return dateTime{}, err
	}
	return dt(u.UpdatedAt), nil
}

type devicesArgs struct {
	pageArgs
	Status *string
	Model  *string
}

func (r *userResolver) Devices(ctx context.Context, args devicesArgs) (*connection[*deviceResolver], error) {
	s := r.s
	if err := s.need(ctx, opListDevices); err != nil {
		return nil, err
	}
	p, err := args.request()
	if err != nil {
		return nil, err
	}
	f := cairn.DeviceFilter{UserID: r.id, Model: deref(args.Model), Page: p}
	if args.Status != nil {
		f.Status = enumIn[string](*args.Status)
	}
	page, err := s.d.Devices.ListDevices(ctx, f)
	if err != nil {
		return nil, err
	}
	list := s.deviceList(ctx, page.Data)
	return newConnection(ctx, page, list.resolver)
}

type activitiesArgs struct {
	pageArgs
	Type      *string
	DeviceID  *graphql.ID
	Source    *string
	StartDate *dateTime
	EndDate   *dateTime
}

func (r *userResolver) Activities(ctx context.Context, args activitiesArgs) (*connection[*activityResolver], error) {
	f := cairn.ActivityFilter{UserID: r.id, Start: timep(args.StartDate), End: timep(args.EndDate)}
	if args.Type != nil {
		f.Type = enumIn[cairn.ActivityType](*args.Type)
	}
	if args.Source != nil {
		f.Source = enumIn[string](*args.Source)
	}
	device, err := optID(args.DeviceID, kindDevice, "deviceId")
	if err != nil {
		return nil, err
	}
	f.DeviceID = deref(device)
	if f.Start != nil && f.End != nil && !f.End.After(*f.Start) {
		return nil, cairn.Invalid(map[string]string{"endDate": "must be after startDate"})
	}
	return r.s.activities(ctx, args.pageArgs, f)
}

// activities resolves a page of activities (live ones only).
func (s *Server) activities(ctx context.Context, args pageArgs, f cairn.ActivityFilter) (*connection[*activityResolver], error) {
	if err := s.need(ctx, opListActivities); err != nil {
		return nil, err
	}
	p, err := args.request()
	if err != nil {
		return nil, err
	}
	f.Page = p
	page, err := s.d.Activities.ListActivities(ctx, f)
	if err != nil {
		return nil, err
	}
	list := s.activityList(ctx, page.Data)
	return newConnection(ctx, page, list.resolver)
}

type healthArgs struct {
	pageArgs
	Type      *string
	StartDate *dateTime
	EndDate   *dateTime
}

func (r *userResolver) HealthMetrics(ctx context.Context, args healthArgs) (*connection[*healthResolver], error) {
	s := r.s
	if err := s.need(ctx, opListHealth); err != nil {
		return nil, err
	}
	p, err := args.request()
	if err != nil {
		return nil, err
	}
	f := cairn.HealthFilter{UserID: r.id, Start: timep(args.StartDate), End: timep(args.EndDate), Page: p}
	if args.Type != nil {
		f.Type = enumIn[string](*args.Type)
	}
	if f.Start != nil && f.End != nil && !f.End.After(*f.Start) {
		return nil, cairn.Invalid(map[string]string{"endDate": "must be after startDate"})
	}
	page, err := s.d.Health.ListHealthMetrics(ctx, f)
	if err != nil {
		return nil, err
	}
	return newConnection(ctx, page, func(i int) *healthResolver { return &healthResolver{m: &page.Data[i]} })
}

type dailyArgs struct {
	pageArgs
	StartDate *date
	EndDate   *date
}

func (r *userResolver) DailyMetrics(ctx context.Context, args dailyArgs) (*connection[*dailyResolver], error) {
	s := r.s
	if err := s.need(ctx, opListDaily); err != nil {
		return nil, err
	}
	p, err := args.request()
	if err != nil {
		return nil, err
	}
	f := cairn.DailyFilter{UserID: r.id, Start: string(deref(args.StartDate)), End: string(deref(args.EndDate)), Page: p}
	if f.Start != "" && f.End != "" && f.End <= f.Start {
		return nil, cairn.Invalid(map[string]string{"endDate": "must be after startDate"})
	}
	page, err := s.d.Health.ListDailyMetrics(ctx, f)
	if err != nil {
		return nil, err
	}
	return newConnection(ctx, page, func(i int) *dailyResolver { return &dailyResolver{d: &page.Data[i]} })
}

type workoutsArgs struct {
	pageArgs
	Sport *string
}

func (r *userResolver) Workouts(ctx context.Context, args workoutsArgs) (*connection[*workoutResolver], error) {
	s := r.s
	if err := s.need(ctx, opListWorkouts); err != nil {
		return nil, err
	}
	p, err := args.request()
	if err != nil {
		return nil, err
	}
	f := cairn.WorkoutFilter{UserID: r.id, Page: p}
	if args.Sport != nil {
		f.Sport = enumIn[cairn.ActivityType](*args.Sport)
	}
	page, err := s.d.Workouts.ListWorkouts(ctx, f)
	if err != nil {
		return nil, err
	}
	return newConnection(ctx, page, func(i int) *workoutResolver { return &workoutResolver{w: &page.Data[i]} })
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
