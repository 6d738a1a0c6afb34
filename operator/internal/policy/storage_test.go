package policy_test

import (
	"testing"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/operator/internal/policy"
)

func TestAStorageMoveStartsOnlyWhenTheRowsAreNotWhereTheSpecWantsThem(t *testing.T) {
	cases := []struct {
		name             string
		want             v1alpha1.StorageIsolation
		exists, attached bool
		step             policy.StorageStep
	}{
		{"A Shared tenant without a table of its own stays.", v1alpha1.StorageShared, false, false, policy.StorageInPlace},
		{"A Dedicated tenant with its table attached stays.", v1alpha1.StorageDedicated, true, true, policy.StorageInPlace},
		{"A tenant turned Dedicated moves into a new table.", v1alpha1.StorageDedicated, false, false, policy.MoveToDedicated},
		{"A tenant turned Dedicated with a copy left by an interrupted move resumes the move.", v1alpha1.StorageDedicated, true, false, policy.MoveToDedicated},
		{"A Shared tenant's copy left by an interrupted move is dropped, its rows being still shared.", v1alpha1.StorageShared, true, false, policy.DropUnfinishedCopy},
		{"A tenant turned Shared moves its attached table's rows back.", v1alpha1.StorageShared, true, true, policy.MoveToShared},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := policy.NextStorageStep(tc.want, tc.exists, tc.attached); got != tc.step {
				t.Errorf("NextStorageStep(%s, exists %t, attached %t) = %s, want %s", tc.want, tc.exists, tc.attached, got, tc.step)
			}
		})
	}
}
