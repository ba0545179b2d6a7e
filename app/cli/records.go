package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/healthwallet/healthwallet/internal/atomicfile"
	"github.com/healthwallet/healthwallet/wallet"
	"github.com/healthwallet/healthwallet/wallet/fhir"
)

func runImport(c *ctx, args []string) error {
	fs := c.flags("import")
	asJSON := fs.Bool("json", false, "print JSON")
	var opts wallet.ImportOptions
	fs.BoolVar(&opts.OtherPatient, "other-patient", false, "import another person's file as a family member's records")
	files, err := c.parseWithArgs(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("%w: healthwallet import FILE [FILE]", errUsage)
	}
	w, err := c.unlock()
	if err != nil {
		return err
	}
	defer w.Lock()
	var results []wallet.ImportResult
	var failed []string
	for _, f := range files {
		line := progressLine{w: c.Stderr}
		progress := func(done, total int64) {
			if total > 0 {
				line.show(done, total, "%s: %3d%% (%d of %d bytes)", filepath.Base(f), done*100/total, done, total)
			}
		}
		res, err := w.ImportFile(c.Context, f, progress, opts)
		line.end()
		if err != nil {
			// One bad file does not lose the others: report and go on.
			msg := explain(err)
			var other *wallet.OtherPatientError
			if errors.As(err, &other) {
				msg = res.File + ": " + other.Error() + "; add --other-patient to import it as a family member's records"
			}
			failed = append(failed, msg)
			fmt.Fprintf(c.Stderr, "healthwallet: %s\n", msg)
			continue
		}
		results = append(results, res)
		if !*asJSON {
			fmt.Fprintf(c.Stdout, "%s: %d added, %d updated, %d unchanged\n", res.File, res.Added, res.Updated, res.Unchanged)
			if res.Claimed != nil {
				fmt.Fprintf(c.Stdout, "  these records are now yours: %s\n", res.Claimed.Label())
			}
			for _, p := range res.Others {
				fmt.Fprintf(c.Stdout, "  a family member's records: %s\n", p.Label())
			}
			if res.Card != nil {
				fmt.Fprintf(c.Stdout, "  SMART Health Card from %s: %s%s\n", cardIssuer(res.Card), res.Card.Status, suffix(" (", res.Card.Reason, ")"))
			}
			for _, id := range res.Records {
				fmt.Fprintln(c.Stdout, "  "+id.String())
			}
			if res.Live > 0 {
				fmt.Fprintf(c.Stdout, "  %d live grant%s published a new version\n", res.Live, plural(res.Live))
			}
		}
		if res.LiveError != "" {
			fmt.Fprintf(c.Stderr, "healthwallet: live grants not all updated (retried on the next import): %s\n", res.LiveError)
		}
	}
	if *asJSON {
		if err := c.printJSON(results); err != nil {
			return err
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d files not imported", len(failed), len(files))
	}
	return nil
}

func cardIssuer(ci *wallet.CardInfo) string {
	if ci.IssuerName != "" {
		return ci.IssuerName + " <" + ci.Issuer + ">"
	}
	return ci.Issuer
}

func suffix(pre, s, post string) string {
	if s == "" {
		return ""
	}
	return pre + s + post
}

// recordJSON is one line of `records --json`.
type recordJSON struct {
	ID        string   `json:"id"`
	Type      string   `json:"type"`
	Date      string   `json:"date,omitempty"`
	Category  string   `json:"category"`
	Summary   string   `json:"summary"`
	Status    string   `json:"status,omitempty"`
	Code      string   `json:"code,omitempty"`
	System    string   `json:"system,omitempty"`
	Sensitive []string `json:"sensitive,omitempty"`
	Source    string   `json:"source,omitempty"`
	Card      string   `json:"card,omitempty"`
}

func toRecordJSON(r wallet.Record) recordJSON {
	out := recordJSON{ID: r.ID.String(), Type: r.Type, Date: r.Date, Category: string(r.Category), Summary: r.Summary,
		Status: r.Status, Code: r.Code, System: r.System, Source: r.Source.File}
	for _, s := range r.Sensitive {
		out.Sensitive = append(out.Sensitive, string(s))
	}
	if r.Card != nil {
		out.Card = r.Card.Status
	}
	return out
}

func runRecords(c *ctx, args []string) error {
	fs := c.flags("records")
	asJSON := fs.Bool("json", false, "print JSON")
	var f wallet.Filter
	var category string
	fs.StringVar(&f.Type, "type", "", "only this FHIR resource type")
	fs.StringVar(&category, "category", "", "only this category ("+categoryList()+")")
	fs.StringVar(&f.From, "from", "", "only records dated on or after YYYY-MM-DD")
	fs.StringVar(&f.To, "to", "", "only records dated on or before YYYY-MM-DD")
	fs.StringVar(&f.Text, "search", "", "only records whose summary contains this text")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	if category != "" {
		cat, err := parseCategory(category)
		if err != nil {
			return err
		}
		f.Category = cat
	}
	w, err := c.unlock()
	if err != nil {
		return err
	}
	defer w.Lock()
	recs, err := w.Records(f)
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]recordJSON, len(recs))
		for i, r := range recs {
			out[i] = toRecordJSON(r)
		}
		return c.printJSON(out)
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTYPE\tDATE\tCATEGORY\tSUMMARY")
	for _, r := range recs {
		mark := ""
		if r.IsSensitive() {
			mark = " [sensitive]"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s%s\n", r.ID, r.Type, r.Day(), r.Category, r.Summary, mark)
	}
	return tw.Flush()
}

func categoryList() string {
	var s []string
	for _, c := range fhir.AllCategories {
		s = append(s, string(c))
	}
	return strings.Join(s, ", ")
}

func parseCategory(s string) (fhir.Category, error) {
	for _, c := range fhir.AllCategories {
		if string(c) == s {
			return c, nil
		}
	}
	return "", fmt.Errorf("%w: unknown category %q (one of %s)", errUsage, s, categoryList())
}

func runShow(c *ctx, args []string) error {
	fs := c.flags("show")
	asJSON := fs.Bool("json", false, "print the FHIR resource as JSON")
	saveTo := fs.String("attachment", "", "write the record's PDF or image to this file")
	pos, err := c.parseWithArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: healthwallet show RECORD", errUsage)
	}
	w, err := c.unlock()
	if err != nil {
		return err
	}
	defer w.Lock()
	rec, err := w.FindRecord(pos[0])
	if err != nil {
		return err
	}
	res, err := w.Resource(c.Context, rec)
	if err != nil {
		return err
	}
	if *saveTo != "" {
		abs, _ := filepath.Abs(*saveTo)
		if err := atomicfile.Write(abs, 0o600, func(out io.Writer) error {
			return w.ReadAttachment(c.Context, rec, out, nil)
		}); err != nil {
			return err
		}
	}
	if *asJSON {
		_, err := c.Stdout.Write(append(res.JSON(), '\n'))
		return err
	}
	title, fields := fhir.Detail(res)
	fmt.Fprintln(c.Stdout, title)
	fmt.Fprintln(c.Stdout, strings.Repeat("─", min(len([]rune(title)), 72)))
	tw := tabwriter.NewWriter(c.Stdout, 0, 0, 2, ' ', 0)
	for _, f := range fields {
		fmt.Fprintf(tw, "%s\t%s\n", f.Label, f.Value)
	}
	fmt.Fprintf(tw, "Record\t%s\n", rec.ID)
	fmt.Fprintf(tw, "Category\t%s\n", rec.Category)
	if len(rec.Sensitive) > 0 {
		fmt.Fprintf(tw, "Sensitive\t%v\n", rec.Sensitive)
	}
	fmt.Fprintf(tw, "Imported\t%s from %s\n", rec.Imported.Local().Format(time.DateTime), rec.Source.File)
	if rec.Card != nil {
		fmt.Fprintf(tw, "SMART Health Card\t%s, issued by %s%s\n", rec.Card.Status, cardIssuer(rec.Card), suffix(" (", rec.Card.Reason, ")"))
	}
	return tw.Flush()
}

// selectionFlags adds the share-selection flags to fs.
func selectionFlags(fs *flag.FlagSet, sel *selectionArgs) {
	fs.Var(&sel.records, "records", "record ids, comma-separated (repeatable)")
	fs.Var(&sel.categories, "category", "a category to share (repeatable): "+categoryList())
	fs.Var(&sel.sensitive, "include-sensitive", "a sensitive category to include (repeatable): mental-health, substance-use, sexual-reproductive-health, hiv, genetics")
	fs.StringVar(&sel.from, "since", "", "only records dated on or after YYYY-MM-DD")
	fs.StringVar(&sel.to, "until", "", "only records dated on or before YYYY-MM-DD")
	fs.BoolVar(&sel.ips, "ips", false, "an International Patient Summary (allergies, medications, problems, immunizations, results)")
}

type selectionArgs struct {
	records, categories, sensitive stringList
	from, to                       string
	ips                            bool
}

func (s selectionArgs) resolve(w *wallet.Wallet) (wallet.Selection, error) {
	var sel wallet.Selection
	for _, list := range s.records {
		for _, r := range strings.Split(list, ",") {
			if r = strings.TrimSpace(r); r == "" {
				continue
			}
			rec, err := w.FindRecord(r)
			if err != nil {
				return sel, err
			}
			sel.Records = append(sel.Records, rec.ID)
		}
	}
	for _, cat := range s.categories {
		c, err := parseCategory(cat)
		if err != nil {
			return sel, err
		}
		sel.Categories = append(sel.Categories, c)
	}
	for _, name := range s.sensitive {
		sv, ok := fhir.ParseSensitive(name)
		if !ok {
			return sel, fmt.Errorf("%w: unknown sensitive category %q", errUsage, name)
		}
		sel.Sensitive = append(sel.Sensitive, sv)
	}
	sel.From, sel.To = s.from, s.to
	if s.ips {
		sel.Preset = wallet.PresetIPS
	}
	if len(sel.Records) == 0 && len(sel.Categories) == 0 && sel.Preset == "" {
		return sel, fmt.Errorf("%w: choose --records, --category or --ips", errUsage)
	}
	return sel, nil
}

func runExport(c *ctx, args []string) error {
	fs := c.flags("export")
	var sel selectionArgs
	selectionFlags(fs, &sel)
	out := fs.String("out", "", "write the Bundle to this file instead of stdout")
	if err := c.parse(fs, args); err != nil {
		return err
	}
	w, err := c.unlock()
	if err != nil {
		return err
	}
	defer w.Lock()
	s, err := sel.resolve(w)
	if err != nil {
		return err
	}
	b, recs, err := w.SharePackage(c.Context, s, w.Now())
	if errors.Is(err, wallet.ErrEmptySelection) {
		return fmt.Errorf("%w (sensitive records need --include-sensitive)", err)
	}
	if err != nil {
		return err
	}
	if *out == "" {
		_, err := c.Stdout.Write(append(b, '\n'))
		return err
	}
	abs, _ := filepath.Abs(*out)
	if err := atomicfile.WriteFile(abs, append(b, '\n'), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(c.Stderr, "wrote %d resources to %s\n", len(recs), *out)
	return nil
}
