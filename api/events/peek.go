package events

import "strings"

// Peek reads an encoded envelope's type and organization_id without
// decoding the rest of it, so that a consumer can pass over an event that
// is not for it before paying for Decode and the payload. It looks at the
// envelope's own members only (the data's organization_id is not taken
// for the envelope's), as Decode does the last of a repeated one, and
// answers ok false whenever it cannot tell as Decode would (a member
// named with an escape or in other letter cases, either value missing,
// escaped or not printable ASCII, anything but an object): the event must
// then be decoded. It validates nothing else; Decode does.
func Peek(b []byte) (eventType, organizationID string, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return "", "", false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return "", "", false
	}
	for i < len(b) {
		end, plain := stringEnd(b, i)
		if end < 0 || !plain {
			return "", "", false
		}
		key := b[i+1 : end-1]
		if i = skipSpace(b, end); i >= len(b) || b[i] != ':' {
			return "", "", false
		}
		i = skipSpace(b, i+1)
		var dst *string
		switch {
		case string(key) == "type":
			dst = &eventType
		case string(key) == "organization_id":
			dst = &organizationID
		case strings.EqualFold(string(key), "type"), strings.EqualFold(string(key), "organization_id"):
			// Decode matches member names regardless of case.
			return "", "", false
		}
		if dst != nil {
			end, plain := stringEnd(b, i)
			if end < 0 || !plain || !printable(b[i+1:end-1]) {
				return "", "", false
			}
			*dst, i = string(b[i+1:end-1]), end
		} else if i = skipValue(b, i); i < 0 {
			return "", "", false
		}
		if i = skipSpace(b, i); i >= len(b) {
			return "", "", false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return eventType, organizationID, eventType != "" && organizationID != ""
		default:
			return "", "", false
		}
	}
	return "", "", false
}

// printable tells that s, a string without escapes, is all printable
// ASCII, which Decode reads as it is (it replaces invalid UTF-8).
func printable(s []byte) bool {
	for _, c := range s {
		if c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index after the string at b[i:] (-1 when there is
// none) and whether it has no escapes, without which what is between its
// quotes is its value.
func stringEnd(b []byte, i int) (end int, plain bool) {
	if i >= len(b) || b[i] != '"' {
		return -1, false
	}
	plain = true
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			plain = false
			j++
		case '"':
			return j + 1, plain
		}
	}
	return -1, false
}

// skipValue returns the index after the value at b[i:], or -1 when it
// does not end. Nesting and strings are followed, nothing is validated.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		end, _ := stringEnd(b, i)
		return end
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				end, _ := stringEnd(b, i)
				if end < 0 {
					return -1
				}
				i = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	}
	// A number, true, false or null: up to what ends a member.
	for ; i < len(b); i++ {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
	}
	return i
}
