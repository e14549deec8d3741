package batch_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/netgrade/netgrade/internal/batch"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// k8sObject is the part of a Kubernetes object the example's test reads.
type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		CompletionMode string `yaml:"completionMode"`
		Completions    int    `yaml:"completions"`
		Parallelism    int    `yaml:"parallelism"`
		Template       struct {
			Spec struct {
				Containers []struct {
					Command []string `yaml:"command"`
					Args    []string `yaml:"args"`
					Env     []struct {
						Name  string `yaml:"name"`
						Value string `yaml:"value"`
					} `yaml:"env"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// readObjects reads every document of a YAML file.
func readObjects(t *testing.T, path string) []k8sObject {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var objs []k8sObject
	for {
		var o k8sObject
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, path)
		objs = append(objs, o)
	}
	return objs
}

// TestKubernetesExample keeps the indexed Job of examples/kubernetes in
// step with the command line: every index grades one shard, the shards
// cover the class, and the merge job joins them.
func TestKubernetesExample(t *testing.T) {
	dir := filepath.Join("..", "..", "examples", "kubernetes")
	var job *k8sObject
	for _, o := range readObjects(t, filepath.Join(dir, "batch-job.yaml")) {
		if o.Kind == "Job" {
			job = &o
		}
	}
	require.NotNil(t, job, "batch-job.yaml holds a Job")
	assert.Equal(t, "Indexed", job.Spec.CompletionMode)
	require.Len(t, job.Spec.Template.Spec.Containers, 1)
	c := job.Spec.Template.Spec.Containers[0]
	shards := ""
	for _, e := range c.Env {
		if e.Name == "SHARDS" {
			shards = e.Value
		}
	}
	n, err := batch.ParseShard("0/" + shards)
	require.NoError(t, err, "SHARDS is a number")
	assert.Equal(t, n.N, job.Spec.Completions, "one completion per shard")
	assert.Equal(t, n.N, job.Spec.Parallelism)
	script := strings.Join(append(c.Command, c.Args...), " ")
	for _, want := range []string{"netgrade batch", `--shard "${JOB_COMPLETION_INDEX}/${SHARDS}"`, `-o "/class/out/shard-${JOB_COMPLETION_INDEX}"`} {
		assert.Contains(t, script, want)
	}
	merge := readObjects(t, filepath.Join(dir, "merge-job.yaml"))
	require.Len(t, merge, 1)
	margs := strings.Join(merge[0].Spec.Template.Spec.Containers[0].Args, " ")
	assert.Contains(t, margs, "netgrade merge /class/out/shard-* -o /class/out/all")
}
