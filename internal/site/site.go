// Package site is what the demo site serves, as one value: the files of
// site/ that are published (one rule: no dotfile or dot directory, no test,
// nothing a symlink takes out of site/), each page with the
// Content-Security-Policy naming the exact API it calls, and the
// config.json that points the page at that API, carries the model its form
// is built from, and says where to sign in. The API stack deploys exactly
// that; make local serves exactly that, through a file server that knows
// nothing of it (an fs.FS).
//
// CloudFront's header policy belongs to the site stack, which is deployed
// before the API exists and can only name the region's execute-api hosts;
// the API stack deploys each page with a <meta> policy naming its own URL,
// and a browser enforces both, so the page may connect to that API and
// nowhere else. make local serves the pages the same way, with the local
// API's URL.
package site

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing/fstest"
	"time"

	"github.com/iris-cors/iris-cors-cdk/internal/model"
)

// Config is the site's config.json: where the API is, the model the page
// builds its form from, and where it signs its user in.
type Config struct {
	APIURL any          `json:"apiUrl"` // a string; the CDK app puts a token here
	Model  model.Public `json:"model"`
	// SignIn is where the page signs its user in, when the API requires it.
	SignIn *SignIn `json:"signIn,omitempty"`
}

// SignIn is an OpenID Connect sign-in with the authorization code flow and
// PKCE: Cognito's hosted domain, or make local's issuer, which answers on
// the same paths (/oauth2/authorize, /oauth2/token, /logout).
type SignIn struct {
	URL      any `json:"url"`      // the base URL; a string, or a token the deployment resolves
	ClientID any `json:"clientId"` // the site's app client
	// Issuer is the user pool's OpenID issuer, an OpenID client's
	// authority (discovery at Issuer + /.well-known/openid-configuration).
	Issuer any `json:"issuer"`
}

// TokenPath is where the page exchanges its code for tokens, under the
// sign-in's URL: the one place besides its API a page's policy lets it
// connect to.
const TokenPath = "/oauth2/token"

// ConfigFile is the name the page reads its config under.
const ConfigFile = "config.json"

// Content is the site for one API: its files in Dir, the API's URL (a
// string, or a CDK token the deployment resolves), the served model and
// where to sign in (nil for an open API).
type Content struct {
	Dir    string
	APIURL string
	Model  *model.Model
	SignIn *SignIn
}

// Config is the content's config.json document.
func (c Content) Config() Config {
	return Config{APIURL: c.APIURL, Model: c.Model.Public(), SignIn: c.SignIn}
}

// connect are the origins besides its API a page may connect to: the
// sign-in's token endpoint.
func (c Content) connect() []string {
	if c.SignIn == nil {
		return nil
	}
	return []string{fmt.Sprint(c.SignIn.URL) + TokenPath}
}

// Page is one of the site's pages as it is published.
type Page struct{ Name, Content string }

// Pages are the published pages (every HTML file, IsPage), each with the
// policy naming the API.
func (c Content) Pages() ([]Page, error) {
	files, err := Files(c.Dir)
	if err != nil {
		return nil, err
	}
	var pages []Page
	for _, name := range files {
		if !IsPage(name) {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(c.Dir, filepath.FromSlash(name)))
		if err != nil {
			return nil, err
		}
		page, err := WithAPI(string(raw), c.APIURL, c.connect()...)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		pages = append(pages, Page{name, page})
	}
	return pages, nil
}

// Open opens a file of what the site serves (Content is an fs.FS), read
// from Dir at each call, so a saved file is served at the next request:
// config.json, a published page with its policy, a published file as it
// is. A file that is not published is not there.
func (c Content) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if name == ConfigFile {
		config, err := json.Marshal(c.Config())
		if err != nil {
			return nil, err
		}
		return memory(name, config, time.Now())
	}
	real, err := filepath.EvalSymlinks(c.Dir)
	if err != nil {
		return nil, err
	}
	file := filepath.Join(c.Dir, filepath.FromSlash(name))
	if ok, err := inside(real, file); name == "." || !Published(name) || err != nil || !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	info, err := os.Stat(file)
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if IsPage(name) {
		page, err := WithAPI(string(raw), c.APIURL, c.connect()...)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		raw = []byte(page)
	}
	return memory(name, raw, info.ModTime())
}

// memory is an open file of data.
func memory(name string, data []byte, modTime time.Time) (fs.File, error) {
	return fstest.MapFS{name: {Data: data, ModTime: modTime, Mode: 0o444}}.Open(name)
}

// Published says whether a file of the site, by its slash path under the
// site's directory, is published: no part of it a dotfile or dot directory
// (.env, .git/, .DS_Store), and no test (*.test.js, *.test.mjs, a test/
// directory), which stay in the repository.
func Published(name string) bool {
	parts := strings.Split(name, "/")
	for _, p := range parts {
		if strings.HasPrefix(p, ".") || p == "test" {
			return false
		}
	}
	base := parts[len(parts)-1]
	return !strings.HasSuffix(base, ".test.js") && !strings.HasSuffix(base, ".test.mjs")
}

// Files are the published regular files of dir, by slash path, sorted. A
// symlink counts as the file it resolves to, and only if that is a
// published file inside dir: a link to ../secrets or to .env is left out,
// as is anything not a regular file.
func Files(dir string) ([]string, error) {
	files, _, err := walk(dir)
	return files, err
}

// Unpublished are what of dir the publishing rule leaves out, by slash
// path (a directory once, not its files): what a deployment that copies
// dir must exclude.
func Unpublished(dir string) ([]string, error) {
	_, left, err := walk(dir)
	return left, err
}

// walk sorts dir's entries into its published files and what the rule
// leaves out, in one walk.
func walk(dir string) (files, left []string, err error) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, nil, err
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		name := filepath.ToSlash(rel)
		switch {
		case name == ".":
		case !Published(name):
			left = append(left, name)
			if d.IsDir() {
				return filepath.SkipDir
			}
		case d.IsDir():
		default:
			ok, err := inside(real, p)
			if err != nil {
				return err
			}
			if ok {
				files = append(files, name)
			} else {
				left = append(left, name)
			}
		}
		return nil
	})
	slices.Sort(files)
	return files, left, err
}

// inside says whether file resolves (through symlinks) to a published
// regular file under the directory real.
func inside(real, file string) (bool, error) {
	target, err := filepath.EvalSymlinks(file)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil // a dangling link
	}
	if err != nil {
		return false, err
	}
	rel, err := filepath.Rel(real, target)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || !Published(filepath.ToSlash(rel)) {
		return false, nil
	}
	info, err := os.Stat(target)
	return err == nil && info.Mode().IsRegular(), err
}
