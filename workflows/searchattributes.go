// Package workflows holds connect-ingest's Temporal workflows: one
// ConversationWorkflow per Amazon Connect contact, and the agent sync.
package workflows

import (
	"unicode/utf8"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
)

// Search attributes set on conversation workflows, so that operators can
// filter them in the Temporal UI and with `ingestctl calls list`.
var (
	TenantIDKey          = temporal.NewSearchAttributeKeyKeyword("TenantId")
	ContactIDKey         = temporal.NewSearchAttributeKeyKeyword("ContactId")
	AgentUsernameKey     = temporal.NewSearchAttributeKeyKeyword("AgentUsername")
	ChannelKey           = temporal.NewSearchAttributeKeyKeyword("Channel")
	ConversationStateKey = temporal.NewSearchAttributeKeyKeyword("ConversationState")
)

// SearchAttributes lists every custom search attribute with its type, for
// registration on the Temporal namespace (`ingestctl setup`).
func SearchAttributes() map[string]enumspb.IndexedValueType {
	return map[string]enumspb.IndexedValueType{
		TenantIDKey.GetName():          enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		ContactIDKey.GetName():         enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		AgentUsernameKey.GetName():     enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		ChannelKey.GetName():           enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		ConversationStateKey.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	}
}

// maxKeyword bounds a keyword search attribute's value. The server refuses
// a value past its limit (2 KiB by default) by terminating the run that set
// it, and a CTR can name an agent or channel of any length; the full value
// stays in Postgres.
const maxKeyword = 256

// keyword returns s cut to maxKeyword bytes, on a rune boundary.
func keyword(s string) string {
	if len(s) <= maxKeyword {
		return s
	}
	s = s[:maxKeyword]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
