package app

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// The tabs of the unlocked wallet; the names are also the screenshot names.
const (
	tabRecords  = "records"
	tabShare    = "share"
	tabByMe     = "shared-by-me"
	tabWithMe   = "shared-with-me"
	tabSettings = "settings"
)

// shell is the unlocked wallet: a header with the lock button and one tab
// per screen. On desktop the tabs run down the leading edge; on a phone
// they sit at the bottom, one column above them.
type shell struct {
	tabs  *container.AppTabs
	names []string
	// onShow refreshes a tab's data when it is selected.
	onShow map[string]func()
	// themed is the theme change each tab last saw (theme.go).
	themed map[string]int
}

// showWallet builds the tabs of the unlocked wallet. Its screen name stays
// "wallet"; the tab on show is u.tabNow().
func (u *UI) showWallet() {
	w := u.openWallet()
	if w == nil {
		u.showUnlock()
		return
	}
	sh := &shell{onShow: map[string]func(){}, themed: map[string]int{}}
	u.sh = sh
	u.records = u.newRecordsView()
	u.share = u.newShareView()
	u.byMe = u.newSharedByMeView()
	u.withMe = u.newSharedWithMeView()
	u.settings = u.newSettingsView()

	mobile := isMobile()
	label := func(desktop, phone string) string {
		if mobile {
			return phone
		}
		return desktop
	}
	items := []struct {
		name, text string
		icon       fyne.Resource
		content    fyne.CanvasObject
		show       func()
	}{
		{tabRecords, "Records", theme.ListIcon(), u.records.content, u.records.reload},
		{tabShare, "Share", theme.MailSendIcon(), u.share.content, u.share.refresh},
		{tabByMe, label("Shared by me", "By me"), theme.UploadIcon(), u.byMe.content, u.byMe.reload},
		{tabWithMe, label("Shared with me", "With me"), theme.DownloadIcon(), u.withMe.content, u.withMe.reload},
		{tabSettings, "Settings", theme.SettingsIcon(), u.settings.content, u.settings.refresh},
	}
	sh.tabs = container.NewAppTabs()
	for _, it := range items {
		sh.tabs.Append(container.NewTabItemWithIcon(it.text, it.icon, it.content))
		sh.names = append(sh.names, it.name)
		sh.onShow[it.name] = it.show
		sh.themed[it.name] = u.themeGen
	}
	if mobile {
		sh.tabs.SetTabLocation(container.TabLocationBottom)
	} else {
		sh.tabs.SetTabLocation(container.TabLocationLeading)
	}
	sh.tabs.OnSelected = func(*container.TabItem) {
		u.touch()
		u.themeTab(u.tabNow())
		if show := sh.onShow[u.tabNow()]; show != nil {
			show()
		}
	}

	title := widget.NewLabelWithStyle("Health Wallet", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	who := widget.NewLabel(shortAddress(w.Info().Address))
	who.Importance = widget.LowImportance
	header := container.NewBorder(nil, nil, container.NewHBox(title, who), u.wv.lock)
	u.setScreen("wallet", container.NewBorder(container.NewVBox(header, widget.NewSeparator()), nil, nil, nil, sh.tabs))
	u.records.reload()
}

// tabNow names the tab on show, or "" when the wallet is not open.
func (u *UI) tabNow() string {
	if u.sh == nil || u.screenNow() != "wallet" {
		return ""
	}
	return u.sh.names[u.sh.tabs.SelectedIndex()]
}

// selectTab shows the named tab.
func (u *UI) selectTab(name string) {
	for i, n := range u.sh.names {
		if n == name {
			u.sh.tabs.SelectIndex(i)
		}
	}
}

// masterDetail is a list beside its selected item on desktop, and a list
// that pushes the item as a page (with a back button) on a phone.
type masterDetail struct {
	content fyne.CanvasObject
	nav     *container.Navigation // phone
	detail  *fyne.Container       // desktop: the trailing pane
	empty   fyne.CanvasObject
}

// newMasterDetail lays out master with room for a detail; hint fills the
// detail pane on desktop until something is chosen.
func newMasterDetail(title string, master fyne.CanvasObject, hint string) *masterDetail {
	m := &masterDetail{}
	// In a scroll, wrapped labels get their width before they are measured,
	// and the window does not grow to fit what is wider than it.
	master = container.NewScroll(master)
	if isMobile() {
		m.nav = container.NewNavigationWithTitle(master, title)
		m.nav.ExtendBaseWidget(m.nav) // so show can build its stack before it is drawn
		m.content = m.nav
		return m
	}
	h := widget.NewLabel(hint)
	h.Alignment = fyne.TextAlignCenter
	h.Importance = widget.LowImportance
	m.empty = container.NewCenter(h)
	m.detail = container.NewStack(m.empty)
	split := container.NewHSplit(master, m.detail)
	split.Offset = 0.42
	m.content = split
	return m
}

// show puts detail beside the list (desktop) or on top of it (phone).
func (m *masterDetail) show(title string, detail fyne.CanvasObject) {
	if m.nav != nil {
		m.nav.MinSize() // builds the navigation's stack before the first push
		for m.nav.Back() != nil {
		}
		m.nav.PushWithTitle(detail, fitTitle(title, navTitleWidth(m.nav.Size().Width)))
		return
	}
	m.detail.Objects = []fyne.CanvasObject{detail}
	m.detail.Refresh()
}

// navTitleWidth is the room a phone navigation's title has in a bar width
// wide: it is centred over the whole bar, so it must keep clear of the back
// button on both sides.
func navTitleWidth(width float32) float32 {
	if width <= 0 {
		width = phoneSize.Width
	}
	th := fyne.CurrentApp().Settings().Theme()
	button := th.Size(theme.SizeNameInlineIcon) + 2*th.Size(theme.SizeNameInnerPadding) + th.Size(theme.SizeNamePadding)
	return width - 2*button - 2*th.Size(theme.SizeNameInnerPadding)
}

// fitTitle shortens title, with an ellipsis, to fit in width as a
// navigation title is drawn; the full title heads the page under it.
func fitTitle(title string, width float32) string {
	th := fyne.CurrentApp().Settings().Theme()
	size := th.Size(theme.SizeNameText)
	fits := func(s string) bool { return fyne.MeasureText(s, size, fyne.TextStyle{}).Width <= width }
	if fits(title) {
		return title
	}
	r := []rune(title)
	for len(r) > 0 && !fits(strings.TrimSpace(string(r))+"…") {
		r = r[:len(r)-1]
	}
	return strings.TrimSpace(string(r)) + "…"
}

// section is a titled group of a screen.
func section(title string, objs ...fyne.CanvasObject) fyne.CanvasObject {
	return widget.NewCard(title, "", container.NewVBox(objs...))
}

// buttonRow right-aligns buttons on desktop and stacks them full width on
// a phone.
func buttonRow(buttons ...fyne.CanvasObject) fyne.CanvasObject {
	if isMobile() {
		return container.NewVBox(buttons...)
	}
	return container.NewHBox(append([]fyne.CanvasObject{layout.NewSpacer()}, buttons...)...)
}

// columns puts objects side by side on desktop and under each other on a
// phone.
func columns(objs ...fyne.CanvasObject) fyne.CanvasObject {
	if isMobile() {
		return container.NewVBox(objs...)
	}
	return container.NewGridWithColumns(len(objs), objs...)
}

// wrapped is a label that wraps.
func wrapped(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// mono is a monospace label that breaks anywhere (DIDs, links),
// selectable where text can be (selectableText).
func mono(text string) *widget.Label {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	l.Wrapping = fyne.TextWrapBreak
	l.Selectable = selectableText()
	return l
}

// selectableText reports whether labels may be selectable. Not on a
// phone: there a drag on selectable text selects it instead of scrolling
// the page, so text is copied with a button instead.
func selectableText() bool { return !isMobile() }

// heading is a bold label.
func heading(text string) *widget.Label {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.Wrapping = fyne.TextWrapWord
	return l
}
