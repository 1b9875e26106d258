package stacks

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3deployment"
	"github.com/aws/jsii-runtime-go"

	"github.com/iris-cors/iris-cors-cdk/internal/project"
	"github.com/iris-cors/iris-cors-cdk/internal/site"
)

// The deployed site and the local one are one value (internal/site): the
// files the BucketDeployment copies, synthesized, are those make local
// serves, file for file and byte for byte, from a site/ with what must not
// be published beside what must. Before, cdk deploy published site/.env,
// .git/, .DS_Store and a symlink's target outside site/, which make local
// refused.
func TestTheDeployedSiteIsWhatMakeLocalServes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "site")
	for name, content := range map[string]string{
		"index.html": "<!doctype html><meta charset=utf-8><title>x</title>", "app.js": "app", "img/logo.svg": "<svg/>",
		".env": "TOKEN=x", ".git/config": "[core]", ".DS_Store": "finder", "app.test.js": "test", "test/page.html": "test",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "..", "secret.txt"), []byte("secret"), 0o644)
	os.Symlink(filepath.Join(dir, "..", "secret.txt"), filepath.Join(dir, "leak.txt"))
	os.Symlink(".env", filepath.Join(dir, "env.txt"))
	m, err := project.Served()
	if err != nil {
		t.Fatal(err)
	}
	content := site.Content{Dir: dir, APIURL: "https://api.example/dev/", Model: m}

	out := t.TempDir()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(out)})
	stack := awscdk.NewStack(app, jsii.String("SiteContent"), nil)
	sources, err := siteSources(content)
	if err != nil {
		t.Fatal(err)
	}
	awss3deployment.NewBucketDeployment(stack, jsii.String("Deploy"), &awss3deployment.BucketDeploymentProps{
		Sources: &sources, DestinationBucket: awss3.NewBucket(stack, jsii.String("Bucket"), nil),
	})
	app.Synth(nil)
	deployed := map[string][]byte{}
	for _, key := range assetKeys(t, out) {
		root := filepath.Join(out, "asset."+key)
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(root, p)
				deployed[filepath.ToSlash(rel)], err = os.ReadFile(p)
			}
			return err
		})
	}
	local, err := site.Files(dir)
	if err != nil {
		t.Fatal(err)
	}
	local = append(local, site.ConfigFile)
	var names []string
	for name := range deployed {
		names = append(names, name)
	}
	slices.Sort(names)
	slices.Sort(local)
	if !slices.Equal(names, local) {
		t.Fatalf("deployed %v, make local serves %v", names, local)
	}
	for _, name := range local {
		served, err := fs.ReadFile(content, name)
		if name == site.ConfigFile { // the same document, its keys in another order
			var a, b any
			json.Unmarshal(served, &a)
			json.Unmarshal(deployed[name], &b)
			served, _ = json.Marshal(a)
			deployed[name], _ = json.Marshal(b)
		}
		if err != nil || string(served) != string(deployed[name]) {
			t.Errorf("%s: make local serves %q (%v), the deployment copies %q", name, served, err, deployed[name])
		}
	}
}

// assetKeys are the hashes of the file assets the synthesized app in out
// stages (its asset manifest), the BucketDeployment's handler's excepted.
func assetKeys(t *testing.T, out string) []string {
	t.Helper()
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range entries {
		key, ok := strings.CutPrefix(e.Name(), "asset.")
		if !ok || !e.IsDir() {
			continue
		}
		// The handler's code and its AWS CLI layer are the construct's.
		if _, err := os.Stat(filepath.Join(out, e.Name(), "index.py")); err == nil {
			continue
		}
		if _, err := os.Stat(filepath.Join(out, e.Name(), "layer.zip")); err == nil {
			continue
		}
		keys = append(keys, key)
	}
	return keys
}
