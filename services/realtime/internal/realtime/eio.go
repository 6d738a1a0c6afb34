// The Engine.IO v4 and Socket.IO v5 wire formats (what socket.io-client
// v4 speaks), text packets only: the service sends no binary data and
// refuses it.

package realtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
)

// Engine.IO packet types, the first byte of every packet.
const (
	eioOpen    = '0'
	eioClose   = '1'
	eioPing    = '2'
	eioPong    = '3'
	eioMessage = '4'
	eioUpgrade = '5'
	eioNoop    = '6'
)

// eioSeparator separates the packets of one long-polling payload.
const eioSeparator = '\x1e'

// Socket.IO packet types, the first byte of an Engine.IO message's data.
const (
	sioConnect      = '0'
	sioDisconnect   = '1'
	sioEvent        = '2'
	sioAck          = '3'
	sioConnectError = '4'
	sioBinaryEvent  = '5'
	sioBinaryAck    = '6'
)

// sioDefaultNamespace is the only namespace the service serves.
const sioDefaultNamespace = "/"

// Packets the server sends as they are.
var (
	eioPingPacket  = []byte{eioPing}
	eioClosePacket = []byte{eioClose}
	eioNoopPacket  = []byte{eioNoop}
	eioProbePong   = []byte("3probe")
)

var (
	errEmptyPacket    = errors.New("empty packet")
	errPacketType     = errors.New("unknown packet type")
	errBinary         = errors.New("binary packets are not supported")
	errAckID          = errors.New("malformed ack id")
	errPayload        = errors.New("malformed payload")
	errReservedEvent  = errors.New("reserved event name")
	errEventArguments = errors.New("an event is an array starting with its name")
)

// eioPacket is one Engine.IO packet.
type eioPacket struct {
	typ  byte
	data []byte
}

// parseEIO reads one Engine.IO text packet, as a WebSocket frame or one
// element of a polling payload carries it.
func parseEIO(b []byte) (eioPacket, error) {
	if len(b) == 0 {
		return eioPacket{}, errEmptyPacket
	}
	if b[0] == 'b' {
		// A base64 binary packet of the polling transport.
		return eioPacket{}, errBinary
	}
	if b[0] < eioOpen || b[0] > eioNoop {
		return eioPacket{}, errPacketType
	}
	return eioPacket{typ: b[0], data: b[1:]}, nil
}

// splitPayload reads the packets of a polling request body.
func splitPayload(body []byte) ([]eioPacket, error) {
	parts := bytes.Split(body, []byte{eioSeparator})
	out := make([]eioPacket, 0, len(parts))
	for _, part := range parts {
		p, err := parseEIO(part)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// joinPayload is the body of a polling response carrying packets.
func joinPayload(packets [][]byte) []byte {
	return bytes.Join(packets, []byte{eioSeparator})
}

// eioHandshake is the data of the open packet.
type eioHandshake struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"`
	PingTimeout  int64    `json:"pingTimeout"`
	MaxPayload   int64    `json:"maxPayload"`
}

func eioOpenPacket(h eioHandshake) []byte {
	b, _ := json.Marshal(h)
	return append([]byte{eioOpen}, b...)
}

// sioPacket is one Socket.IO packet.
type sioPacket struct {
	typ byte
	nsp string
	// ack is the acknowledgement id, or -1 when the sender wants none.
	ack  int64
	data json.RawMessage
}

// maxAckDigits keeps an ack id within an int64 (and a JavaScript
// number's exact integers).
const maxAckDigits = 15

// parseSIO reads the Socket.IO packet an Engine.IO message carries:
// type, then an optional "/namespace,", an optional ack id and an
// optional JSON payload whose shape must fit the type.
func parseSIO(b []byte) (sioPacket, error) {
	if len(b) == 0 {
		return sioPacket{}, errEmptyPacket
	}
	p := sioPacket{typ: b[0], nsp: sioDefaultNamespace, ack: -1}
	switch p.typ {
	case sioConnect, sioDisconnect, sioEvent, sioAck, sioConnectError:
	case sioBinaryEvent, sioBinaryAck:
		return sioPacket{}, errBinary
	default:
		return sioPacket{}, errPacketType
	}
	rest := b[1:]
	if len(rest) > 0 && rest[0] == '/' {
		end := bytes.IndexByte(rest, ',')
		if end < 0 {
			p.nsp, rest = string(rest), nil
		} else {
			p.nsp, rest = string(rest[:end]), rest[end+1:]
		}
	}
	digits := 0
	for digits < len(rest) && rest[digits] >= '0' && rest[digits] <= '9' {
		digits++
	}
	if digits > 0 {
		if digits > maxAckDigits {
			return sioPacket{}, errAckID
		}
		p.ack, _ = strconv.ParseInt(string(rest[:digits]), 10, 64)
		rest = rest[digits:]
	}
	if len(rest) > 0 {
		if !json.Valid(rest) {
			return sioPacket{}, errPayload
		}
		p.data = json.RawMessage(rest)
	}
	return p, validSIOPayload(p)
}

// reservedEvents are the client-side event names socket.io refuses as
// event names on the wire.
var reservedEvents = map[string]bool{
	"connect": true, "connect_error": true, "disconnect": true, "disconnecting": true,
	"newListener": true, "removeListener": true,
}

// validSIOPayload checks the payload's shape against the packet type as
// socket.io's own parser does.
func validSIOPayload(p sioPacket) error {
	first := firstByte(p.data)
	switch p.typ {
	case sioConnect:
		if p.data != nil && first != '{' {
			return errPayload
		}
	case sioDisconnect:
		if p.data != nil {
			return errPayload
		}
	case sioConnectError:
		if p.data == nil || (first != '{' && first != '"') {
			return errPayload
		}
	case sioAck:
		if first != '[' {
			return errPayload
		}
	case sioEvent:
		_, _, err := sioEventOf(p)
		return err
	}
	return nil
}

func firstByte(b []byte) byte {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

// sioEventOf returns an event packet's name and arguments.
func sioEventOf(p sioPacket) (string, []json.RawMessage, error) {
	var args []json.RawMessage
	if err := json.Unmarshal(p.data, &args); err != nil || len(args) == 0 {
		return "", nil, errEventArguments
	}
	var name string
	if err := json.Unmarshal(args[0], &name); err != nil {
		return "", nil, errEventArguments
	}
	if reservedEvents[name] {
		return "", nil, errReservedEvent
	}
	return name, args[1:], nil
}

// sioAuth is the part of a CONNECT payload the service reads.
type sioAuth struct {
	Token string `json:"token"`
}

// authToken is the token of a CONNECT packet's auth payload, "" if none.
func (p sioPacket) authToken() string {
	var a sioAuth
	if p.data == nil || json.Unmarshal(p.data, &a) != nil {
		return ""
	}
	return a.Token
}

// sioMessage is the Engine.IO message packet carrying a Socket.IO packet
// of type typ, with the default namespace (which the wire omits), an
// optional ack id (-1: none) and a JSON payload (nil: none).
func sioMessage(typ byte, nsp string, ack int64, payload any) ([]byte, error) {
	b := []byte{eioMessage, typ}
	if nsp != sioDefaultNamespace {
		b = append(append(b, nsp...), ',')
	}
	if ack >= 0 {
		b = strconv.AppendInt(b, ack, 10)
	}
	if payload == nil {
		return b, nil
	}
	j, err := json.Marshal(payload)
	if err != nil {
		return nil, err
	}
	return append(b, j...), nil
}

// sioEventMessage is `42["name",data]`.
func sioEventMessage(name string, data any) ([]byte, error) {
	return sioMessage(sioEvent, sioDefaultNamespace, -1, []any{name, data})
}

// sioAckMessage is `43<id>[args...]`.
func sioAckMessage(id int64, args ...any) ([]byte, error) {
	if args == nil {
		args = []any{}
	}
	return sioMessage(sioAck, sioDefaultNamespace, id, args)
}

// sioConnected answers a CONNECT: `40{"sid":...}`.
func sioConnected(socketID string) []byte {
	b, _ := sioMessage(sioConnect, sioDefaultNamespace, -1, map[string]string{"sid": socketID})
	return b
}

// sioConnectErrorData is what socket.io-client shows as the connect_error
// Error: message, and data (here the error code of the envelope).
type sioConnectErrorData struct {
	Message string        `json:"message"`
	Data    *sioErrorCode `json:"data,omitempty"`
}

type sioErrorCode struct {
	Code string `json:"code"`
}

// sioConnectRefused answers a CONNECT the service refuses.
func sioConnectRefused(nsp, message, code string) []byte {
	d := sioConnectErrorData{Message: message}
	if code != "" {
		d.Data = &sioErrorCode{Code: code}
	}
	b, _ := sioMessage(sioConnectError, nsp, -1, d)
	return b
}
