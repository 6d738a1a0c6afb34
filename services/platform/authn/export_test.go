package authn

// Len is how many rows the list holds in memory, for the tests of its
// pruning.
func (l *Revocations) Len() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.entries)
}
