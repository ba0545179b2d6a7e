package app

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/catalog"
)

// recordPicker chooses single records to share: a searchable list where a
// tap ticks or unticks a record.
type recordPicker struct {
	all, shown []wallet.Record
	picked     map[catalog.ID]bool
	search     *widget.Entry
	list       *widget.List
	dialog     *dialog.CustomDialog
}

// openPicker shows the picker over the share form; closing it keeps the
// ticks.
func (v *shareView) openPicker() {
	p := &recordPicker{all: v.all, picked: v.picked}
	p.shown = p.all
	p.search = widget.NewEntry()
	p.search.SetPlaceHolder("Search records")
	p.search.OnChanged = func(s string) {
		v.u.touch()
		f := wallet.Filter{Text: strings.TrimSpace(s)}
		p.shown = nil
		for _, r := range p.all {
			if f.Match(r) {
				p.shown = append(p.shown, r)
			}
		}
		p.list.UnselectAll()
		p.list.Refresh()
	}
	p.list = widget.NewList(
		func() int { return len(p.shown) },
		func() fyne.CanvasObject {
			return container.NewBorder(nil, nil, widget.NewIcon(theme.CheckButtonIcon()), nil, newRecordRow())
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			r := p.shown[id]
			c := o.(*fyne.Container)
			c.Objects[0].(*recordRow).set(r)
			icon := theme.CheckButtonIcon()
			if p.picked[r.ID] {
				icon = theme.CheckButtonCheckedIcon()
			}
			c.Objects[1].(*widget.Icon).SetResource(icon)
		})
	p.list.OnSelected = func(id widget.ListItemID) {
		v.u.touch()
		p.toggle(id)
		p.list.Unselect(id)
	}
	size := fyne.NewSize(640, 480)
	if isMobile() {
		size = v.u.win.Canvas().Size()
	}
	p.dialog = dialog.NewCustom("Pick records", "Done", container.NewBorder(p.search, nil, nil, nil, p.list), v.u.win)
	p.dialog.SetOnClosed(v.changed)
	p.dialog.Resize(size)
	p.dialog.Show()
	v.picker = p
}

// toggle ticks or unticks the shown record id.
func (p *recordPicker) toggle(id widget.ListItemID) {
	if id >= len(p.shown) {
		return
	}
	r := p.shown[id]
	if p.picked[r.ID] {
		delete(p.picked, r.ID)
	} else {
		p.picked[r.ID] = true
	}
	p.list.RefreshItem(id)
}
