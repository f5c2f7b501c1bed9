// Command image builds cogsweep's container image without Docker and without
// contacting a registry: an empty base, one layer holding the static binary,
// an /etc/passwd naming the non-root user 65532 and a world-writable /tmp.
//
// The tarball is an OCI image layout (oci-layout, index.json, blobs/) that
// also carries the manifest.json of `docker save`, as Docker 25+ writes them:
// skopeo copy oci-archive:..., crane push, docker load and podman load all
// read it, and a registry receives OCI media types.
//
// Every timestamp in the image is --epoch (default $SOURCE_DATE_EPOCH, else
// 0), so the same binary always gives the same image digest. TLS roots are
// compiled into the binary (golang.org/x/crypto/x509roots/fallback), since
// the image has no /etc/ssl.
//
//	CGO_ENABLED=0 go build -trimpath -o dist/cogsweep ./cmd/cogsweep
//	go run ./scripts/image --binary dist/cogsweep --out dist/cogsweep-image.tar --tag cogsweep:v1.0.0
package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Paths and identity inside the image.
const (
	BinaryPath = "/usr/local/bin/cogsweep"
	UID        = 65532 // "nonroot", as in the distroless images
)

// Options describe the image to build.
type Options struct {
	Binary  string    // a statically linked cogsweep for Linux
	Version string    // the image's version label
	Epoch   time.Time // every timestamp in the image
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("image", flag.ContinueOnError)
	var (
		o        Options
		out, tag string
		epoch    int64
	)
	if v := os.Getenv("SOURCE_DATE_EPOCH"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("SOURCE_DATE_EPOCH=%q: %w", v, err)
		}
		epoch = n
	}
	fs.StringVar(&o.Binary, "binary", "dist/cogsweep", "the static cogsweep binary (CGO_ENABLED=0, GOOS=linux)")
	fs.StringVar(&out, "out", "dist/cogsweep-image.tar", "the image tarball to write")
	fs.StringVar(&tag, "tag", "cogsweep:dev", "the image's name in the tarball (docker load tags it so)")
	fs.StringVar(&o.Version, "version", "dev", "the version label")
	fs.Int64Var(&epoch, "epoch", epoch, "Unix time of every timestamp in the image (default $SOURCE_DATE_EPOCH, else 0)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.Epoch = time.Unix(epoch, 0).UTC()
	ref, err := name.NewTag(tag)
	if err != nil {
		return fmt.Errorf("--tag %q: %w", tag, err)
	}
	img, err := Build(o)
	if err != nil {
		return err
	}
	if err := WriteArchive(out, ref, img, o.Epoch); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	d, err := img.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("%s: %s %s\n", out, ref, d)
	return nil
}

// Build returns the image for o.
func Build(o Options) (v1.Image, error) {
	bin, err := os.ReadFile(o.Binary)
	if err != nil {
		return nil, fmt.Errorf("read binary: %w", err)
	}
	arch, err := staticLinuxArch(bin)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.Binary, err)
	}
	layerTar, err := rootfs(bin, o.Epoch)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithCompressedCaching, // compress once, not for each digest and write
		tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	created := v1.Time{Time: o.Epoch}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:   layer,
		History: v1.History{Created: created, CreatedBy: "scripts/image: cogsweep " + o.Version, Comment: "static binary, non-root user, /tmp"},
	})
	if err != nil {
		return nil, fmt.Errorf("append layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = arch, "linux"
	cf.Created = created
	cf.Config = v1.Config{
		Entrypoint: []string{BinaryPath},
		Cmd:        []string{"--help"},
		User:       fmt.Sprintf("%d:%d", UID, UID),
		WorkingDir: "/tmp",
		Env: []string{
			"PATH=/usr/local/bin",
			// Read-only root in Kubernetes: mount an emptyDir here.
			"TMPDIR=/tmp",
		},
		Labels: map[string]string{
			"org.opencontainers.image.title":       "cogsweep",
			"org.opencontainers.image.description": "Disable, delete and scrub Amazon Cognito users in bulk, resumably",
			"org.opencontainers.image.version":     o.Version,
			"org.opencontainers.image.source":      "https://github.com/cogsweep/cogsweep",
			"org.opencontainers.image.created":     o.Epoch.Format(time.RFC3339),
		},
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return img, nil
}

// staticLinuxArch checks bin is a Linux executable with no dynamic loader
// (the image has no libc) and returns its GOARCH.
func staticLinuxArch(bin []byte) (string, error) {
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		return "", fmt.Errorf("not a Linux ELF executable (build with GOOS=linux): %w", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return "", errors.New("dynamically linked: the image has no libc; build with CGO_ENABLED=0")
		}
	}
	switch f.Machine {
	case elf.EM_X86_64:
		return "amd64", nil
	case elf.EM_AARCH64:
		return "arm64", nil
	}
	return "", fmt.Errorf("unsupported machine %s", f.Machine)
}

// rootfs is the layer's tar: fixed owners, modes and times, entries in a
// fixed order, so the layer's digest depends on the binary alone.
func rootfs(bin []byte, mtime time.Time) ([]byte, error) {
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", UID, UID)
	group := fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", UID)
	entries := []struct {
		name string
		mode int64
		uid  int
		data []byte
		dir  bool
	}{
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/group", mode: 0o644, data: []byte(group)},
		{name: "etc/passwd", mode: 0o644, data: []byte(passwd)},
		{name: "home/", mode: 0o755, dir: true},
		{name: "home/nonroot/", mode: 0o700, uid: UID, dir: true},
		{name: "tmp/", mode: 0o1777, dir: true},
		{name: "usr/", mode: 0o755, dir: true},
		{name: "usr/local/", mode: 0o755, dir: true},
		{name: "usr/local/bin/", mode: 0o755, dir: true},
		{name: BinaryPath[1:], mode: 0o755, data: bin},
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{
			Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.uid, ModTime: mtime,
			Typeflag: tar.TypeReg, Size: int64(len(e.data)), Format: tar.FormatPAX,
		}
		if e.dir {
			h.Typeflag = tar.TypeDir
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("layer %s: %w", e.name, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, fmt.Errorf("layer %s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	return buf.Bytes(), nil
}

// WriteArchive writes img to path as a tar holding an OCI image layout
// (oci-layout, index.json naming ref, blobs/sha256/...) and Docker's
// manifest.json pointing at the same blobs. Entries are in a fixed order
// with mtime epoch, so the file is as reproducible as the image.
func WriteArchive(path string, ref name.Tag, img v1.Image, epoch time.Time) error {
	manifest, err := img.RawManifest()
	if err != nil {
		return err
	}
	mdigest, err := img.Digest()
	if err != nil {
		return err
	}
	mtype, err := img.MediaType()
	if err != nil {
		return err
	}
	config, err := img.RawConfigFile()
	if err != nil {
		return err
	}
	cdigest, err := img.ConfigName()
	if err != nil {
		return err
	}
	blob := func(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }
	type entry struct {
		name string
		data []byte
	}
	blobs := []entry{{blob(cdigest), config}}
	var layerNames []string
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return err
		}
		rc, err := l.Compressed()
		if err != nil {
			return err
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("layer %s: %w", d, err)
		}
		blobs = append(blobs, entry{blob(d), data})
		layerNames = append(layerNames, blob(d))
	}
	blobs = append(blobs, entry{blob(mdigest), manifest})

	index, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     types.OCIImageIndex,
		"manifests": []map[string]any{{
			"mediaType": mtype, "digest": mdigest.String(), "size": len(manifest),
			"annotations": map[string]string{
				"org.opencontainers.image.ref.name": ref.TagStr(),
				"io.containerd.image.name":          ref.String(),
			},
		}},
	})
	if err != nil {
		return err
	}
	dockerManifest, err := json.Marshal([]map[string]any{{
		"Config": blob(cdigest), "RepoTags": []string{ref.String()}, "Layers": layerNames,
	}})
	if err != nil {
		return err
	}

	entries := []entry{{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)}, {"index.json", index}}
	entries = append(entries, blobs...)
	entries = append(entries, entry{"manifest.json", dockerManifest})

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	dirs := map[string]bool{}
	for _, e := range entries {
		for _, d := range []string{"blobs/", "blobs/sha256/"} {
			if strings.HasPrefix(e.name, d) && !dirs[d] {
				dirs[d] = true
				if err := tw.WriteHeader(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
					return err
				}
			}
		}
		h := &tar.Header{Name: e.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(e.data)), ModTime: epoch, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write(e.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Close()
}
