package app

import (
	"context"
	"fmt"
	"time"

	"fyne.io/fyne/v2/widget"

	"github.com/healthwallet/healthwallet/wallet"
)

// refreshChain shows the chain settings and asks the chain how it is; with
// sync it also brings the revocation mirror up to date.
func (v *settingsView) refreshChain(sync bool) {
	chain, err := v.u.chainState()
	if err != nil {
		v.chainConfig.SetText("Not configured")
		v.chainHead.Importance = widget.WarningImportance
		v.chainHead.SetText(userMessage(err) + " Sharing, redeeming and revoking need a chain.")
		v.mirror.SetText("")
		v.checkChain.Disable()
		return
	}
	v.chainConfig.SetText(fmt.Sprintf("RPC %s\nChain ID %d\nRegistry %s", chain.RPC, chain.ChainID, chain.Registry.Hex()))
	w := v.u.openWallet()
	if w == nil {
		return
	}
	v.checkChain.Disable()
	var st wallet.ChainStatus
	session := v.u.walletCtx()
	v.u.run(func() (err error) {
		ctx, cancel := context.WithTimeout(session, 10*time.Second)
		defer cancel()
		st, err = w.ChainStatus(ctx, chain, sync)
		return err
	}, func(err error) {
		v.checkChain.Enable()
		if err != nil {
			v.chainHead.Importance = widget.DangerImportance
			v.chainHead.SetText(userMessage(err))
			return
		}
		if st.HeadErr != nil {
			v.chainHead.Importance = widget.DangerImportance
			v.chainHead.SetText("Unreachable: " + oneLine(st.HeadErr.Error()))
		} else {
			v.chainHead.Importance = widget.SuccessImportance
			v.chainHead.SetText(fmt.Sprintf("Reachable: latest block %d", st.Head))
		}
		v.mirror.Importance, v.mirror.Text = mirrorText(st, v.u.now())
		v.mirror.Refresh()
	})
}

// mirrorText says how fresh the revocation mirror is, and what that means
// for checking grants.
func mirrorText(st wallet.ChainStatus, now time.Time) (widget.Importance, string) {
	m := st.Mirror
	switch {
	case m.SyncedAt.IsZero():
		return widget.MediumImportance, "Revocation mirror: not synced yet; the first check of a grant syncs it."
	case st.Fresh(now):
		return widget.SuccessImportance, fmt.Sprintf("Revocation mirror: fresh, synced to block %d %s ago (%d revocation%s). It answers on its own for %s after a sync.",
			m.SyncedBlock, durationText(now.Sub(m.SyncedAt)), m.Events, plural(m.Events), durationText(st.MaxAge))
	}
	return widget.WarningImportance, fmt.Sprintf("Revocation mirror: stale, last synced %s ago (block %d). Grants are checked with the registry directly, and refused while it is unreachable.",
		durationText(now.Sub(m.SyncedAt)), m.SyncedBlock)
}
