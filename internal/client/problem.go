package client

import (
	"encoding/json"
	"maps"
	"slices"
)

// problemMembers are the members of a ProblemDetails document that APIError
// has fields for (status is the HTTP status already), and ASP.NET's errors.
var problemMembers = []string{"type", "title", "status", "detail", "instance", "traceId", "errorCode", "errors"}

// parseProblemDetails fills an APIError from an RFC 7807 ProblemDetails body,
// the error shape of the ODC APIs and of the Migration Kit contract: the
// standard members and traceId/errorCode go to their fields; ASP.NET's
// validation "errors" (field -> messages) to Messages as "field: message";
// every other member (an RFC 7807 extension such as conflictingMappingKey)
// to Extensions. A body that is not a JSON object is left for apiError to
// show as it is.
func parseProblemDetails(e *APIError, body []byte) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil || members == nil {
		return
	}
	text := func(name string) string {
		var s string
		if raw, ok := members[name]; ok {
			_ = json.Unmarshal(raw, &s) // not a string: left empty
		}
		return s
	}
	e.Type, e.Title, e.Detail, e.Instance = text("type"), text("title"), text("detail"), text("instance")
	e.TraceID, e.ErrorCode = text("traceId"), text("errorCode")
	if raw, ok := members["errors"]; ok {
		var fields map[string][]string
		if err := json.Unmarshal(raw, &fields); err == nil {
			for _, field := range slices.Sorted(maps.Keys(fields)) {
				for _, msg := range fields[field] {
					e.Messages = append(e.Messages, field+": "+msg)
				}
			}
		}
	}
	for name, raw := range members {
		if slices.Contains(problemMembers, name) {
			continue
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			continue
		}
		if e.Extensions == nil {
			e.Extensions = map[string]any{}
		}
		e.Extensions[name] = v
	}
}
