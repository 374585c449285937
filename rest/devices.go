package rest

import (
	"context"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/rest/api"
)

func (s *Server) ListDevices(ctx context.Context, req api.ListDevicesRequestObject) (api.ListDevicesResponseObject, error) {
	p := req.Params
	page, err := pageRequest(p.Cursor, p.Limit)
	if err == nil {
		err = enum("status", p.Status)
	}
	if err != nil {
		return nil, err
	}
	list, err := s.Devices.ListDevices(ctx, cairn.DeviceFilter{UserID: req.UserId, Status: string(deref(p.Status)),
		Model: deref(p.Model), Page: page})
	if err != nil {
		return nil, err
	}
	return api.ListDevices200JSONResponse{Data: mapSlice(list.Data, deviceOut), NextCursor: list.NextCursor,
		PrevCursor: list.PrevCursor, Total: list.Total}, nil
}

func (s *Server) CreateDevice(ctx context.Context, req api.CreateDeviceRequestObject) (api.CreateDeviceResponseObject, error) {
	b := req.Body
	d := &cairn.Device{UserID: req.UserId, Manufacturer: deref(b.Manufacturer), Model: b.Model,
		SerialNumber: deref(b.SerialNumber), FirmwareVersion: deref(b.FirmwareVersion),
		Status: string(deref(b.Status)), LastSyncAt: b.LastSyncAt}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if _, err := s.Users.FindUser(ctx, req.UserId); err != nil {
		return nil, err
	}
	if err := s.Devices.CreateDevice(ctx, d); err != nil {
		return nil, err
	}
	return api.CreateDevice201JSONResponse(deviceOut(d)), nil
}

func (s *Server) GetDevice(ctx context.Context, req api.GetDeviceRequestObject) (api.GetDeviceResponseObject, error) {
	d, err := s.Devices.FindDevice(ctx, req.DeviceId)
	if err != nil {
		return nil, err
	}
	return api.GetDevice200JSONResponse(deviceOut(d)), nil
}

func (s *Server) UpdateDevice(ctx context.Context, req api.UpdateDeviceRequestObject) (api.UpdateDeviceResponseObject, error) {
	b := req.Body
	patch := cairn.DevicePatch{FirmwareVersion: b.FirmwareVersion, Status: (*string)(b.Status), LastSyncAt: b.LastSyncAt}
	var d *cairn.Device
	err := retryStale(req.Params.IfMatch, func() (err error) {
		if d, err = s.Devices.FindDevice(ctx, req.DeviceId); err != nil {
			return err
		}
		if err := checkIfMatch(req.Params.IfMatch, deviceOut(d)); err != nil {
			return err
		}
		seen := d.UpdatedAt
		if err := patch.Apply(d); err != nil {
			return err
		}
		return s.Devices.UpdateDevice(ctx, d, seen)
	})
	if err != nil {
		return nil, err
	}
	return api.UpdateDevice200JSONResponse(deviceOut(d)), nil
}

// retryStale runs a read-check-write change again when another request
// changed the resource in between, unless the client made the change
// conditional with If-Match: then that precondition has failed.
func retryStale(ifMatch *string, change func() error) error {
	for attempt := 1; ; attempt++ {
		err := change()
		if cairn.ErrorCode(err) != cairn.EPRECONDITION || (ifMatch != nil && *ifMatch != "") || attempt == 3 {
			return err
		}
	}
}
