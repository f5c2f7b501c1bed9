package report

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendRecord appends the JSON encoding of r to dst, without a newline, and
// returns the extended buffer. It allocates nothing beyond growing dst.
//
// The bytes are those of a json.Encoder with SetEscapeHTML(false): fields in
// struct order, omitempty honoured, control characters escaped, invalid UTF-8
// replaced by \ufffd, U+2028 and U+2029 escaped. HTML characters (<, >, &)
// are kept as they are so usernames and emails stay readable; they mean the
// same to any JSON reader.
//
// encoding/json refuses a time outside years 0-9999 or with a zone offset of
// 24 hours or more; AppendRecord writes it anyway (text encoding/json cannot
// read back), so Writer.Write checks At first with ValidTime.
func AppendRecord(dst []byte, r *Record) []byte {
	dst = append(dst, `{"row":`...)
	dst = strconv.AppendInt(dst, int64(r.Row), 10)
	dst = append(dst, `,"outcome":`...)
	dst = appendString(dst, string(r.Outcome))
	if r.Transient {
		dst = append(dst, `,"transient":true`...)
	}
	dst = append(dst, `,"action":`...)
	dst = appendString(dst, r.Action)
	dst = appendOptString(dst, `,"username":`, r.Username)
	dst = appendOptString(dst, `,"input":`, r.Input)
	dst = appendOptString(dst, `,"resolved_by":`, r.ResolvedBy)
	dst = appendOptString(dst, `,"token_sha256":`, r.TokenSHA256)
	dst = appendOptString(dst, `,"user_pool_id":`, r.UserPoolID)
	dst = appendOptString(dst, `,"error_code":`, r.ErrorCode)
	dst = appendOptString(dst, `,"message":`, r.Message)
	dst = append(dst, `,"attempts":`...)
	dst = strconv.AppendInt(dst, int64(r.Attempts), 10)
	dst = append(dst, `,"duration_ms":`...)
	dst = strconv.AppendInt(dst, r.DurationMS, 10)
	dst = appendOptString(dst, `,"request_id":`, r.RequestID)
	if r.Repeated {
		dst = append(dst, `,"repeated":true`...)
	}
	dst = appendOptString(dst, `,"old_sub":`, r.OldSub)
	dst = appendOptString(dst, `,"new_sub":`, r.NewSub)
	if len(r.MissingGroups) > 0 {
		dst = append(dst, `,"missing_groups":[`...)
		for i, g := range r.MissingGroups {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, g)
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"at":"`...)
	dst = r.At.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, `"}`...)
	return dst
}

// ValidTime reports whether encoding/json can encode t: a four-digit year and
// a zone offset under 24 hours.
func ValidTime(t time.Time) bool {
	if y := t.Year(); y < 0 || y > 9999 {
		return false
	}
	_, off := t.Zone()
	return off > -24*3600 && off < 24*3600
}

func appendOptString(dst []byte, key, s string) []byte {
	if s == "" {
		return dst
	}
	dst = append(dst, key...)
	return appendString(dst, s)
}

const hexDigits = "0123456789abcdef"

// appendString quotes s as encoding/json does with HTML escaping off.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		// JSON allows U+2028 and U+2029 raw, but JavaScript did not until
		// ES2019; encoding/json escapes them and so do we.
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
