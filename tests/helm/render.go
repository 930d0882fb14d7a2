// render: renders a helm chart the way `helm template` does, for the chart
// test (tests/helm/helm_test.sh). No helm binary is packaged in Debian 12;
// this implements the part of helm's engine the chart uses, on Debian's Go
// packages: text/template with sprig's TxtFuncMap (minus env and expandenv,
// as in helm), helm's include, tpl, toYaml, fromYaml, fromYamlArray,
// toJson, fromJson, fromJsonArray, required, fail, lookup (always an empty
// map, as in `helm template`), .Values (values.yaml, then each -f file,
// then each --set, merged as helm coalesces them: maps merge, null deletes
// a key), .Release, .Chart, .Capabilities (.APIVersions.Has, .KubeVersion),
// .Template, .Files.Get. Templates whose name starts with "_" are partials;
// NOTES.txt is rendered (so its errors count) but written only to --notes.
// The output is one YAML stream, each document headed by
// "# Source: <chart>/templates/<file>" and ordered by kind as helm installs
// them. Each document must parse as YAML and name apiVersion and kind, as
// helm requires. Values in files are decoded as helm decodes them (through
// JSON: every number is a float64), so a comparison that would fail under
// helm (`eq .Values.replicaCount 1`) fails here too.
//
// Build (GOPATH mode on Debian's golang-go and golang-*-dev packages):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o render tests/helm/render.go
//
// Usage:
//
//	render [--name takt] [--namespace default] [-f values.yaml]... [--set a.b=c]...
//	       [--api-versions group/version[/Kind]]... [--kube-version v1.30.0]
//	       [--notes FILE] [-o FILE] CHART_DIR
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/semver"
	"github.com/Masterminds/sprig"
	yaml2 "gopkg.in/yaml.v2"
	yaml3 "gopkg.in/yaml.v3"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// Chart is Chart.yaml, with the field names helm's templates use (.Chart.Name).
type Chart struct {
	APIVersion   string            `yaml:"apiVersion"`
	Name         string            `yaml:"name"`
	Version      string            `yaml:"version"`
	AppVersion   string            `yaml:"appVersion"`
	Description  string            `yaml:"description"`
	Type         string            `yaml:"type"`
	KubeVersion  string            `yaml:"kubeVersion"`
	Home         string            `yaml:"home"`
	Icon         string            `yaml:"icon"`
	Sources      []string          `yaml:"sources"`
	Keywords     []string          `yaml:"keywords"`
	Annotations  map[string]string `yaml:"annotations"`
	Deprecated   bool              `yaml:"deprecated"`
	Maintainers  []map[string]any  `yaml:"maintainers"`
	Dependencies []map[string]any  `yaml:"dependencies"`
}

// VersionSet is .Capabilities.APIVersions.
type VersionSet []string

// Has is .Capabilities.APIVersions.Has "policy/v1" or "policy/v1/PodDisruptionBudget".
func (v VersionSet) Has(apiVersion string) bool {
	for _, x := range v {
		if x == apiVersion {
			return true
		}
	}
	return false
}

// KubeVersion is .Capabilities.KubeVersion.
type KubeVersion struct {
	Version    string
	Major      string
	Minor      string
	GitVersion string
}

func (k KubeVersion) String() string { return k.Version }

// Capabilities is .Capabilities.
type Capabilities struct {
	APIVersions VersionSet
	KubeVersion KubeVersion
	HelmVersion map[string]string
}

// Files is .Files: the chart's files outside templates/.
type Files map[string][]byte

// Get returns a file's text, or "" when there is none.
func (f Files) Get(name string) string { return string(f[name]) }

// GetBytes returns a file's bytes.
func (f Files) GetBytes(name string) []byte { return f[name] }

// Lines returns a file's lines.
func (f Files) Lines(name string) []string {
	if f[name] == nil {
		return []string{}
	}
	return strings.Split(strings.TrimSuffix(string(f[name]), "\n"), "\n")
}

// The built-in API versions of a v1.30 cluster that a chart may ask for.
var builtinAPIVersions = []string{
	"v1", "apps/v1", "batch/v1", "policy/v1", "networking.k8s.io/v1", "autoscaling/v1", "autoscaling/v2",
	"rbac.authorization.k8s.io/v1", "storage.k8s.io/v1", "scheduling.k8s.io/v1", "coordination.k8s.io/v1",
	"discovery.k8s.io/v1", "admissionregistration.k8s.io/v1", "apiextensions.k8s.io/v1",
	"certificates.k8s.io/v1", "node.k8s.io/v1", "events.k8s.io/v1",
}

// Helm's install order (pkg/releaseutil/kind_sorter.go); other kinds after these.
var installOrder = []string{
	"PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
	"PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
	"PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleList",
	"ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList",
	"Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
	"HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
}

func main() {
	var valueFiles, sets, apiVersions multiFlag
	name := flag.String("name", "takt", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	kubeVersion := flag.String("kube-version", "v1.30.0", "the cluster's Kubernetes version (.Capabilities.KubeVersion)")
	notes := flag.String("notes", "", "write the rendered NOTES.txt to this file")
	out := flag.String("o", "", "write the manifests to this file (default: standard output)")
	flag.Var(&valueFiles, "f", "a values file merged over the chart's values.yaml (repeatable; later wins)")
	flag.Var(&sets, "set", "key.path=value merged over the values (repeatable)")
	flag.Var(&apiVersions, "api-versions", "an API version (group/version or group/version/Kind) the cluster has, besides the built-in ones (repeatable)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: render [flags] CHART_DIR")
		flag.PrintDefaults()
		os.Exit(2)
	}
	manifests, notesText, err := render(flag.Arg(0), *name, *namespace, *kubeVersion, valueFiles, sets, apiVersions)
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
	if *notes != "" {
		if err := os.WriteFile(*notes, []byte(notesText), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "Error:", err)
			os.Exit(1)
		}
	}
	if *out == "" {
		os.Stdout.WriteString(manifests)
		return
	}
	if err := os.WriteFile(*out, []byte(manifests), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

func render(chartDir, releaseName, namespace, kubeVersion string, valueFiles, sets, extraAPIVersions []string) (string, string, error) {
	chartBytes, err := os.ReadFile(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return "", "", err
	}
	var chart Chart
	if err := yaml3.Unmarshal(chartBytes, &chart); err != nil {
		return "", "", fmt.Errorf("Chart.yaml: %w", err)
	}
	if chart.APIVersion != "v2" || chart.Name == "" || chart.Version == "" {
		return "", "", errors.New("Chart.yaml: apiVersion v2, name and version are required")
	}
	if _, err := semver.NewVersion(chart.Version); err != nil {
		return "", "", fmt.Errorf("Chart.yaml: version %q is not SemVer 2: %w", chart.Version, err)
	}
	kv, err := semver.NewVersion(kubeVersion)
	if err != nil {
		return "", "", fmt.Errorf("--kube-version %q: %w", kubeVersion, err)
	}
	if chart.KubeVersion != "" {
		c, err := semver.NewConstraint(chart.KubeVersion)
		if err != nil {
			return "", "", fmt.Errorf("Chart.yaml: kubeVersion %q: %w", chart.KubeVersion, err)
		}
		if !c.Check(kv) {
			return "", "", fmt.Errorf("chart requires kubeVersion: %s which is incompatible with Kubernetes %s", chart.KubeVersion, kubeVersion)
		}
	}

	// Values: the chart's, then each file, then each --set.
	values, err := readValuesFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		return "", "", err
	}
	for _, f := range valueFiles {
		v, err := readValuesFile(f)
		if err != nil {
			return "", "", err
		}
		coalesce(values, v)
	}
	for _, s := range sets {
		v, err := parseSet(s)
		if err != nil {
			return "", "", err
		}
		coalesce(values, v)
	}

	caps := Capabilities{
		APIVersions: append(append(VersionSet{}, builtinAPIVersions...), extraAPIVersions...),
		KubeVersion: KubeVersion{Version: "v" + kv.String(), Major: strconv.FormatUint(kv.Major(), 10),
			Minor: strconv.FormatUint(kv.Minor(), 10), GitVersion: "v" + kv.String()},
		HelmVersion: map[string]string{"Version": "v3.14.0"},
	}
	release := map[string]any{"Name": releaseName, "Namespace": namespace, "Service": "Helm",
		"IsInstall": true, "IsUpgrade": false, "Revision": 1}

	// Templates and other files.
	files := Files{}
	type tplFile struct{ name, text string }
	var tpls []tplFile
	err = filepath.WalkDir(chartDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(chartDir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasPrefix(rel, "templates/") {
			tpls = append(tpls, tplFile{chart.Name + "/" + rel, string(b)})
		} else {
			files[rel] = b
		}
		return nil
	})
	if err != nil {
		return "", "", err
	}
	sort.Slice(tpls, func(i, j int) bool { return tpls[i].name < tpls[j].name })

	var root *template.Template
	funcs := funcMap(&root)
	root = template.New("gotpl").Funcs(funcs).Option("missingkey=zero")
	for _, t := range tpls {
		if _, err := root.New(t.name).Parse(t.text); err != nil {
			return "", "", fmt.Errorf("parse error in %s: %w", t.name, err)
		}
	}

	type doc struct {
		source string
		kind   string
		order  int
		seq    int
		text   string
	}
	var docs []doc
	notesText := ""
	seq := 0
	for _, t := range tpls {
		base := path.Base(t.name)
		if strings.HasPrefix(base, "_") {
			continue
		}
		data := map[string]any{
			"Values": values, "Release": release, "Chart": chart, "Capabilities": caps, "Files": files,
			"Template": map[string]any{"Name": t.name, "BasePath": chart.Name + "/templates"},
		}
		var buf strings.Builder
		if err := root.ExecuteTemplate(&buf, t.name, data); err != nil {
			return "", "", cleanExecError(err)
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		if base == "NOTES.txt" {
			notesText = text
			continue
		}
		if ext := path.Ext(base); ext != ".yaml" && ext != ".yml" && ext != ".json" {
			continue
		}
		for _, d := range splitManifests(text) {
			if strings.TrimSpace(stripComments(d)) == "" {
				continue
			}
			var head struct {
				APIVersion string `yaml:"apiVersion"`
				Kind       string `yaml:"kind"`
				Metadata   struct {
					Name string `yaml:"name"`
				} `yaml:"metadata"`
			}
			if err := yaml3.Unmarshal([]byte(d), &head); err != nil {
				return "", "", fmt.Errorf("YAML parse error on %s: %w\n--- the document:\n%s", t.name, err, numbered(d))
			}
			var full map[string]any
			if err := yaml3.Unmarshal([]byte(d), &full); err != nil {
				return "", "", fmt.Errorf("YAML parse error on %s: %w\n--- the document:\n%s", t.name, err, numbered(d))
			}
			if head.APIVersion == "" || head.Kind == "" {
				return "", "", fmt.Errorf("%s: a document without apiVersion or kind:\n%s", t.name, numbered(d))
			}
			order := len(installOrder)
			for i, k := range installOrder {
				if k == head.Kind {
					order = i
				}
			}
			docs = append(docs, doc{t.name, head.Kind, order, seq, strings.TrimRight(d, " \n") + "\n"})
			seq++
		}
	}
	sort.SliceStable(docs, func(i, j int) bool {
		if docs[i].order != docs[j].order {
			return docs[i].order < docs[j].order
		}
		return docs[i].seq < docs[j].seq
	})
	var out strings.Builder
	for _, d := range docs {
		fmt.Fprintf(&out, "---\n# Source: %s\n%s", d.source, strings.TrimLeft(d.text, "\n"))
	}
	return out.String(), notesText, nil
}

// funcMap: sprig's functions plus helm's (pkg/engine/funcs.go and engine.go).
func funcMap(root **template.Template) template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	included := map[string]int{}
	f["include"] = func(name string, data any) (string, error) {
		if included[name] > 1000 {
			return "", fmt.Errorf("rendering template has a nested reference name: %s: unable to execute template", name)
		}
		included[name]++
		defer func() { included[name]-- }()
		var buf strings.Builder
		if err := (*root).ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	f["tpl"] = func(text string, data any) (string, error) {
		t, err := (*root).Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", fmt.Errorf("cannot parse template %q: %w", text, err)
		}
		var buf strings.Builder
		if err := t.Execute(&buf, data); err != nil {
			return "", fmt.Errorf("error during tpl function execution for %q: %w", text, err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	f["required"] = func(msg string, v any) (any, error) {
		if v == nil {
			return v, errors.New(msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return v, errors.New(msg)
		}
		return v, nil
	}
	f["fail"] = func(msg string) (string, error) { return "", errors.New(msg) }
	f["lookup"] = func(apiVersion, kind, namespace, name string) (map[string]any, error) {
		return map[string]any{}, nil
	}
	f["toYaml"] = func(v any) string {
		s, err := toYAML(v)
		if err != nil {
			return ""
		}
		return strings.TrimSuffix(s, "\n")
	}
	f["mustToYaml"] = func(v any) (string, error) {
		s, err := toYAML(v)
		return strings.TrimSuffix(s, "\n"), err
	}
	f["fromYaml"] = func(s string) map[string]any {
		var m map[string]any
		if err := yamlToJSONTypes(s, &m); err != nil {
			return map[string]any{"Error": err.Error()}
		}
		if m == nil {
			m = map[string]any{}
		}
		return m
	}
	f["fromYamlArray"] = func(s string) []any {
		var a []any
		if err := yamlToJSONTypes(s, &a); err != nil {
			return []any{err.Error()}
		}
		return a
	}
	f["toJson"] = func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		return string(b)
	}
	f["fromJson"] = func(s string) map[string]any {
		m := map[string]any{}
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	f["fromJsonArray"] = func(s string) []any {
		var a []any
		if err := json.Unmarshal([]byte(s), &a); err != nil {
			return []any{err.Error()}
		}
		return a
	}
	return f
}

// toYAML as sigs.k8s.io/yaml (helm's toYaml): through JSON, so keys are
// sorted and field tags are JSON's, then YAML in yaml.v2's layout.
func toYAML(v any) (string, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	var obj any
	if err := yaml2.Unmarshal(j, &obj); err != nil {
		return "", err
	}
	b, err := yaml2.Marshal(obj)
	return string(b), err
}

// yamlToJSONTypes decodes YAML into JSON's types (float64 numbers,
// map[string]any), as sigs.k8s.io/yaml does for helm.
func yamlToJSONTypes(s string, out any) error {
	var v any
	if err := yaml3.Unmarshal([]byte(s), &v); err != nil {
		return err
	}
	j, err := json.Marshal(normalize(v))
	if err != nil {
		return err
	}
	return json.Unmarshal(j, out)
}

func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
		return x
	case map[any]any:
		m := map[string]any{}
		for k, e := range x {
			m[fmt.Sprint(k)] = normalize(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		return x
	}
	return v
}

func readValuesFile(p string) (map[string]any, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := yamlToJSONTypes(string(b), &m); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// coalesce merges src over dst as helm merges user values over a chart's:
// maps merge key by key, a null deletes the key, anything else replaces.
func coalesce(dst, src map[string]any) {
	for k, sv := range src {
		if sv == nil {
			delete(dst, k)
			continue
		}
		sm, sIsMap := sv.(map[string]any)
		dm, dIsMap := dst[k].(map[string]any)
		if sIsMap && dIsMap {
			coalesce(dm, sm)
			continue
		}
		dst[k] = sv
	}
}

// parseSet reads "a.b.c=v[,d=w]" as helm's --set does for plain keys:
// true/false are booleans, null is null, an integer is an int64, the rest
// strings ("\," escapes a comma).
func parseSet(s string) (map[string]any, error) {
	out := map[string]any{}
	var parts []string
	cur := ""
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && s[i+1] == ',' {
			cur += ","
			i++
			continue
		}
		if s[i] == ',' {
			parts = append(parts, cur)
			cur = ""
			continue
		}
		cur += string(s[i])
	}
	parts = append(parts, cur)
	for _, p := range parts {
		eq := strings.IndexByte(p, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("--set %q: key=value expected", s)
		}
		keys := strings.Split(p[:eq], ".")
		raw := p[eq+1:]
		var v any = raw
		switch {
		case raw == "true":
			v = true
		case raw == "false":
			v = false
		case raw == "null":
			v = nil
		default:
			if n, err := strconv.ParseInt(raw, 10, 64); err == nil {
				v = n
			}
		}
		m := out
		for _, k := range keys[:len(keys)-1] {
			next, ok := m[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[k] = next
			}
			m = next
		}
		m[keys[len(keys)-1]] = v
	}
	return out, nil
}

var sepRe = regexp.MustCompile(`(?:^|\s*\n)---\s*`)

// splitManifests splits a rendered file into YAML documents (helm's
// releaseutil.SplitManifests).
func splitManifests(text string) []string {
	var out []string
	for _, d := range sepRe.Split(text, -1) {
		if strings.TrimSpace(d) != "" {
			out = append(out, d)
		}
	}
	return out
}

func stripComments(d string) string {
	var b strings.Builder
	for _, l := range strings.Split(d, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

func numbered(d string) string {
	var b bytes.Buffer
	for i, l := range strings.Split(d, "\n") {
		fmt.Fprintf(&b, "%4d | %s\n", i+1, l)
	}
	return b.String()
}

var execLocRe = regexp.MustCompile(`template: ([^\s:]+:\d+:\d+): executing `)

// cleanExecError shortens a fail or required message as helm does:
// "execution error at (takt/templates/x.yaml:3:4): <message>", naming the
// innermost template (an include's partial).
func cleanExecError(err error) error {
	msg := err.Error()
	at := -1
	for _, marker := range []string{"error calling fail: ", "error calling required: "} {
		if i := strings.LastIndex(msg, marker); i >= 0 && i+len(marker) > at {
			at = i + len(marker)
		}
	}
	if at < 0 {
		return err
	}
	locs := execLocRe.FindAllStringSubmatchIndex(msg[:at], -1)
	if len(locs) == 0 {
		return err
	}
	last := locs[len(locs)-1]
	return fmt.Errorf("execution error at (%s): %s", msg[last[2]:last[3]], msg[at:])
}
