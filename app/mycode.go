package app

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// myCodePage shows this wallet's contact code: its DID as a QR code to
// scan, and as text to copy. It holds no secret.
type myCodePage struct {
	content fyne.CanvasObject
	qr      *canvas.Image // nil if the code could not be drawn
	did     *widget.Label
	copy    *widget.Button
}

func (u *UI) newMyCodePage() *myCodePage {
	p := &myCodePage{}
	w := u.openWallet()
	if w == nil {
		p.content = wrapped("The wallet is locked.")
		return p
	}
	text, png, err := w.MyCode()
	p.did = mono(text)
	p.copy = widget.NewButtonWithIcon("Copy my code", theme.ContentCopyIcon(), u.act(func() { u.app.Clipboard().SetContent(text) }))
	p.copy.Importance = widget.HighImportance
	items := []fyne.CanvasObject{heading("My code")}
	if err == nil {
		p.qr = qrImage("my-code.png", png, 240)
		items = append(items, container.NewCenter(p.qr))
	} else {
		items = append(items, wrapped(userMessage(err)))
	}
	help := wrapped("Let the people who share with you scan this code (Add contact → From a picture), or send it to them. " +
		"It only tells them who you are: it opens nothing.")
	items = append(items, help, p.did, buttonRow(p.copy))
	p.content = container.NewScroll(container.NewPadded(container.NewVBox(items...)))
	return p
}

// qrImage is a PNG QR code of the given name at least size pixels wide,
// drawn sharp.
func qrImage(name string, png []byte, size float32) *canvas.Image {
	qr := canvas.NewImageFromResource(fyne.NewStaticResource(name, png))
	qr.FillMode = canvas.ImageFillContain
	qr.ScaleMode = canvas.ImageScalePixels
	qr.SetMinSize(fyne.NewSize(size, size))
	return qr
}
