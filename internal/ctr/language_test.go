package ctr_test

import (
	"testing"

	"github.com/connectingest/connect-ingest/internal/ctr"
)

func TestLanguage(t *testing.T) {
	lens := []byte(`{"ContactLens":{"ConversationalAnalytics":{"Configuration":{"Enabled":true,"LanguageLocale":"en-GB"}}}}`)
	for _, c := range []struct {
		name  string
		raw   []byte
		attrs map[string]string
		want  string
	}{
		{"Contact Lens's locale", lens, nil, "en-GB"},
		{"Contact Lens's locale before an attribute", lens, map[string]string{"language": "fr-FR"}, "en-GB"},
		{"an attribute a flow set, any case", []byte(`{}`), map[string]string{"LanguageCode": "es-419"}, "es-419"},
		{"a locale attribute", []byte(`{}`), map[string]string{"locale": " de-DE "}, "de-DE"},
		{"a value that is no language tag", []byte(`{}`), map[string]string{"language": "English please"}, ""},
		{"nothing given", []byte(`{"ContactLens":null}`), map[string]string{"queue": "sales"}, ""},
		{"a broken CTR still reads its attributes", []byte(`{`), map[string]string{"lang": "pt-BR"}, "pt-BR"},
	} {
		if got := ctr.Language(c.raw, c.attrs); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
