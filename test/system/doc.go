// Package systemtest proves the whole platform, run as make dev runs it,
// keeps its promises: exact totals, nothing lost or applied twice under
// faults, and tenants that cannot see each other. Its tests start their
// own PostgreSQL, Redis and Kafka broker so that they can break them.
//
// The platform's binaries run on the wall clock, so the instants the suite
// sends (heartbeats, session starts, token lifetimes) are read from it too,
// through clock.Real.
package systemtest
