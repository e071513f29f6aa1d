package ctr_test

import (
	"strings"
	"testing"

	"github.com/connectingest/connect-ingest/internal/ctr"
)

// record wraps extra top-level members in a record that is otherwise valid.
func record(extra string) []byte {
	return []byte(`{"ContactId":"c-1","InstanceARN":"` + instance + `","LastUpdateTimestamp":"2026-11-24T09:30:00Z"` + extra + `}`)
}

func TestStrictJSON(t *testing.T) {
	t.Run("accepts what Connect writes: nested attributes, escapes, paired surrogates, small numbers", func(t *testing.T) {
		for _, extra := range []string{
			``,
			`,"Attributes":{"greeting":"Hi \"there\"\n\u00e9\ud83d\ude00","k\/v":"\\"}`,
			`,"AgentConnectionAttempts":1,"QueueDuration":12.5e-3,"X":[true,false,null,{},[]]`,
			` , "Spaced" : [ 1 , 2 ] `,
			`,"Agent":null,"Attributes":{"a":null},"InitiationTimestamp":null,"Recordings":[null,{"Location":null}]`,
			`,"Agent":{"Username":"jdoe","Extra":[1,{"x":2}]},"Queue":{"Name":"q"},"Unread":{"Channel":5}`,
		} {
			if _, err := ctr.Parse(record(extra)); err != nil {
				t.Errorf("%s: %v", extra, err)
			}
		}
	})

	cases := map[ctr.Reason][]string{
		// Valid JSON that Postgres's jsonb refuses, or deeper than any CTR.
		ctr.ReasonUnstorable: {
			`,"Attributes":{"a":"x\u0000y"}`,
			`,"Attributes":{"\u0000":"y"}`,
			`,"Attributes":{"a":"\ud800"}`,
			`,"Attributes":{"a":"\udc00x"}`,
			`,"Attributes":{"a":"\ud800\u0041"}`,
			`,"N":1e400`,
			`,"N":-1E-400`,
			`,"N":` + strings.Repeat("9", 100),
			`,"Deep":` + strings.Repeat("[", 40) + strings.Repeat("]", 40),
		},
		// Routed fields twice, or under a look-alike name the two parsers
		// might read differently.
		ctr.ReasonAmbiguousField: {
			`,"ContactId":"c-2"`,
			`,"LastUpdateTimestamp":"2027-01-01T00:00:00Z"`,
			`,"contactid":"c-2"`,
			`,"ContactID":"c-2"`,
			`,"InstanceArn":"arn:other"`,
			`,"LastUpdateTimeſtamp":"2027-01-01T00:00:00Z"`,
		},
		// Not JSON, even where a lenient parser skips it.
		ctr.ReasonNotJSON: {
			`,"X":[1,]`,
			`,"X":{"a":1,}`,
			`,"X":"\x41"`,
			`,"X":"tab	inside"`,
			`,"X":01`,
			`,"X":tru`,
			`,"X":.5`,
			`,"X":1.`,
			`}{`,
			`,`,
		},
		// A field connect-ingest reads, of another type.
		ctr.ReasonInvalidField: {
			`,"Channel":5`,
			`,"Agent":"jdoe"`,
			`,"Recordings":{"Location":"b/k"}`,
			`,"DisconnectTimestamp":"yesterday"`,
			`,"Attributes":{"a":1}`,
			// Under another case or a Unicode fold, which one decoder or
			// the other matches to the field.
			`,"channel":5`,
			`,"AGENT":"jdoe"`,
			`,"Agent":{"USERNAME":1}`,
			`,"Recordings":[null,{"location":true}]`,
			`,"Recordings":[{"Location":"b/k"},"b/k"]`,
			`,"Ma\u0072ker":1,"Queue":{"\u004eame":[]}`,
			`,"Queue":{"Na\u006De":{}}`,
			`,"Recordingſ":{}`,
			`,"Disconnectreason":{},"InitiationTimestamp":"2026-11-24T09:30:00"`,
		},
	}
	for want, extras := range cases {
		for _, extra := range extras {
			t.Run(string(want)+" "+extra[:min(len(extra), 40)], func(t *testing.T) {
				_, err := ctr.Parse(record(extra))
				if got := reasonOf(t, err); got != want {
					t.Fatalf("reason %s (%v), want %s", got, err, want)
				}
				if _, err := ctr.Identify(record(extra)); reasonOf(t, err) != want {
					t.Fatalf("the gateway's Identify differs from Parse: %v", err)
				}
			})
		}
	}
}
