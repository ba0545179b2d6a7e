package shc

import (
	"strconv"
	"strings"
	"testing"
)

// toQR encodes a JWS as shc:/ numeric QR content (with a chunk header when
// total > 0).
func toQR(jws string, index, total int) string {
	var b strings.Builder
	b.WriteString("shc:/")
	if total > 0 {
		b.WriteString(strconv.Itoa(index) + "/" + strconv.Itoa(total) + "/")
	}
	for i := 0; i < len(jws); i++ {
		v := int(jws[i]) - 45
		b.WriteByte(byte('0' + v/10))
		b.WriteByte(byte('0' + v%10))
	}
	return b.String()
}

func TestDecodeQR(t *testing.T) {
	short := string(readFile(t, "spec-examples/example-00-d-jws.txt")) // 820 characters
	long := string(readFile(t, "spec-examples-2021/example-02-d-jws.txt"))
	third := len(long) / 3
	c1, c2, c3 := long[:third], long[third:2*third], long[2*third:]
	tooLong := long[:MaxSingleQRJWS+1]

	for _, tc := range []struct {
		name   string
		chunks []string
		want   string // "" means an ErrQR
	}{
		{"single", []string{toQR(short, 0, 0)}, short},
		{"single, whitespace", []string{" \n" + toQR(short, 0, 0) + "\r\n"}, short},
		{"single of 1195", []string{toQR(long[:MaxSingleQRJWS], 0, 0)}, long[:MaxSingleQRJWS]},
		{"three chunks", []string{toQR(c1, 1, 3), toQR(c2, 2, 3), toQR(c3, 3, 3)}, long},
		{"three chunks, any order", []string{toQR(c3, 3, 3), toQR(c1, 1, 3), toQR(c2, 2, 3)}, long},
		{"nothing", nil, ""},
		{"empty content", []string{"shc:/"}, ""},
		{"no slash", []string{"shc:" + toQR(short, 0, 0)[5:]}, ""},
		{"upper case", []string{"SHC:/" + toQR(short, 0, 0)[5:]}, ""},
		{"other scheme", []string{"shlink:/abc"}, ""},
		{"odd digits", []string{toQR(short, 0, 0) + "5"}, ""},
		{"pair 78", []string{"shc:/7856"}, ""},
		{"pair 99", []string{"shc:/5699"}, ""},
		{"letter", []string{"shc:/56a6"}, ""},
		{"single above 1195", []string{toQR(tooLong, 0, 0)}, ""},
		{"1 of 1", []string{toQR(short, 1, 1)}, ""},
		{"0 of 2", []string{toQR(c1, 0, 2), toQR(c2, 2, 2)}, ""},
		{"leading zero", []string{"shc:/01/2/" + toQR(c1, 0, 0)[5:], toQR(c2, 2, 2)}, ""},
		{"index beyond count", []string{toQR(c1, 1, 2), toQR(c2, 3, 2)}, ""},
		{"missing chunk", []string{toQR(c1, 1, 3), toQR(c3, 3, 3)}, ""},
		{"duplicate chunk", []string{toQR(c1, 1, 3), toQR(c1, 1, 3), toQR(c3, 3, 3)}, ""},
		{"counts disagree", []string{toQR(c1, 1, 3), toQR(c2, 2, 4), toQR(c3, 3, 3)}, ""},
		{"chunk header incomplete", []string{"shc:/1/3", toQR(c2, 2, 3), toQR(c3, 3, 3)}, ""},
		{"chunk header not numbers", []string{"shc:/a/3/5656", toQR(c2, 2, 3), toQR(c3, 3, 3)}, ""},
		{"huge count", []string{"shc:/1/99999/5656"}, ""},
		{"chunked with unchunked", []string{toQR(c1, 1, 2), toQR(c2, 0, 0)}, ""},
		{"two unchunked", []string{toQR(short, 0, 0), toQR(short, 0, 0)}, ""},
		{"chunk above 1191", []string{toQR(long[:1192], 1, 2), toQR(long[1192:2000], 2, 2)}, ""},
		{"needless chunks", []string{toQR(short[:400], 1, 2), toQR(short[400:], 2, 2)}, ""},
	} {
		got, err := DecodeQR(tc.chunks...)
		if tc.want == "" {
			wantErr(t, tc.name, err, ErrQR)
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %d characters, err %v", tc.name, len(got), err)
		}
	}
}

func TestDecode(t *testing.T) {
	jws := string(readFile(t, "spec-examples/example-00-d-jws.txt"))
	jws01 := string(readFile(t, "spec-examples/example-01-d-jws.txt"))
	file := string(readFile(t, "spec-examples/example-00-e-file.smart-health-card"))
	long := string(readFile(t, "spec-examples-2021/example-02-d-jws.txt"))
	third := len(long) / 3
	for _, tc := range []struct {
		name  string
		input string
		want  []string
		err   error
	}{
		{"jws", jws, []string{jws}, nil},
		{"two jws", jws + "\n" + jws01 + "\n", []string{jws, jws01}, nil},
		{"file", file, []string{jws}, nil},
		{"file with BOM", "\ufeff" + file, []string{jws}, nil},
		{"file, two cards", `{"verifiableCredential":["` + jws + `","` + jws01 + `"]}`, []string{jws, jws01}, nil},
		{"qr", toQR(jws, 0, 0), []string{jws}, nil},
		{"two qr", toQR(jws, 0, 0) + "\n" + toQR(jws01, 0, 0), []string{jws, jws01}, nil},
		{"chunks on one line", toQR(long[2*third:], 3, 3) + " " + toQR(long[:third], 1, 3) + "\t" + toQR(long[third:2*third], 2, 3), []string{long}, nil},
		{"parameters", `{"resourceType":"Parameters","parameter":[{"name":"x","valueString":"y"},{"name":"verifiableCredential","valueString":"` + jws + `"}]}`, []string{jws}, nil},
		{"empty", "", nil, ErrMalformed},
		{"blank", " \n\t", nil, ErrMalformed},
		{"BOM only", "\ufeff", nil, ErrMalformed},
		{"prose", "hello world", nil, ErrMalformed},
		{"jws and prose", jws + " and more", nil, ErrMalformed},
		{"two-part jws", "abc.def", nil, ErrMalformed},
		{"qr then jws", toQR(jws, 0, 0) + "\n" + jws, nil, ErrQR},
		{"chunk and single qr", toQR(long[:third], 1, 3) + "\n" + toQR(jws, 0, 0), nil, ErrQR},
		{"JSON array", `["` + jws + `"]`, nil, ErrMalformed},
		{"bad JSON", `{"verifiableCredential":`, nil, ErrMalformed},
		{"trailing garbage after JSON", file + "x", nil, ErrMalformed},
		{"empty list", `{"verifiableCredential":[]}`, nil, ErrMalformed},
		{"no list", `{"credentials":["` + jws + `"]}`, nil, ErrMalformed},
		{"list of numbers", `{"verifiableCredential":[1]}`, nil, ErrMalformed},
		{"a FHIR Bundle", `{"resourceType":"Bundle"}`, nil, ErrMalformed},
		{"parameters without card", `{"resourceType":"Parameters"}`, nil, ErrMalformed},
		{"parameters card without value", `{"resourceType":"Parameters","parameter":[{"name":"verifiableCredential"}]}`, nil, ErrMalformed},
	} {
		got, err := Decode([]byte(tc.input))
		if tc.err != nil {
			wantErr(t, tc.name, err, tc.err)
			continue
		}
		if err != nil || strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s: got %d JWS, err %v", tc.name, len(got), err)
		}
	}
}

func TestParseFile(t *testing.T) {
	got, err := ParseFile(readFile(t, "dev-tools-testdata/test-example-00-e-file-multi-jws.smart-health-card"))
	if err != nil || len(got) != 2 {
		t.Fatalf("got %d, %v", len(got), err)
	}
	// Strings are returned verbatim, even if they are not a JWS.
	got, err = ParseFile([]byte(`{"verifiableCredential":[" x "]}`))
	if err != nil || len(got) != 1 || got[0] != " x " {
		t.Errorf("got %q, %v", got, err)
	}
	for _, in := range []string{``, `null`, `[]`, `{}`, `{"verifiableCredential":null}`, `{"verifiableCredential":"x"}`} {
		_, err := ParseFile([]byte(in))
		wantErr(t, in, err, ErrMalformed)
	}
}
