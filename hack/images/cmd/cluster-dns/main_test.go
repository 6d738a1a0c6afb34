package main

import (
	"net/netip"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

func query(t *testing.T, name string, typ dnsmessage.Type) []byte {
	t.Helper()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 7, RecursionDesired: true})
	if err := b.StartQuestions(); err != nil {
		t.Fatal(err)
	}
	if err := b.Question(dnsmessage.Question{Name: dnsmessage.MustNewName(name), Type: typ, Class: dnsmessage.ClassINET}); err != nil {
		t.Fatal(err)
	}
	msg, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func TestAnswer(t *testing.T) {
	z := &zone{domain: "cluster.local."}
	z.set(map[string][]netip.Addr{
		"auth.workpulse.svc.cluster.local.":    {netip.MustParseAddr("10.96.0.20")},
		"kafka.workpulse.svc.cluster.local.":   nil,
		"db.workpulse.svc.cluster.local.":      {netip.MustParseAddr("10.244.0.7"), netip.MustParseAddr("10.244.0.8")},
		"db-0.db.workpulse.svc.cluster.local.": {netip.MustParseAddr("10.244.0.7")},
	})
	cases := []struct {
		name  string
		qname string
		typ   dnsmessage.Type
		rcode dnsmessage.RCode
		want  []string
	}{
		{"A Service's name answers its ClusterIP.", "auth.workpulse.svc.cluster.local.", dnsmessage.TypeA, dnsmessage.RCodeSuccess, []string{"10.96.0.20"}},
		{"Names are case-insensitive.", "AUTH.Workpulse.svc.cluster.local.", dnsmessage.TypeA, dnsmessage.RCodeSuccess, []string{"10.96.0.20"}},
		{"A headless Service answers every ready endpoint.", "db.workpulse.svc.cluster.local.", dnsmessage.TypeA, dnsmessage.RCodeSuccess, []string{"10.244.0.7", "10.244.0.8"}},
		{"An endpoint's hostname answers that endpoint.", "db-0.db.workpulse.svc.cluster.local.", dnsmessage.TypeA, dnsmessage.RCodeSuccess, []string{"10.244.0.7"}},
		{"A Service without addresses exists but has no records.", "kafka.workpulse.svc.cluster.local.", dnsmessage.TypeA, dnsmessage.RCodeSuccess, nil},
		{"An AAAA query of an IPv4-only Service is empty, not an error.", "auth.workpulse.svc.cluster.local.", dnsmessage.TypeAAAA, dnsmessage.RCodeSuccess, nil},
		{"An unknown cluster name does not exist.", "nope.workpulse.svc.cluster.local.", dnsmessage.TypeA, dnsmessage.RCodeNameError, nil},
		{"A name outside the cluster is not forwarded anywhere.", "example.com.", dnsmessage.TypeA, dnsmessage.RCodeNameError, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := z.answer(query(t, c.qname, c.typ))
			if err != nil {
				t.Fatal(err)
			}
			var msg dnsmessage.Message
			if err := msg.Unpack(out); err != nil {
				t.Fatal(err)
			}
			if msg.Header.ID != 7 || !msg.Header.Response {
				t.Fatalf("header %+v does not answer the query", msg.Header)
			}
			if msg.Header.RCode != c.rcode {
				t.Fatalf("rcode %v, want %v", msg.Header.RCode, c.rcode)
			}
			var got []string
			for _, a := range msg.Answers {
				if r, ok := a.Body.(*dnsmessage.AResource); ok {
					got = append(got, netip.AddrFrom4(r.A).String())
				}
			}
			if len(got) != len(c.want) {
				t.Fatalf("answers %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("answers %v, want %v", got, c.want)
				}
			}
		})
	}
}
