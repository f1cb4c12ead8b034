// The oras-go peer for `npm run bench`: pulls an artifact's titled files into a directory, and
// pushes files as an artifact, with oras-go's own File store (what the ORAS CLI of that library
// does). Built offline from Debian's golang-oras-oras-go-dev by bench/oras-go.mjs in GOPATH mode;
// never committed as a binary.
package main

import (
	"context"
	"fmt"
	"os"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/pkg/content"
	"oras.land/oras-go/pkg/oras"
)

const usage = "usage: oras-go-peer pull <registry/repository:tag> <dir>\n" +
	"       oras-go-peer push <registry/repository:tag> <file>...   (paths relative to the working directory)"

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func main() {
	if len(os.Args) < 4 || (os.Args[1] != "pull" && os.Args[1] != "push") ||
		(os.Args[1] == "pull" && len(os.Args) != 4) {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	ctx := context.Background()
	registry, err := content.NewRegistry(content.RegistryOptions{PlainHTTP: true})
	if err != nil {
		fail(err)
	}
	ref := os.Args[2]
	if os.Args[1] == "pull" {
		store := content.NewFile(os.Args[3])
		defer store.Close()
		if _, err := oras.Copy(ctx, registry, ref, store, ""); err != nil {
			fail(err)
		}
		return
	}
	// push: each file a layer titled with its path (hashed by Add, as the ORAS CLI does), an
	// empty config, and the manifest tagged in the registry.
	store := content.NewFile("")
	defer store.Close()
	var layers []ocispec.Descriptor
	for _, path := range os.Args[3:] {
		desc, err := store.Add(path, "application/vnd.oci.image.layer.v1.tar", path)
		if err != nil {
			fail(err)
		}
		layers = append(layers, desc)
	}
	manifest, manifestDesc, config, configDesc, err := content.GenerateManifestAndConfig(nil, nil, layers...)
	if err != nil {
		fail(err)
	}
	if err := store.Load(configDesc, config); err != nil {
		fail(err)
	}
	if err := store.StoreManifest(ref, manifestDesc, manifest); err != nil {
		fail(err)
	}
	if _, err := oras.Copy(ctx, store, ref, registry, ""); err != nil {
		fail(err)
	}
}
