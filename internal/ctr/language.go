package ctr

import (
	"encoding/json"
	"regexp"
	"strings"
)

// languageTag is the shape of a BCP 47 tag as Connect and its flows write
// them: en-US, es-419, cmn-Hans-CN.
var languageTag = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$`)

// languageAttributes are the contact attributes flows commonly set to the
// contact's language, compared without case.
var languageAttributes = []string{"language", "languagecode", "language_code", "locale", "languagelocale", "lang"}

// Language returns the contact's language as a BCP 47 tag, or "" when
// neither the CTR nor its attributes give one: Contact Lens's configured
// locale first (the language Connect itself analyses the contact in), then
// an attribute a flow set. A value that is not a language tag is ignored.
func Language(raw []byte, attributes map[string]string) string {
	var c struct {
		ContactLens *struct {
			ConversationalAnalytics *struct {
				Configuration *struct {
					LanguageLocale string `json:"LanguageLocale"`
				} `json:"Configuration"`
			} `json:"ConversationalAnalytics"`
		} `json:"ContactLens"`
	}
	if json.Unmarshal(raw, &c) == nil && c.ContactLens != nil && c.ContactLens.ConversationalAnalytics != nil &&
		c.ContactLens.ConversationalAnalytics.Configuration != nil {
		if tag := c.ContactLens.ConversationalAnalytics.Configuration.LanguageLocale; languageTag.MatchString(tag) {
			return tag
		}
	}
	for _, name := range languageAttributes {
		for k, v := range attributes {
			if strings.EqualFold(k, name) && languageTag.MatchString(strings.TrimSpace(v)) {
				return strings.TrimSpace(v)
			}
		}
	}
	return ""
}
