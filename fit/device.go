package fit

import (
	"cmp"
	"fmt"
	"strconv"

	"github.com/cairn-fit/cairn"
	"github.com/muktihari/fit/profile/basetype"
	"github.com/muktihari/fit/profile/mesgdef"
	"github.com/muktihari/fit/profile/typedef"
	"github.com/muktihari/fit/profile/untyped/mesgnum"
	"github.com/muktihari/fit/proto"
)

// deviceBuilder collects what a file says about the device that created
// it: file_id first, then the creator's device_info and file_creator.
type deviceBuilder struct {
	manufacturer typedef.Manufacturer
	product      uint16
	productName  string
	serial       uint32
	software     *float64
	creatorSW    *float64 // file_creator software_version, the fallback
	seen         bool
}

func newDeviceBuilder() deviceBuilder {
	return deviceBuilder{
		manufacturer: typedef.ManufacturerInvalid,
		product:      basetype.Uint16Invalid,
		serial:       basetype.Uint32zInvalid,
	}
}

func (d *deviceBuilder) fileID(id *mesgdef.FileId) {
	d.seen = true
	d.manufacturer, d.product, d.productName, d.serial = id.Manufacturer, id.Product, id.ProductName, id.SerialNumber
}

// add takes device_info and file_creator messages.
func (d *deviceBuilder) add(m *proto.Message) {
	switch m.Num {
	case mesgnum.DeviceInfo:
		d.deviceInfo(mesgdef.NewDeviceInfo(m))
	case mesgnum.FileCreator:
		if v := mesgdef.NewFileCreator(m).SoftwareVersion; v != basetype.Uint16Invalid && v != 0 {
			d.creatorSW = ptr(float64(v) / 100)
		}
	}
}

// deviceInfo fills in from the creator's device_info (device index 0),
// what file_id left out.
func (d *deviceBuilder) deviceInfo(di *mesgdef.DeviceInfo) {
	if di.DeviceIndex != typedef.DeviceIndexCreator {
		return
	}
	d.seen = true
	if d.manufacturer == typedef.ManufacturerInvalid {
		d.manufacturer = di.Manufacturer
	}
	if d.product == basetype.Uint16Invalid {
		d.product = di.Product
	}
	if d.productName == "" {
		d.productName = di.ProductName
	}
	if d.serial == basetype.Uint32zInvalid {
		d.serial = di.SerialNumber
	}
	if v := ptr(di.SoftwareVersionScaled()); v != nil && *v > 0 { // 0: not set
		d.software = v
	}
}

// info returns the device, nil when the file names none.
func (d *deviceBuilder) info() *cairn.DeviceInfo {
	if !d.seen {
		return nil
	}
	info := &cairn.DeviceInfo{
		Manufacturer: enumName(d.manufacturer, d.manufacturer == typedef.ManufacturerInvalid, "manufacturer", int(d.manufacturer)),
		Model:        d.model(),
	}
	if d.serial != basetype.Uint32zInvalid && d.serial != basetype.Uint32Invalid {
		info.SerialNumber = strconv.FormatUint(uint64(d.serial), 10)
	}
	if sw := cmp.Or(d.software, d.creatorSW); sw != nil {
		info.FirmwareVersion = fmt.Sprintf("%.2f", *sw)
	}
	if *info == (cairn.DeviceInfo{}) {
		return nil
	}
	return info
}

// model is the product name the file gives, else Garmin's product name
// for the Garmin family (whose product field is a garmin_product), else
// the product number.
func (d *deviceBuilder) model() string {
	if d.productName != "" {
		return d.productName
	}
	if d.product == basetype.Uint16Invalid {
		return ""
	}
	switch d.manufacturer {
	case typedef.ManufacturerGarmin, typedef.ManufacturerDynastream,
		typedef.ManufacturerDynastreamOem, typedef.ManufacturerTacx:
		p := typedef.GarminProduct(d.product)
		return enumName(p, false, "product", int(d.product))
	}
	return strconv.Itoa(int(d.product))
}
