package app

import (
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
}

// showWallet builds the tabs of the unlocked wallet. Its screen name stays
// "wallet"; the tab on show is u.tabNow().
func (u *UI) showWallet() {
	w := u.openWallet()
	if w == nil {
		u.showUnlock()
		return
	}
	sh := &shell{onShow: map[string]func(){}}
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
	}
	if mobile {
		sh.tabs.SetTabLocation(container.TabLocationBottom)
	} else {
		sh.tabs.SetTabLocation(container.TabLocationLeading)
	}
	sh.tabs.OnSelected = func(*container.TabItem) {
		u.touch()
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
		m.nav.PushWithTitle(detail, title)
		return
	}
	m.detail.Objects = []fyne.CanvasObject{detail}
	m.detail.Refresh()
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

// mono is a selectable monospace label that breaks anywhere (DIDs, links).
func mono(text string) *widget.Label {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	l.Wrapping = fyne.TextWrapBreak
	l.Selectable = true
	return l
}

// heading is a bold label.
func heading(text string) *widget.Label {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.Wrapping = fyne.TextWrapWord
	return l
}
