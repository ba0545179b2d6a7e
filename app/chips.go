package app

import (
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
)

// chip is one choice of a chipBar: a label and, unless zero, a count.
type chip struct {
	key, label string
	count      int
}

// chipBar is a row of chips that scrolls sideways when it is wider than
// the screen; one chip is selected at a time.
type chipBar struct {
	widget.BaseWidget
	box      *fyne.Container
	scroll   *container.Scroll
	chips    []chip
	buttons  map[string]*widget.Button
	selected string
	onChange func(key string)
}

func newChipBar(onChange func(string)) *chipBar {
	c := &chipBar{box: container.NewHBox(), buttons: map[string]*widget.Button{}, onChange: onChange}
	c.scroll = container.NewHScroll(c.box)
	c.ExtendBaseWidget(c)
	return c
}

// set replaces the chips, keeping the selection.
func (c *chipBar) set(chips []chip) {
	c.chips = chips
	c.box.Objects = nil
	c.buttons = map[string]*widget.Button{}
	for _, ch := range chips {
		label := ch.label
		if ch.count > 0 {
			label += " " + strconv.Itoa(ch.count)
		}
		b := widget.NewButton(label, func() { c.choose(ch.key) })
		c.buttons[ch.key] = b
		c.box.Add(b)
	}
	c.Refresh()
}

// choose selects a chip, as a tap on it does.
func (c *chipBar) choose(key string) {
	c.selected = key
	c.Refresh()
	if c.onChange != nil {
		c.onChange(key)
	}
}

// Refresh marks the selected chip.
func (c *chipBar) Refresh() {
	for k, b := range c.buttons {
		imp := widget.LowImportance
		if k == c.selected {
			imp = widget.HighImportance
		}
		if b.Importance != imp {
			b.Importance = imp
			b.Refresh()
		}
	}
	c.box.Refresh()
}

func (c *chipBar) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(c.scroll) }
