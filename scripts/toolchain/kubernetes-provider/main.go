// Command pulumi-resource-kubernetes serves the Pulumi Kubernetes provider.
//
// Upstream's own main embeds schema-embed.json and terraform-mapping-embed.json, which its
// release build generates and which are therefore missing from the Go module zip. The toolchain
// script (scripts/toolchain/build.sh) derives both files from the module's schema.json and
// terraform-mapping.json, places them beside this file, and builds it.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var schema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, schema, terraformMapping)
}
