package controller

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
)

// stepError is a reconcile step's failure, carried to the step's
// condition. Permanent failures come from the spec or from data the
// operator will not touch: retrying the same spec cannot fix them, so they
// are not retried with backoff but wait for a change (or the resync).
type stepError struct {
	Reason    string
	Message   string
	Permanent bool
	Err       error
}

func (e *stepError) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *stepError) Unwrap() error { return e.Err }

func permanent(reason, format string, a ...any) *stepError {
	return &stepError{Reason: reason, Message: fmt.Sprintf(format, a...), Permanent: true}
}

func transient(reason string, err error, format string, a ...any) *stepError {
	return &stepError{Reason: reason, Message: fmt.Sprintf(format, a...), Err: err}
}

func setCondition(t *v1alpha1.WorkPulseTenant, typ string, status metav1.ConditionStatus, reason, msg string) {
	meta.SetStatusCondition(&t.Status.Conditions, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: msg, ObservedGeneration: t.Generation,
	})
}

// failCondition records err on the condition of typ.
func failCondition(t *v1alpha1.WorkPulseTenant, typ string, err error) {
	var se *stepError
	if !errors.As(err, &se) {
		se = transient("Error", err, "unexpected error")
	}
	msg := se.Message
	if se.Err != nil {
		msg += ": " + se.Err.Error()
	}
	if !se.Permanent {
		msg += " (retrying)"
	}
	setCondition(t, typ, metav1.ConditionFalse, se.Reason, msg)
}

// concerns are the conditions Ready summarizes, in reconcile order.
var concerns = []string{
	v1alpha1.ConditionOrganizationProvisioned,
	v1alpha1.ConditionPartitionsReady,
	v1alpha1.ConditionJobsScheduled,
}

// summarize sets Ready from the other conditions: True only when all are
// True for the current generation, otherwise naming the first that is not.
func summarize(t *v1alpha1.WorkPulseTenant) {
	var notReady []string
	first := (*metav1.Condition)(nil)
	for _, typ := range concerns {
		c := meta.FindStatusCondition(t.Status.Conditions, typ)
		if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != t.Generation {
			notReady = append(notReady, typ)
			if first == nil && c != nil {
				first = c
			}
		}
	}
	switch {
	case len(notReady) == 0 && t.Spec.Suspend:
		setCondition(t, v1alpha1.ConditionReady, metav1.ConditionTrue, "Suspended",
			"the organization is suspended: its activity is refused and its jobs do not run; set spec.suspend to false to resume")
	case len(notReady) == 0:
		setCondition(t, v1alpha1.ConditionReady, metav1.ConditionTrue, "Reconciled",
			"the organization, its partitions and its jobs are as specified")
	case first != nil:
		setCondition(t, v1alpha1.ConditionReady, metav1.ConditionFalse, first.Reason,
			fmt.Sprintf("%s: %s", strings.Join(notReady, ", "), first.Message))
	default:
		setCondition(t, v1alpha1.ConditionReady, metav1.ConditionFalse, "Reconciling",
			"waiting for "+strings.Join(notReady, ", "))
	}
	t.Status.ObservedGeneration = t.Generation
}
