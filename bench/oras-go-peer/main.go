// The oras-go peer for `npm run bench`: pulls an artifact's titled files into a directory with
// oras-go's own File store (what the ORAS CLI of that library does). Built offline from Debian's
// golang-oras-oras-go-dev by bench/oras-go.mjs in GOPATH mode; never committed as a binary.
package main

import (
	"context"
	"fmt"
	"os"

	"oras.land/oras-go/pkg/content"
	"oras.land/oras-go/pkg/oras"
)

func main() {
	if len(os.Args) != 4 || os.Args[1] != "pull" {
		fmt.Fprintln(os.Stderr, "usage: oras-go-peer pull <registry/repository:tag> <dir>")
		os.Exit(2)
	}
	ctx := context.Background()
	registry, err := content.NewRegistry(content.RegistryOptions{PlainHTTP: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	store := content.NewFile(os.Args[3])
	defer store.Close()
	if _, err := oras.Copy(ctx, registry, os.Args[2], store, ""); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
