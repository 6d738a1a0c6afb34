package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Plan is the commercial plan of an organization.
// +kubebuilder:validation:Enum=free;pro;enterprise
type Plan string

// The plans.
const (
	PlanFree       Plan = "free"
	PlanPro        Plan = "pro"
	PlanEnterprise Plan = "enterprise"
)

// StorageIsolation says where a tenant's activity rows live.
// +kubebuilder:validation:Enum=Shared;Dedicated
type StorageIsolation string

// The storage isolation modes.
const (
	// StorageShared keeps the rows in the shared (DEFAULT) partition tree,
	// whose months and retention the operator's configuration sets.
	StorageShared StorageIsolation = "Shared"
	// StorageDedicated gives the tenant its own list partition of
	// tracking.activity_logs, sub-partitioned by month.
	StorageDedicated StorageIsolation = "Dedicated"
)

// DeletionPolicy says what happens to a tenant's data when its
// WorkPulseTenant is deleted.
// +kubebuilder:validation:Enum=Delete;Retain
type DeletionPolicy string

// The deletion policies.
const (
	DeletionDelete DeletionPolicy = "Delete"
	DeletionRetain DeletionPolicy = "Retain"
)

// LabelInstallation names the WorkPulse installation whose operator
// reconciles a tenant, when several installations share one cluster and
// watch the same namespaces. A tenant created without it is claimed by the
// first operator to label it.
const LabelInstallation = "workpulse.io/installation"

// AnnotationDataInstallation names the installation whose database holds
// the tenant's organization. Its operator writes it before provisioning
// anything. Relabelling the tenant for another installation does not move
// that data, so the move is held: the data's operator keeps reconciling
// the tenant and reports ConditionInstallationChangeHeld, and the other
// operator leaves it alone, until the label names the data's installation
// again or AnnotationAbandonData gives the data up.
const AnnotationDataInstallation = "workpulse.io/data-installation"

// AnnotationAbandonData, set to the installation AnnotationDataInstallation
// names, hands a relabelled tenant to its new installation without its
// data: the old installation's operator removes the tenant's CronJobs,
// deactivates its organization (whose rows stay in its database), clears
// the status and lets go; the new one provisions an empty organization.
const AnnotationAbandonData = "workpulse.io/abandon-data-of"

// WorkPulseTenantSpec is the desired state of one customer organization.
//
// +kubebuilder:validation:XValidation:rule="has(self.adoptOrganizationID) == has(oldSelf.adoptOrganizationID) && (!has(self.adoptOrganizationID) || self.adoptOrganizationID == oldSelf.adoptOrganizationID)",message="adoptOrganizationID can only be set when the tenant is created and never changed or removed afterwards"
// +kubebuilder:validation:XValidation:rule="has(self.adoptOrganizationID) || has(self.admin)",message="admin is required unless adoptOrganizationID names an existing organization"
// +kubebuilder:validation:XValidation:rule="!(has(self.adoptOrganizationID) && has(self.admin))",message="admin cannot be set with adoptOrganizationID: an adopted organization keeps its administrators"
// +kubebuilder:validation:XValidation:rule="has(self.adoptOrganizationID) == has(self.adoptionTokenSecretRef)",message="adoptOrganizationID and adoptionTokenSecretRef go together: adopting takes a Secret holding an adoption token an admin of the organization issued (POST /api/organization/adoption-tokens)"
// +kubebuilder:validation:XValidation:rule="self.retentionMonths >= self.premakeMonths",message="retentionMonths must be at least premakeMonths"
type WorkPulseTenantSpec struct {
	// DisplayName is the organization's name as its members see it.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=200
	DisplayName string `json:"displayName"`

	// Plan is the organization's plan: free, pro or enterprise.
	// +kubebuilder:default=free
	// +optional
	Plan Plan `json:"plan,omitempty"`

	// TimeZone is the IANA time zone (for example Europe/Paris) that
	// decides where the organization's days begin and end: daily summaries,
	// overtime and the daily-summary CronJob's schedule all use it.
	// +kubebuilder:default=UTC
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$`
	// +kubebuilder:validation:XValidation:rule="self != 'Local'",message="timeZone must name an IANA zone such as UTC or Europe/Paris, not Local"
	// +optional
	TimeZone string `json:"timeZone,omitempty"`

	// Storage is Shared (rows in the shared partition tree, the default) or
	// Dedicated (the organization's own partition, sub-partitioned by
	// month, which it can be dropped with). Changing it moves the existing
	// rows; ingest pauses only for the moment of the move.
	// +kubebuilder:default=Shared
	// +optional
	Storage StorageIsolation `json:"storage,omitempty"`

	// RetentionMonths is how many whole months of activity a Dedicated
	// tenant keeps, the current month included; older month partitions are
	// detached and dropped. Shared tenants follow the operator's shared
	// retention instead.
	// +kubebuilder:default=12
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=120
	// +optional
	RetentionMonths int32 `json:"retentionMonths,omitempty"`

	// PremakeMonths is how many months after the current one a Dedicated
	// tenant's partitions are created ahead of time, so that inserts never
	// find a missing month. Shared tenants follow the operator's setting.
	// +kubebuilder:default=3
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=24
	// +optional
	PremakeMonths int32 `json:"premakeMonths,omitempty"`

	// Thresholds tune the organization's alerts.
	// +kubebuilder:default={}
	// +optional
	Thresholds Thresholds `json:"thresholds,omitempty"`

	// DailySummary schedules the organization's daily-summary job.
	// +kubebuilder:default={}
	// +optional
	DailySummary DailySummary `json:"dailySummary,omitempty"`

	// Suspend stops the organization: its activity is refused with the
	// TENANT_SUSPENDED code and its CronJobs are suspended. Data is kept.
	// +kubebuilder:default=false
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// Admin is the organization's first administrator, created with the
	// organization. The generated initial password is put in the Secret
	// named by status.adminCredentialsSecret. Set once.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="admin is only used to create the first administrator and cannot be changed; manage users in WorkPulse"
	// +optional
	Admin *BootstrapAdmin `json:"admin,omitempty"`

	// AdoptOrganizationID takes over an organization that already exists in
	// WorkPulse (for example one created before the operator, or retained
	// from a deleted tenant) instead of creating a new one. It can only be
	// set when the tenant is created.
	// +kubebuilder:validation:Format=uuid
	// +kubebuilder:validation:MaxLength=36
	// +optional
	AdoptOrganizationID string `json:"adoptOrganizationID,omitempty"`

	// AdoptionTokenSecretRef names the Secret, in the tenant's namespace,
	// holding the adoption token an admin of the organization issued
	// (POST /api/organization/adoption-tokens). The operator presents it
	// once; it is single-use and expires, so the Secret may be deleted
	// after the organization is adopted. Required with
	// adoptOrganizationID: naming an organization proves nothing.
	// +optional
	AdoptionTokenSecretRef *SecretKeyReference `json:"adoptionTokenSecretRef,omitempty"`

	// DeletionPolicy says what deleting this resource does to the
	// organization's data: Retain (the default) deactivates the
	// organization and keeps its data; Delete also drops its activity
	// (the Dedicated partition, or the Shared rows in batches).
	// +kubebuilder:default=Retain
	// +optional
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`
}

// Thresholds tune when alerts fire for the organization.
type Thresholds struct {
	// InactiveSeconds raises an inactive alert after this long without
	// any activity in an active session.
	// +kubebuilder:default=600
	// +kubebuilder:validation:Minimum=60
	// +kubebuilder:validation:Maximum=86400
	// +optional
	InactiveSeconds int32 `json:"inactiveSeconds,omitempty"`

	// IdleSeconds raises an idle alert after this long of idle-only
	// activity.
	// +kubebuilder:default=300
	// +kubebuilder:validation:Minimum=60
	// +kubebuilder:validation:Maximum=86400
	// +optional
	IdleSeconds int32 `json:"idleSeconds,omitempty"`

	// OvertimeHours raises an overtime alert once a member has tracked more
	// than this many hours in the organization's local day.
	// +kubebuilder:default=9
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=24
	// +optional
	OvertimeHours int32 `json:"overtimeHours,omitempty"`
}

// DailySummary schedules the daily-summary job.
type DailySummary struct {
	// Schedule is a five-field cron expression (or @daily, @midnight...)
	// read in the tenant's timeZone; the default runs at local midnight.
	// The job catches up on every day not yet summarized, so a late or
	// missed run loses nothing.
	// +kubebuilder:default="0 0 * * *"
	// +kubebuilder:validation:MaxLength=100
	// +kubebuilder:validation:Pattern=`^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|(\S+\s+){4}\S+)$`
	// +optional
	Schedule string `json:"schedule,omitempty"`
}

// BootstrapAdmin is the first administrator of a new organization.
type BootstrapAdmin struct {
	// Email is the administrator's login.
	// +kubebuilder:validation:Format=email
	// +kubebuilder:validation:MaxLength=254
	Email string `json:"email"`

	// Name is the administrator's display name.
	// +kubebuilder:validation:MinLength=2
	// +kubebuilder:validation:MaxLength=200
	Name string `json:"name"`
}

// SecretReference names a Secret in the tenant's namespace.
type SecretReference struct {
	// Name of the Secret.
	Name string `json:"name"`
}

// SecretKeyReference names a key of a Secret in the tenant's namespace.
type SecretKeyReference struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// Key of the Secret holding the value.
	// +kubebuilder:default=token
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +optional
	Key string `json:"key,omitempty"`
}

// PartitionStatus describes the month partitions holding the tenant's
// activity.
type PartitionStatus struct {
	// Table is the partition tree holding the tenant's rows, for example
	// tracking.activity_logs_t_<organization> or tracking.activity_logs_shared.
	// +optional
	Table string `json:"table,omitempty"`
	// Months is how many month partitions exist.
	// +optional
	Months int32 `json:"months,omitempty"`
	// OldestMonth is the first month that exists (YYYY-MM).
	// +optional
	OldestMonth string `json:"oldestMonth,omitempty"`
	// NewestMonth is the last month that exists (YYYY-MM).
	// +optional
	NewestMonth string `json:"newestMonth,omitempty"`
	// MonthsAhead is how many months after the current one exist.
	// +optional
	MonthsAhead int32 `json:"monthsAhead,omitempty"`
}

// Condition types of a WorkPulseTenant.
const (
	// ConditionReady is True when the three conditions after it are True.
	ConditionReady = "Ready"
	// ConditionOrganizationProvisioned is True when the organization
	// exists in WorkPulse with the spec's settings.
	ConditionOrganizationProvisioned = "OrganizationProvisioned"
	// ConditionPartitionsReady is True when the tenant's month partitions
	// cover the months ahead and retention has been applied.
	ConditionPartitionsReady = "PartitionsReady"
	// ConditionJobsScheduled is True when the tenant's CronJobs exist as
	// specified.
	ConditionJobsScheduled = "JobsScheduled"

	// ConditionInstallationChangeHeld is True while the tenant's label names
	// another installation than the one holding its data (see
	// AnnotationDataInstallation). It is not part of Ready: the tenant keeps
	// working where its data is.
	ConditionInstallationChangeHeld = "InstallationChangeHeld"
)

// WorkPulseTenantStatus is what the operator observed and did.
type WorkPulseTenantStatus struct {
	// OrganizationID is the organization's ID in WorkPulse.
	// +optional
	OrganizationID string `json:"organizationID,omitempty"`

	// ObservedGeneration is the metadata.generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, OrganizationProvisioned, PartitionsReady and
	// JobsScheduled, each with a reason and a message saying what to do
	// when it is not True.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Partitions are the month partitions holding the tenant's activity.
	// +optional
	Partitions *PartitionStatus `json:"partitions,omitempty"`

	// Storage is the isolation the tenant's rows are currently stored in;
	// it differs from spec.storage while a move is pending.
	// +optional
	Storage StorageIsolation `json:"storage,omitempty"`

	// AdminCredentialsSecret holds the bootstrap admin's email and
	// initial password (keys email and password). Change the password
	// after the first login; the Secret is not updated afterwards.
	// +optional
	AdminCredentialsSecret *SecretReference `json:"adminCredentialsSecret,omitempty"`
}

// WorkPulseTenant is one customer organization of a WorkPulse installation:
// its account, storage and scheduled jobs.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=wpt,categories=workpulse
// +kubebuilder:printcolumn:name="Organization",type=string,JSONPath=`.status.organizationID`
// +kubebuilder:printcolumn:name="Plan",type=string,JSONPath=`.spec.plan`
// +kubebuilder:printcolumn:name="Storage",type=string,JSONPath=`.spec.storage`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Months",type=integer,JSONPath=`.status.partitions.months`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Oldest",type=string,JSONPath=`.status.partitions.oldestMonth`,priority=1
// +kubebuilder:printcolumn:name="Newest",type=string,JSONPath=`.status.partitions.newestMonth`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type WorkPulseTenant struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec WorkPulseTenantSpec `json:"spec"`
	// +optional
	Status WorkPulseTenantStatus `json:"status,omitempty"`
}

// WorkPulseTenantList is a list of WorkPulseTenant.
//
// +kubebuilder:object:root=true
type WorkPulseTenantList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []WorkPulseTenant `json:"items"`
}
