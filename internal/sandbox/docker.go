package sandbox

import (
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/netgrade/netgrade/internal/report"
	"github.com/ory/dockertest/v3"
	dc "github.com/ory/dockertest/v3/docker"
)

// DefaultImage is the image the docker sandbox runs submissions in when
// the course names none.
const DefaultImage = "python:3.12-slim"

// LocalImage is the image `make sandbox-image` builds from Debian packages
// for machines that reach no image registry.
const LocalImage = "netgrade-python:local"

// Resource limits of a container, defaults of DockerConfig.
const (
	DefaultMemory = 512 << 20
	DefaultPIDs   = 256
	DefaultCPUs   = 1.0
)

// Paths inside the container.
const (
	containerSubmission = "/submission"
	containerBinary     = "/netgrade"
)

// LabelRun is the container label holding the ID of the netgrade run that
// started a container; LabelKind marks every container netgrade starts.
const (
	LabelKind    = "io.netgrade.sandbox"
	LabelRun     = "io.netgrade.run"
	LabelStudent = "io.netgrade.student"
	// LabelOut holds the output folder of the batch a container grades for.
	LabelOut = "io.netgrade.out"
)

// DockerConfig says how the docker sandbox runs containers.
type DockerConfig struct {
	// Image is the image submissions run in (DefaultImage when empty).
	Image string
	// Binary is the static netgrade binary mounted into every container as
	// the unit runner.
	Binary string
	// Memory (bytes), PIDs and CPUs limit each container (defaults above).
	Memory int64
	PIDs   int64
	CPUs   float64
	// Endpoint is the Docker engine's address; empty uses DOCKER_HOST or
	// the local socket.
	Endpoint string
	// RunID labels this run's containers, so that Close removes every one
	// of them.
	RunID string
	// Labels are added to every container (e.g. the batch's output folder),
	// so that one can tell where a container comes from.
	Labels map[string]string
	// Pull, when the image is missing, tries to pull it (bounded by
	// PullTimeout) before giving up.
	Pull        bool
	PullTimeout time.Duration
}

// dockerSandbox grades each unit in a container of its own.
type dockerSandbox struct {
	cfg  DockerConfig
	pool *dockertest.Pool
}

// NewDocker connects to the Docker engine and returns the docker sandbox.
// It fails, saying what to do, when the engine cannot be reached, the image
// is not there, or the binary is not a static Linux executable.
func NewDocker(ctx context.Context, cfg DockerConfig) (Sandbox, error) {
	if cfg.Image == "" {
		cfg.Image = DefaultImage
	}
	if cfg.Memory == 0 {
		cfg.Memory = DefaultMemory
	}
	if cfg.PIDs == 0 {
		cfg.PIDs = DefaultPIDs
	}
	if cfg.CPUs == 0 {
		cfg.CPUs = DefaultCPUs
	}
	if cfg.PullTimeout == 0 {
		cfg.PullTimeout = 2 * time.Minute
	}
	if cfg.RunID == "" {
		cfg.RunID = fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano())
	}
	bin, err := filepath.Abs(cfg.Binary)
	if err != nil {
		return nil, fmt.Errorf("docker sandbox: %w", err)
	}
	cfg.Binary = bin
	if err := checkStatic(bin); err != nil {
		return nil, err
	}
	pool, err := dockertest.NewPool(cfg.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("docker sandbox: connecting to Docker: %w", err)
	}
	if err := pool.Client.PingWithContext(ctx); err != nil {
		return nil, fmt.Errorf("docker sandbox: the Docker engine does not answer (%w): start it, or use --sandbox netns", err)
	}
	if _, err := pool.Client.InspectImage(cfg.Image); err != nil {
		if !errors.Is(err, dc.ErrNoSuchImage) {
			return nil, fmt.Errorf("docker sandbox: inspecting image %s: %w", cfg.Image, err)
		}
		if perr := pull(ctx, pool, cfg); perr != nil {
			return nil, fmt.Errorf("docker sandbox: image %s is not on this machine and could not be pulled (%v): build a local Python image with `make sandbox-image` and use it with --image %s", cfg.Image, perr, LocalImage)
		}
	}
	return &dockerSandbox{cfg: cfg, pool: pool}, nil
}

// pull fetches the image, if the configuration allows it.
func pull(ctx context.Context, pool *dockertest.Pool, cfg DockerConfig) error {
	if !cfg.Pull {
		return errors.New("pulling is off")
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.PullTimeout)
	defer cancel()
	repo, tag := cfg.Image, "latest"
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo, tag = repo[:i], repo[i+1:]
	}
	return pool.Client.PullImage(dc.PullImageOptions{Repository: repo, Tag: tag, Context: ctx}, dc.AuthConfiguration{})
}

// checkStatic makes sure the unit runner can run in any image: a Linux
// executable with no dynamic loader.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("docker sandbox: the unit runner %s is not a Linux executable (%w): build netgrade for Linux with CGO_ENABLED=0", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("docker sandbox: %s is dynamically linked and may not run in the image: build netgrade with CGO_ENABLED=0 (`make build` does) and use that binary (--unit-binary PATH)", path)
		}
	}
	return nil
}

func (d *dockerSandbox) Name() string   { return Docker }
func (d *dockerSandbox) Isolated() bool { return true }

// Close removes every container of this run that is still there.
func (d *dockerSandbox) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return RemoveContainers(ctx, d.pool.Client, map[string][]string{"label": {LabelRun + "=" + d.cfg.RunID}})
}

// RemoveContainers force-removes the containers matching the filters.
func RemoveContainers(ctx context.Context, c *dc.Client, filters map[string][]string) error {
	list, err := c.ListContainers(dc.ListContainersOptions{All: true, Filters: filters, Context: ctx})
	if err != nil {
		return fmt.Errorf("listing containers: %w", err)
	}
	var errs []error
	for _, ct := range list {
		if err := removeContainer(ctx, c, ct.ID); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeContainer force-removes a container; one already gone is fine.
func removeContainer(ctx context.Context, c *dc.Client, id string) error {
	err := c.RemoveContainer(dc.RemoveContainerOptions{ID: id, Force: true, RemoveVolumes: true, Context: ctx})
	var nsc *dc.NoSuchContainer
	if err == nil || errors.As(err, &nsc) || strings.Contains(err.Error(), "is already in progress") {
		return nil
	}
	return fmt.Errorf("removing container %.12s: %w", id, err)
}

func (d *dockerSandbox) Grade(ctx context.Context, u Unit) ([]report.Result, error) {
	hostDir, err := filepath.Abs(u.Dir)
	if err != nil {
		return nil, fmt.Errorf("docker sandbox: %w", err)
	}
	u.Sandbox = Docker
	u.Dir = containerSubmission
	u.Python = ""
	req, err := json.Marshal(u)
	if err != nil {
		return nil, fmt.Errorf("encoding the unit: %w", err)
	}
	if u.Timeout() > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, u.Timeout()+killGrace)
		defer cancel()
	}
	spec := container{
		kind: "unit", name: u.Student,
		cmd:     []string{containerBinary, "unit", "--init", "--request", string(req)},
		workDir: containerSubmission,
		env:     containerEnv,
		binds:   []string{hostDir + ":" + containerSubmission + ":ro", d.cfg.Binary + ":" + containerBinary + ":ro"},
	}
	if u.Capture {
		// The unit runner captures the container's own loopback.
		spec.capAdd = []string{"NET_RAW"}
	}
	var results []report.Result
	err = d.run(ctx, spec, func(r io.Reader) (err error) {
		results, err = readStream(r, len(u.Files))
		return err
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// containerEnv is the environment of netgrade's runner in a container.
var containerEnv = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/tmp", "LANG=C.UTF-8"}

// container is what differs between the container of a unit and that of
// a pair: the rest (limits, no network, a read-only root) is the same.
type container struct {
	// kind and name label the container (LabelKind, LabelStudent).
	kind, name string
	cmd        []string
	workDir    string
	env        []string
	binds      []string
	capAdd     []string
}

// run runs netgrade's runner in a container of spec until read has read
// its output stream to the end, or ctx ends; the container is removed in
// any case, even if netgrade is killed meanwhile (it removes itself when
// the runner ends). An error of read is explained with what the runner
// printed on stderr.
func (d *dockerSandbox) run(ctx context.Context, spec container, read func(io.Reader) error) error {
	labels := map[string]string{LabelKind: spec.kind, LabelRun: d.cfg.RunID, LabelStudent: spec.name}
	maps.Copy(labels, d.cfg.Labels)
	c := d.pool.Client
	const period = 100000
	ct, err := c.CreateContainer(dc.CreateContainerOptions{
		Context: ctx,
		Config: &dc.Config{
			Image:        d.cfg.Image,
			Cmd:          spec.cmd,
			User:         fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid()),
			WorkingDir:   spec.workDir,
			Env:          spec.env,
			Labels:       labels,
			AttachStdout: true,
			AttachStderr: true,
			StopTimeout:  1,
		},
		HostConfig: &dc.HostConfig{
			NetworkMode:    "none",
			Binds:          spec.binds,
			Memory:         d.cfg.Memory,
			MemorySwap:     d.cfg.Memory,
			PidsLimit:      d.cfg.PIDs,
			CPUPeriod:      period,
			CPUQuota:       int64(d.cfg.CPUs * period),
			CapDrop:        []string{"ALL"},
			CapAdd:         spec.capAdd,
			SecurityOpt:    []string{"no-new-privileges"},
			ReadonlyRootfs: true,
			Tmpfs:          map[string]string{"/tmp": "rw,nosuid,nodev,size=64m"},
			AutoRemove:     true,
		},
	})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("docker sandbox: creating the container: %w", err)
	}
	// Whatever happens, the container goes.
	defer func() {
		rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = removeContainer(rctx, c, ct.ID)
	}()

	pr, pw := io.Pipe()
	stderr := &tailBuffer{max: 8 << 10}
	attached := make(chan struct{})
	cw, err := c.AttachToContainerNonBlocking(dc.AttachToContainerOptions{
		Container: ct.ID, OutputStream: pw, ErrorStream: stderr,
		Stream: true, Stdout: true, Stderr: true, Success: attached,
	})
	if err != nil {
		return fmt.Errorf("docker sandbox: attaching to the container: %w", err)
	}
	defer cw.Close()
	select {
	case <-attached:
		attached <- struct{}{}
	case <-ctx.Done():
		return ctx.Err()
	}
	go func() {
		pw.CloseWithError(cw.Wait())
	}()
	if err := c.StartContainerWithContext(ct.ID, nil, ctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("docker sandbox: starting the container: %w", err)
	}
	done := make(chan error, 1)
	go func() {
		err := read(pr)
		_, _ = io.Copy(io.Discard, pr)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			return unitError(err, nil, stderr.String())
		}
		return nil
	case <-ctx.Done():
		// The deferred removal kills the container; the stream then ends.
		pr.CloseWithError(ctx.Err())
		return ctx.Err()
	}
}
