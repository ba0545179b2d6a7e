package shc

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestScratch(t *testing.T) {
	trust, err := LoadTrust("testdata")
	if err != nil {
		t.Fatal(err)
	}
	bad, err := LoadTrust("testdata/dev-tools-testdata/badcrl")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	files, _ := filepath.Glob("testdata/*/*")
	more, _ := filepath.Glob("testdata/dev-tools-testdata/badcrl/*/*.txt")
	files = append(files, more...)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		jwss, err := Decode(data)
		if err != nil {
			fmt.Printf("%-80s DECODE %v\n", f, err)
			continue
		}
		for _, j := range jwss {
			tr := trust
			if filepath.Base(filepath.Dir(filepath.Dir(f))) == "badcrl" {
				tr = bad
			}
			c, err := Verify(j, tr, now)
			st := ""
			if c != nil {
				st = string(c.Verification.Status) + " " + c.Verification.Reason
			}
			fmt.Printf("%-80s %v %s\n", f, err, st)
		}
	}
}
