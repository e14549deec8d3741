package sandbox

// PoolStarts returns how many pair runners that serve many pairs the
// netns sandbox sb started, and why its pool is off ("" when it is not),
// for the tests of the pool.
func PoolStarts(sb Sandbox) (starts int, off string) {
	n := sb.(*netnsSandbox)
	n.pool.mu.Lock()
	defer n.pool.mu.Unlock()
	return n.pool.starts, n.pool.noPool
}
