package assess

import _ "embed"

// MetricsJSONSchema is the published JSON Schema of metrics.json.
//
//go:embed schema/metrics.schema.json
var MetricsJSONSchema []byte
