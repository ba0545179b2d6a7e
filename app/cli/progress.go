package cli

import (
	"fmt"
	"io"
)

// progressLine is a progress line redrawn in place ("\rfetching:  42%").
// It is ended before anything else is printed: an operation that fails
// half way leaves it open, and the error (or the next attempt's progress)
// must start a line of its own.
type progressLine struct {
	w    io.Writer
	open bool
}

// show redraws the line; done == total ends it.
func (p *progressLine) show(done, total int64, format string, args ...any) {
	fmt.Fprintf(p.w, "\r"+format, args...)
	p.open = done < total
	if !p.open {
		fmt.Fprintln(p.w)
	}
}

// end ends the line if it is open.
func (p *progressLine) end() {
	if p.open {
		fmt.Fprintln(p.w)
		p.open = false
	}
}
