package cairn

import "context"

// BatchStore reads many rows of one kind in one query, for transports that
// resolve lists of objects with their parts (GraphQL's loaders): the
// devices, summaries or metrics of a page of activities cost one query
// whatever the page's length. Like every store method each reads the actor
// from the context and returns only the rows it may see; ids it cannot see
// or that do not exist are left out, in no particular order.
type BatchStore interface {
	FindUsers(ctx context.Context, ids []string) ([]User, error)
	FindDevices(ctx context.Context, ids []string) ([]Device, error)
	// FindActivities returns activities deleted or not, as FindActivity.
	FindActivities(ctx context.Context, ids []string) ([]Activity, error)
	FindMetrics(ctx context.Context, ids []string) ([]Metric, error)
	FindWorkouts(ctx context.Context, ids []string) ([]Workout, error)
	FindHealthMetrics(ctx context.Context, ids []string) ([]HealthMetric, error)
	FindDailyMetrics(ctx context.Context, ids []string) ([]DailyMetric, error)
	// FindSummaries and FindRoutes return the summaries and routes of
	// the activities with these ids.
	FindSummaries(ctx context.Context, activityIDs []string) ([]Summary, error)
	FindRoutes(ctx context.Context, activityIDs []string) ([]Route, error)
	// FirstMetricPages returns, for each activity, the first page of
	// ListMetrics under f's types and page size (f.ActivityID is
	// ignored): the same rows, total and cursors, by activity id. An
	// activity holds at most one series per metric type.
	FirstMetricPages(ctx context.Context, activityIDs []string, f MetricFilter) (map[string]*Page[Metric], error)
}
