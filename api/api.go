// Package api holds the HTTP contracts the project defines itself, for the
// OutSystems services that publish no API of their own. Each contract is an
// OpenAPI document under <service>/v<major>/openapi.yaml; the sandbox
// implements it and the contract tests hold the sandbox and the clients to it.
package api

import _ "embed"

// MigrationKitV1 is the OpenAPI 3.0 document of the Migration Kit's
// contract, version 1 (migration-kit/v1/openapi.yaml): the assessment
// tool's operations and, since 1.1.0, the ODC portal's code migrations.
//
//go:embed migration-kit/v1/openapi.yaml
var MigrationKitV1 []byte
