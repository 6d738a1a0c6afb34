// Package v1alpha1 holds the workpulse.io/v1alpha1 API: the
// WorkPulseTenant resource the operator reconciles.
//
// The CRD manifest is generated from these types by controller-gen (see
// operator/config/crd); edit the types and their markers, never the YAML.
//
// +kubebuilder:object:generate=true
// +groupName=workpulse.io
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is the API group and version of these types.
var GroupVersion = schema.GroupVersion{Group: "workpulse.io", Version: "v1alpha1"}

var (
	schemeBuilder = runtime.NewSchemeBuilder(func(s *runtime.Scheme) error {
		s.AddKnownTypes(GroupVersion, &WorkPulseTenant{}, &WorkPulseTenantList{})
		metav1.AddToGroupVersion(s, GroupVersion)
		return nil
	})
	// AddToScheme registers the types with a scheme.
	AddToScheme = schemeBuilder.AddToScheme
)
