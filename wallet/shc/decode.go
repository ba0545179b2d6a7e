package shc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// QR size limits of the specification ("Health Cards as QR Codes"): a JWS
// presented as a single QR code has at most MaxSingleQRJWS characters; a
// longer one is split into chunks (deprecated since spec 1.3) of at most
// MaxChunkJWS characters each. Files have no such limit.
const (
	MaxSingleQRJWS = 1195
	MaxChunkJWS    = 1191
)

// qrPrefix starts every SMART Health Card QR code (IANA scheme "shc").
const qrPrefix = "shc:/"

// utf8BOM is stripped from the start of files and pasted text.
var utf8BOM = []byte("\xef\xbb\xbf")

// Decode extracts the compact JWS strings of one or more health cards from
// arbitrary user input: the bytes of a .smart-health-card file, the JSON
// response of a FHIR $health-cards-issue operation (a Parameters resource),
// the text of one or more scanned QR codes, or bare compact JWS strings.
//
// Whitespace around the input and a leading UTF-8 byte order mark are
// ignored. Text input is split at whitespace (spaces, tabs, newlines):
//   - several unchunked shc:/ strings are several cards, one JWS each;
//   - chunked shc:/N/M/ strings are the chunks of one card, in any order,
//     reassembled by DecodeQR;
//   - anything else must be compact JWS strings (header.payload.signature).
//
// Decode does not verify anything; pass each result to Verify. Errors are
// *VerifyError with Reason ErrMalformed or ErrQR.
func Decode(input []byte) ([]string, error) {
	input = bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(input), utf8BOM))
	if len(input) == 0 {
		return nil, fail(ErrMalformed, "input is empty")
	}
	if input[0] == '{' {
		return parseJSONContainer(input)
	}
	fields := strings.Fields(string(input))
	if hasPrefixFold(fields[0], "shc:") {
		return decodeQRFields(fields)
	}
	for i, f := range fields {
		if !looksLikeJWS(f) {
			return nil, fail(ErrMalformed, fmt.Sprintf(
				"item %d is neither a .smart-health-card file, shc:/ QR content nor a compact JWS: %s", i+1, quote(f)))
		}
	}
	return fields, nil
}

// decodeQRFields handles the text of one or more QR codes: all chunked (one
// card) or all unchunked (one card per QR).
func decodeQRFields(fields []string) ([]string, error) {
	chunked := 0
	for i, f := range fields {
		if !hasPrefixFold(f, "shc:") {
			return nil, fail(ErrQR, fmt.Sprintf("item %d does not start with %q: %s", i+1, qrPrefix, quote(f)))
		}
		if isChunked(f) {
			chunked++
		}
	}
	if chunked > 0 {
		if chunked != len(fields) {
			return nil, fail(ErrQR, "chunked (shc:/N/M/) and unchunked QR contents are mixed")
		}
		jws, err := DecodeQR(fields...)
		if err != nil {
			return nil, err
		}
		return []string{jws}, nil
	}
	out := make([]string, 0, len(fields))
	for _, f := range fields {
		jws, err := DecodeQR(f)
		if err != nil {
			return nil, err
		}
		out = append(out, jws)
	}
	return out, nil
}

// ParseFile returns the JWS strings of a .smart-health-card file, which is
// the JSON object {"verifiableCredential": ["<JWS>", ...]} ("User Retrieves
// Health Cards / via File Download" in the specification). The list must be
// non-empty and hold strings; the strings are returned verbatim (Verify
// rejects one that is not a bare compact JWS, including one with spaces
// around it). A leading UTF-8 byte order mark is ignored.
func ParseFile(data []byte) ([]string, error) {
	var file struct {
		VerifiableCredential *[]string `json:"verifiableCredential"`
	}
	if err := json.Unmarshal(bytes.TrimPrefix(data, utf8BOM), &file); err != nil {
		return nil, fail(ErrMalformed, "not a .smart-health-card file: "+jsonProblem(err))
	}
	if file.VerifiableCredential == nil {
		return nil, fail(ErrMalformed, `not a .smart-health-card file: no "verifiableCredential" list`)
	}
	if len(*file.VerifiableCredential) == 0 {
		return nil, fail(ErrMalformed, `the "verifiableCredential" list is empty`)
	}
	return *file.VerifiableCredential, nil
}

// parseJSONContainer accepts a .smart-health-card file or a FHIR Parameters
// resource as returned by $health-cards-issue, whose parameters named
// "verifiableCredential" carry the JWS in valueString.
func parseJSONContainer(data []byte) ([]string, error) {
	var probe struct {
		ResourceType string `json:"resourceType"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fail(ErrMalformed, "invalid JSON: "+jsonProblem(err))
	}
	if probe.ResourceType == "" {
		return ParseFile(data)
	}
	if probe.ResourceType != "Parameters" {
		return nil, fail(ErrMalformed, "JSON is a FHIR "+quote(probe.ResourceType)+
			", not a .smart-health-card file or $health-cards-issue Parameters response")
	}
	var params struct {
		Parameter []struct {
			Name        string  `json:"name"`
			ValueString *string `json:"valueString"`
		} `json:"parameter"`
	}
	if err := json.Unmarshal(data, &params); err != nil {
		return nil, fail(ErrMalformed, "invalid Parameters resource: "+jsonProblem(err))
	}
	var out []string
	for _, p := range params.Parameter {
		if p.Name != "verifiableCredential" {
			continue
		}
		if p.ValueString == nil {
			return nil, fail(ErrMalformed, "verifiableCredential parameter without valueString")
		}
		out = append(out, *p.ValueString)
	}
	if len(out) == 0 {
		return nil, fail(ErrMalformed, "the Parameters resource holds no verifiableCredential")
	}
	return out, nil
}

// DecodeQR turns the content of SMART Health Card QR codes into the compact
// JWS they encode ("Health Cards as QR Codes / Encoding QRs" in the
// specification). Each QR holds "shc:/" followed by digits; each pair of
// digits is one JWS character, its code minus 45, so pairs range 00..77
// ('-' to 'z').
//
// One argument is an unchunked QR: "shc:/<digits>", whose JWS may have at most
// MaxSingleQRJWS characters. Several arguments are the chunks of one card in
// the deprecated chunked form "shc:/<C>/<N>/<digits>" (chunk C of N),
// accepted in any order: every chunk must name the same N >= 2, each index
// 1..N must appear exactly once, each chunk may hold at most MaxChunkJWS
// characters, and the reassembled JWS must be longer than MaxSingleQRJWS,
// because the specification chunks only a JWS that does not fit one QR.
//
// Surrounding whitespace of each argument is ignored. Errors are *VerifyError
// with Reason ErrQR.
func DecodeQR(chunks ...string) (string, error) {
	if len(chunks) == 0 {
		return "", fail(ErrQR, "no QR content given")
	}
	type part struct {
		index, total int
		jws          string
	}
	parts := make([]part, len(chunks))
	for i, raw := range chunks {
		c := strings.TrimSpace(raw)
		if !strings.HasPrefix(c, qrPrefix) {
			return "", fail(ErrQR, fmt.Sprintf("QR content does not start with %q: %s", qrPrefix, quote(c)))
		}
		rest := c[len(qrPrefix):]
		p := part{index: 1, total: 1}
		if isChunked(c) {
			var err error
			p.index, p.total, rest, err = chunkHeader(rest)
			if err != nil {
				return "", err
			}
		}
		jws, err := numericToJWS(rest)
		if err != nil {
			return "", err
		}
		if jws == "" {
			return "", fail(ErrQR, "the QR content holds no data after its header")
		}
		p.jws = jws
		parts[i] = p
	}

	if len(parts) == 1 && parts[0].total == 1 {
		if len(parts[0].jws) > MaxSingleQRJWS {
			return "", fail(ErrQR, fmt.Sprintf("a single QR may hold a JWS of at most %d characters, this one has %d",
				MaxSingleQRJWS, len(parts[0].jws)))
		}
		return parts[0].jws, nil
	}

	total := parts[0].total
	ordered := make([]string, total+1)
	for _, p := range parts {
		if p.total == 1 {
			return "", fail(ErrQR, "an unchunked QR (shc:/<digits>) was given together with other QR contents")
		}
		if p.total != total {
			return "", fail(ErrQR, fmt.Sprintf("chunks disagree on the number of chunks (%d and %d)", total, p.total))
		}
		if ordered[p.index] != "" {
			return "", fail(ErrQR, fmt.Sprintf("chunk %d/%d appears twice", p.index, total))
		}
		if len(p.jws) > MaxChunkJWS {
			return "", fail(ErrQR, fmt.Sprintf("chunk %d/%d holds %d JWS characters, more than the %d allowed per chunk",
				p.index, total, len(p.jws), MaxChunkJWS))
		}
		ordered[p.index] = p.jws
	}
	if len(parts) != total {
		var missing []string
		for i := 1; i <= total; i++ {
			if ordered[i] == "" {
				missing = append(missing, strconv.Itoa(i))
			}
		}
		return "", fail(ErrQR, fmt.Sprintf("got %d of %d chunks; missing %s", len(parts), total, strings.Join(missing, ", ")))
	}
	jws := strings.Join(ordered[1:], "")
	if len(jws) <= MaxSingleQRJWS {
		return "", fail(ErrQR, fmt.Sprintf("the JWS has %d characters and fits one QR (at most %d), so it must not be split into %d chunks",
			len(jws), MaxSingleQRJWS, total))
	}
	return jws, nil
}

// isChunked reports whether QR content uses the "shc:/C/N/" chunk header.
func isChunked(c string) bool {
	rest, ok := strings.CutPrefix(c, qrPrefix)
	return ok && strings.Contains(rest, "/")
}

// chunkHeader parses "C/N/<digits>" into chunk index C and count N.
func chunkHeader(s string) (index, total int, rest string, err error) {
	fields := strings.SplitN(s, "/", 3)
	if len(fields) != 3 {
		return 0, 0, "", fail(ErrQR, "chunk header is not of the form shc:/<chunk>/<count>/")
	}
	index, okI := smallDecimal(fields[0])
	total, okN := smallDecimal(fields[1])
	if !okI || !okN {
		return 0, 0, "", fail(ErrQR, fmt.Sprintf("chunk header %s is not two positive decimal numbers",
			quote(fields[0]+"/"+fields[1]+"/")))
	}
	if total < 2 {
		return 0, 0, "", fail(ErrQR, fmt.Sprintf("chunk header %d/%d: a chunk header is only used when a card needs more than one QR", index, total))
	}
	if index > total {
		return 0, 0, "", fail(ErrQR, fmt.Sprintf("chunk index %d is beyond the chunk count %d", index, total))
	}
	return index, total, fields[2], nil
}

// smallDecimal parses a positive decimal without sign or leading zeros, up
// to 9999.
func smallDecimal(s string) (int, bool) {
	if len(s) == 0 || len(s) > 4 || s[0] == '0' {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// numericToJWS decodes the numeric QR segment: two digits per character,
// value plus 45.
func numericToJWS(digits string) (string, error) {
	if len(digits)%2 != 0 {
		return "", fail(ErrQR, fmt.Sprintf("the QR holds an odd number of digits (%d)", len(digits)))
	}
	out := make([]byte, len(digits)/2)
	for i := 0; i < len(digits); i += 2 {
		hi, lo := digits[i], digits[i+1]
		if hi < '0' || hi > '9' || lo < '0' || lo > '9' {
			return "", fail(ErrQR, fmt.Sprintf("non-digit in the numeric QR data at position %d", i+1))
		}
		v := int(hi-'0')*10 + int(lo-'0')
		if v > 'z'-'-' {
			return "", fail(ErrQR, fmt.Sprintf("digit pair %02d at position %d is above 77 and is no JWS character", v, i+1))
		}
		out[i/2] = byte(v + '-')
	}
	return string(out), nil
}

// looksLikeJWS reports whether s has the shape of a compact JWS: three
// non-empty base64url parts separated by dots.
func looksLikeJWS(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
		if p == "" || !isBase64URL(p) {
			return false
		}
	}
	return true
}

// isBase64URL reports whether s uses only the base64url alphabet.
func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// jsonProblem shortens a encoding/json error for an error detail.
func jsonProblem(err error) string {
	msg := err.Error()
	if len(msg) > 120 {
		msg = msg[:120] + "..."
	}
	return msg
}
