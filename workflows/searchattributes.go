// Package workflows holds connect-ingest's Temporal workflows: one
// ConversationWorkflow per Amazon Connect contact, and the agent sync.
package workflows

import (
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
