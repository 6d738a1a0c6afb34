package policy

import v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"

// StorageStep is what a tenant's storage needs next.
type StorageStep int

const (
	// StorageInPlace: the rows are where the spec wants them.
	StorageInPlace StorageStep = iota
	// MoveToDedicated: copy the rows out of the shared tree into the
	// tenant's own table and attach it.
	MoveToDedicated
	// DropUnfinishedCopy: a move to Dedicated was interrupted before the
	// attach; the rows are still in the shared tree, the copy goes.
	DropUnfinishedCopy
	// MoveToShared: detach the tenant's table and copy its rows into the
	// shared tree.
	MoveToShared
)

func (s StorageStep) String() string {
	return [...]string{"in place", "move to Dedicated", "drop the unfinished copy", "move to Shared"}[s]
}

// NextStorageStep decides from the spec and the tenant's own table
// (whether it exists, whether it is attached to tracking.activity_logs)
// whether a storage move may start, and which.
func NextStorageStep(want v1alpha1.StorageIsolation, exists, attached bool) StorageStep {
	switch {
	case want == v1alpha1.StorageDedicated && attached, want == v1alpha1.StorageShared && !exists:
		return StorageInPlace
	case want == v1alpha1.StorageDedicated:
		return MoveToDedicated
	case !attached:
		return DropUnfinishedCopy
	default:
		return MoveToShared
	}
}
