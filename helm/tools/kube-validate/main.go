// kube-validate decodes every object of a rendered Helm chart (multi-document YAML on stdin or in
// the files named on the command line) strictly against the Go API types of pinned versions:
// Kubernetes (k8s.io/api, see go.mod), Prometheus Operator (monitoring.coreos.com/v1) and KEDA
// (keda.sh/v1alpha1). It fails (exit 1, one line per problem naming the object and the field) on
//
//   - a kind it has no type for,
//   - an unknown or duplicated field, or a value of the wrong type (strict decoding),
//   - a missing required field: a field whose JSON tag has no `omitempty` is required by the
//     Kubernetes API conventions, and a few fields the API server requires although their tag
//     says otherwise (listed in extraRequired).
//
// Usage: helm template … | kube-validate [-v]
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"

	kedav1alpha1 "github.com/kedacore/keda/v2/apis/keda/v1alpha1"
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/yaml"
)

// extraRequired: fields the API server rejects when absent although their Go tag has omitempty
// (keyed by Go type, then JSON field name).
var extraRequired = map[reflect.Type][]string{
	reflect.TypeOf(appsv1.DeploymentSpec{}):        {"selector"},
	reflect.TypeOf(appsv1.StatefulSetSpec{}):       {"selector"},
	reflect.TypeOf(corev1.Container{}):             {"image"},
	reflect.TypeOf(corev1.ServicePort{}):           {"port"},
	reflect.TypeOf(corev1.ConfigMapVolumeSource{}): {"name"},
	reflect.TypeOf(corev1.SecretVolumeSource{}):    {"secretName"},
}

// notRequired: fields without omitempty that the API server defaults or accepts empty.
var notRequired = map[reflect.Type]map[string]bool{
	reflect.TypeOf(metav1.ObjectMeta{}): {"creationTimestamp": true},
}

var unmarshaler = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme, policyv1.AddToScheme,
		autoscalingv2.AddToScheme, rbacv1.AddToScheme, monitoringv1.AddToScheme, kedav1alpha1.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}

// splitDocs splits multi-document YAML on `---` lines, keeping each document's `# Source:` line.
func splitDocs(r io.Reader) ([]string, error) {
	var docs []string
	var cur strings.Builder
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimRight(line, " ") == "---" {
			docs = append(docs, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	docs = append(docs, cur.String())
	return docs, sc.Err()
}

func source(doc string) string {
	for _, l := range strings.Split(doc, "\n") {
		if strings.HasPrefix(l, "# Source: ") {
			return strings.TrimPrefix(l, "# Source: ")
		}
	}
	return "?"
}

// checkRequired walks the Go type t alongside the decoded JSON value v and reports every required
// field that is absent.
func checkRequired(t reflect.Type, v any, path string, out *[]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil || reflect.PointerTo(t).Implements(unmarshaler) {
		return // leaf types with their own JSON form (Quantity, IntOrString, Time, RawExtension…)
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		checkStruct(t, m, path, out)
	case reflect.Slice:
		if a, ok := v.([]any); ok {
			for i, e := range a {
				checkRequired(t.Elem(), e, fmt.Sprintf("%s[%d]", path, i), out)
			}
		}
	case reflect.Map:
		if m, ok := v.(map[string]any); ok {
			for k, e := range m {
				checkRequired(t.Elem(), e, path+"."+k, out)
			}
		}
	}
}

func checkStruct(t reflect.Type, m map[string]any, path string, out *[]string) {
	extra := map[string]bool{}
	for _, f := range extraRequired[t] {
		extra[f] = true
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		parts := strings.Split(tag, ",")
		name := parts[0]
		opts := parts[1:]
		inline := f.Anonymous && name == "" || contains(opts, "inline")
		if inline {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				checkStruct(ft, m, path, out)
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		val, present := m[name]
		required := (!contains(opts, "omitempty") && !contains(opts, "omitzero") && !notRequired[t][name]) || extra[name]
		if required && (!present || val == nil) {
			*out = append(*out, fmt.Sprintf("%s.%s: required field is missing", path, name))
			continue
		}
		if present {
			checkRequired(f.Type, val, path+"."+name, out)
		}
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func validate(doc string, decoder runtime.Decoder, s *runtime.Scheme) (string, []string) {
	jsonBytes, err := yaml.YAMLToJSONStrict([]byte(doc))
	if err != nil {
		return source(doc), []string{"not valid YAML (or a duplicated key): " + err.Error()}
	}
	if bytes.Equal(bytes.TrimSpace(jsonBytes), []byte("null")) {
		return "", nil // an empty document (a template that rendered nothing)
	}
	var raw map[string]any
	if err := json.Unmarshal(jsonBytes, &raw); err != nil {
		return source(doc), []string{"not a YAML mapping: " + err.Error()}
	}
	apiVersion, _ := raw["apiVersion"].(string)
	kind, _ := raw["kind"].(string)
	name := ""
	if md, ok := raw["metadata"].(map[string]any); ok {
		name, _ = md["name"].(string)
	}
	id := fmt.Sprintf("%s %s/%s (%s)", source(doc), kind, name, apiVersion)
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil || kind == "" {
		return id, []string{"apiVersion and kind are required"}
	}
	gvk := gv.WithKind(kind)
	if !s.Recognizes(gvk) {
		return id, []string{fmt.Sprintf("no API type for %s: not a kind of the pinned Kubernetes, Prometheus Operator or KEDA versions", gvk)}
	}
	obj, _, err := decoder.Decode(jsonBytes, &gvk, nil)
	var problems []string
	if err != nil {
		problems = append(problems, err.Error())
	}
	if name == "" {
		problems = append(problems, kind+".metadata.name: required field is missing")
	}
	if obj != nil {
		checkRequired(reflect.TypeOf(obj), raw, kind, &problems)
	}
	sort.Strings(problems)
	return id, problems
}

func main() {
	verbose := flag.Bool("v", false, "print every object checked")
	flag.Parse()
	s := newScheme()
	decoder := serializer.NewCodecFactory(s, serializer.EnableStrict).UniversalDeserializer()
	var inputs []io.Reader
	if flag.NArg() == 0 {
		inputs = append(inputs, os.Stdin)
	}
	for _, p := range flag.Args() {
		f, err := os.Open(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, "kube-validate:", err)
			os.Exit(2)
		}
		defer f.Close()
		inputs = append(inputs, f)
	}
	checked, failed := 0, 0
	for _, in := range inputs {
		docs, err := splitDocs(in)
		if err != nil {
			fmt.Fprintln(os.Stderr, "kube-validate:", err)
			os.Exit(2)
		}
		for _, d := range docs {
			id, problems := validate(d, decoder, s)
			if id == "" {
				continue
			}
			checked++
			if len(problems) > 0 {
				failed++
				for _, p := range problems {
					fmt.Printf("INVALID %s: %s\n", id, p)
				}
			} else if *verbose {
				fmt.Printf("ok %s\n", id)
			}
		}
	}
	fmt.Printf("kube-validate: %d objects checked, %d invalid\n", checked, failed)
	if failed > 0 || checked == 0 {
		if checked == 0 {
			fmt.Fprintln(os.Stderr, "kube-validate: no objects in the input")
		}
		os.Exit(1)
	}
}
