package kafkax

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/pg"
)

// Handler applies one event. It must be idempotent by envelope ID. An
// event it answers events.ErrMalformed for goes to the dead-letter topic at
// once; other errors are retried, MaxAttempts times before the event is
// dead-lettered, except that a dependency being unavailable (see
// Unavailable) is retried until it is back.
type Handler func(ctx context.Context, e events.Envelope) error

// Prefilter tells, for events that arrived together, which ones the
// handler needs to see (need[i] for es[i]); the others have no effect and
// are committed without it. It exists to answer for a whole batch in one
// query what the handler would find out one event at a time. On an error
// every event goes to the handler.
type Prefilter func(ctx context.Context, es []events.Envelope) (need []bool, err error)

// Skip tells, from an event's type and organization as events.Peek reads
// them off the raw envelope, that the event has no effect on this
// consumer: it is committed without being decoded or handled. It exists
// for a consumer that most events are not for (realtime, for the
// organizations nobody watches) and that would spend more on decoding
// them than on anything else. An event Peek cannot read is decoded.
type Skip func(eventType, organizationID string) bool

// maxBatch bounds the events applied and committed together.
const maxBatch = 256

// DefaultMaxAttempts is ConsumerConfig.MaxAttempts when it is not set.
const DefaultMaxAttempts = 5

// ConsumerConfig configures a consumer.
type ConsumerConfig struct {
	Brokers []string
	// GroupID shares the topics' partitions among the group's members.
	GroupID string
	Topics  []string
	// TopicPrefix comes before every topic and the group's name on the
	// brokers (KAFKA_TOPIC_PREFIX), so that installations sharing one
	// Kafka cluster each read their own events only. GroupID and Topics
	// are the names without it, as the metrics and the services' records
	// of applied events know them.
	TopicPrefix string
	// StartOffset applies when the group has no committed offset:
	// kafka.FirstOffset (default) or kafka.LastOffset.
	StartOffset int64
	// CommitInterval, when set, commits offsets in the background at
	// that interval instead of once per event. Only for consumers whose
	// effect is not durable (realtime's fan-out): a crash may then replay
	// up to an interval of events, and per-event commits would only add
	// latency.
	CommitInterval time.Duration
	// BatchWait, when set, lets the broker hold a fetch until that long
	// has passed (or a megabyte is waiting), so that a busy topic arrives
	// in batches of up to maxBatch events, each applied (and Prefiltered)
	// and committed together, instead of a fetch, a prefilter and a
	// commit for every few events. For consumers that can wait that long;
	// zero answers a fetch as soon as anything is there.
	BatchWait time.Duration
	// Security of the connections (zero: plaintext).
	Security Security
	// Prefilter, when set, spares the handler events that need nothing.
	Prefilter Prefilter
	// Skip, when set, spares the decoding of events that need nothing; a
	// malformed event it skips is not dead-lettered.
	Skip Skip
	// MaxAttempts is how many failed attempts of the handler an event
	// gets before it goes to its topic's dead-letter topic and the
	// partition moves on (0: DefaultMaxAttempts).
	MaxAttempts int
	// Ephemeral marks a group of this process alone (a name no other
	// process uses) that reads only what is published while it runs.
	// Run first commits the topics' end offsets as the group's, so that
	// every event published after that is read however long the join
	// takes (a broker holds a new group's first join for 3 s by default),
	// and deletes the group when it ends, instead of leaving one group per
	// process start on the brokers until offsets retention (7 days by
	// default) removes it. StartOffset is then kafka.LastOffset.
	Ephemeral bool
}

// For is c for the consumer group group of topics: a service's consumers
// share its brokers, security, prefix and attempts (c) and differ in those.
func (c ConsumerConfig) For(group string, topics ...string) ConsumerConfig {
	c.GroupID, c.Topics = group, topics
	return c
}

// ConsumerMetrics are shared by every consumer of a service.
type ConsumerMetrics struct {
	// clock measures an event's age against the time its producer stamped.
	clock     clock.Clock
	processed *prometheus.CounterVec
	failures  *prometheus.CounterVec
	dead      *prometheus.CounterVec
	lag       *prometheus.GaugeVec
	latency   *prometheus.HistogramVec
}

// NewConsumerMetrics registers consumer metrics on reg.
func NewConsumerMetrics(reg prometheus.Registerer, service string, clk clock.Clock) *ConsumerMetrics {
	l := prometheus.Labels{"service": service}
	m := &ConsumerMetrics{
		clock: clk,
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "workpulse_kafka_events_processed_total",
			Help: "Events consumed, by group, type and outcome (applied, skipped, dead_lettered).", ConstLabels: l}, []string{"group", "type", "outcome"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "workpulse_kafka_handler_failures_total",
			Help: "Failed attempts to apply an event (retried).", ConstLabels: l}, []string{"group"}),
		dead: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "workpulse_kafka_dead_lettered_total",
			Help: "Events moved to a dead-letter topic, by group, topic and reason (malformed, failed).", ConstLabels: l},
			[]string{"group", "topic", "reason"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "workpulse_kafka_consumer_lag",
			Help: "Messages beyond the group's committed offsets, measured every few seconds.", ConstLabels: l}, []string{"group"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "workpulse_kafka_event_age_seconds",
			Help: "Time from an event's creation to its processing.", ConstLabels: l,
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 5, 30, 120}}, []string{"group"}),
	}
	reg.MustRegister(m.processed, m.failures, m.dead, m.lag, m.latency)
	return m
}

// Consumer reads events and applies them with at-least-once delivery:
// FetchMessage, apply, then CommitMessages. Events already fetched when
// one is applied are applied after it and committed with it, in one
// request: under load a batch costs one commit instead of one per event.
type Consumer struct {
	cfg     ConsumerConfig
	handler Handler
	metrics *ConsumerMetrics
	log     *slog.Logger
	// dlq writes dead letters; the event's own offset is committed only
	// after its dead letter is written.
	dlq *kafka.Writer
	// positioned is set once an Ephemeral group's starting offsets are
	// committed; ready once Ready has seen the group hold its partitions.
	positioned, ready atomic.Bool
}

// NewConsumer builds a consumer; metrics may be nil.
func NewConsumer(cfg ConsumerConfig, h Handler, m *ConsumerMetrics, log *slog.Logger) *Consumer {
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Ephemeral {
		cfg.StartOffset = kafka.LastOffset
	}
	if m != nil {
		// Every series exists from the start at 0, so that the alert's
		// increase() sees the first dead letter too.
		for _, topic := range cfg.Topics {
			for _, reason := range []string{reasonMalformed, reasonFailed} {
				m.dead.WithLabelValues(cfg.GroupID, topic, reason)
			}
		}
	}
	return &Consumer{cfg: cfg, handler: h, metrics: m, log: log}
}

// Run consumes until ctx is done. An event is committed only after its
// handler succeeded or it was written to the dead-letter topic, so a crash
// redelivers it and the handler's idempotency makes the redelivery
// harmless.
func (c *Consumer) Run(ctx context.Context) error {
	c.dlq = NewSecureWriter(c.cfg.Brokers, c.cfg.Security)
	defer c.dlq.Close()
	if c.cfg.Ephemeral {
		if !c.position(ctx) {
			return nil
		}
		// Deferred after the readers' Close, which leaves the group: a
		// group with a member cannot be deleted.
		defer c.deleteGroup(ctx)
	}
	for ctx.Err() == nil {
		if err := c.consume(ctx); err != nil {
			c.log.Warn("kafka reader replaced", "group", c.cfg.GroupID, "err", err)
			sleep(ctx, time.Second)
		}
	}
	return nil
}

// Ready reports whether every event published from now on reaches the
// handler: the group's coordinator has given it its partitions, and an
// Ephemeral group's starting offsets are committed. Until then a live
// consumer would miss what is published. Once true it stays true: after a
// rebalance or an outage the events wait in Kafka from the committed
// offsets, late but not lost, so readiness is not the brokers' health.
func (c *Consumer) Ready(ctx context.Context) error {
	if c.ready.Load() {
		return nil
	}
	if c.cfg.Ephemeral && !c.positioned.Load() {
		return errors.New("kafka: the group's starting offsets are not committed yet")
	}
	group := c.cfg.TopicPrefix + c.cfg.GroupID
	cl, done := newClient(c.cfg.Brokers, c.cfg.Security)
	defer done()
	resp, err := cl.DescribeGroups(ctx, &kafka.DescribeGroupsRequest{GroupIDs: []string{group}})
	if err != nil {
		return fmt.Errorf("kafka: describe group %s: %w", group, err)
	}
	for _, g := range resp.Groups {
		if g.Error != nil || g.GroupState != "Stable" {
			continue
		}
		for _, m := range g.Members {
			if len(m.MemberAssignments.Topics) > 0 {
				c.ready.Store(true)
				return nil
			}
		}
	}
	return fmt.Errorf("kafka: group %s holds no partitions yet", group)
}

// position commits the topics' end offsets as the Ephemeral group's
// starting offsets, retrying until it succeeds; false means ctx ended
// first.
func (c *Consumer) position(ctx context.Context) bool {
	for {
		err := c.commitEnds(ctx)
		if err == nil {
			c.positioned.Store(true)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		c.log.Warn("committing the group's starting offsets failed; retrying", "group", c.cfg.GroupID, "err", err)
		if !sleep(ctx, time.Second) {
			return false
		}
	}
}

func (c *Consumer) commitEnds(ctx context.Context) error {
	cl, done := newClient(c.cfg.Brokers, c.cfg.Security)
	defer done()
	ends, err := endOffsets(ctx, cl, Prefixed(c.cfg.TopicPrefix, c.cfg.Topics...))
	if err != nil {
		return err
	}
	commits := map[string][]kafka.OffsetCommit{}
	for topic, parts := range ends {
		for _, p := range parts {
			commits[topic] = append(commits[topic], kafka.OffsetCommit{Partition: p.Partition, Offset: p.LastOffset})
		}
	}
	group := c.cfg.TopicPrefix + c.cfg.GroupID
	// Generation -1 without a member is a commit from outside the group,
	// which a broker accepts while the group has no members.
	resp, err := cl.OffsetCommit(ctx, &kafka.OffsetCommitRequest{GroupID: group, GenerationID: -1, Topics: commits})
	if err != nil {
		return fmt.Errorf("kafka: commit starting offsets of %s: %w", group, err)
	}
	for topic, parts := range resp.Topics {
		for _, p := range parts {
			if p.Error != nil {
				return fmt.Errorf("kafka: commit starting offset of %s partition %d for %s: %w", topic, p.Partition, group, p.Error)
			}
		}
	}
	return nil
}

// deleteGroup deletes the Ephemeral group as the process ends. A process
// that dies without it leaves its group to the brokers' offsets retention.
func (c *Consumer) deleteGroup(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	group := c.cfg.TopicPrefix + c.cfg.GroupID
	cl, done := newClient(c.cfg.Brokers, c.cfg.Security)
	defer done()
	resp, err := cl.DeleteGroups(ctx, &kafka.DeleteGroupsRequest{GroupIDs: []string{group}})
	if err == nil {
		err = resp.Errors[group]
	}
	if err != nil {
		c.log.Warn("the group was not deleted; offsets retention will remove it", "group", c.cfg.GroupID, "err", err)
	}
}

// commitTimeout bounds a commit: kafka-go can stay unable to commit after
// its group generation ended under it (a broker outage, a long handler
// retry), blocking forever; a fresh reader rejoins the group instead.
const commitTimeout = 10 * time.Second

// stallCheck is how long a reader may deliver nothing before the
// consumer measures the group's lag: kafka-go readers can stop fetching
// after a rebalance or an outage while the group falls behind.
const stallCheck = 10 * time.Second

// consume reads with one reader until ctx ends (nil) or the reader must be
// replaced (an error).
func (c *Consumer) consume(ctx context.Context) error {
	r := c.newReader()
	defer r.Close()
	if c.metrics != nil {
		// Measured beside the loop: three broker round trips in it would
		// delay the events behind them.
		mctx, stop := context.WithCancel(ctx)
		defer stop()
		go c.measureLag(mctx)
	}
	fetched := make(chan kafka.Message, maxBatch)
	fctx, stopFetching := context.WithCancel(ctx)
	fetching := make(chan struct{})
	go func() { defer close(fetching); c.fetch(fctx, r, fetched) }()
	defer func() { stopFetching(); <-fetching }()
	stall := time.NewTimer(stallCheck)
	defer stall.Stop()
	for {
		var batch []kafka.Message
		select {
		case <-ctx.Done():
			return nil
		case <-stall.C:
			if lag, lerr := c.lag(ctx); lerr == nil && lag > 0 {
				return fmt.Errorf("reader delivered nothing for %s while the group is %d messages behind", stallCheck, lag)
			}
			stall.Reset(stallCheck)
			continue
		case msg := <-fetched:
			batch = append(batch, msg)
		}
	more:
		for len(batch) < maxBatch {
			select {
			case msg := <-fetched:
				batch = append(batch, msg)
			default:
				break more
			}
		}
		if !c.applyBatch(ctx, batch) {
			return nil
		}
		cctx, cancel := context.WithTimeout(ctx, commitTimeout)
		err := r.CommitMessages(cctx, batch...)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// The events will be redelivered; the handler's idempotency absorbs it.
			return fmt.Errorf("commit: %w", err)
		}
		stall.Reset(stallCheck)
	}
}

// fetch feeds out until ctx ends, so that the events waiting behind the
// one being applied are at hand to be applied and committed with it.
func (c *Consumer) fetch(ctx context.Context, r *kafka.Reader, out chan<- kafka.Message) {
	for {
		msg, err := r.FetchMessage(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			c.log.Warn("kafka fetch failed", "group", c.cfg.GroupID, "err", err)
			if !sleep(ctx, time.Second) {
				return
			}
			continue
		}
		select {
		case out <- msg:
		case <-ctx.Done():
			return
		}
	}
}

// applyBatch applies the events of batch in order; false means ctx ended
// first.
func (c *Consumer) applyBatch(ctx context.Context, batch []kafka.Message) bool {
	envs := make([]events.Envelope, 0, len(batch))
	msgs := batch[:0:0]
	for _, msg := range batch {
		if c.skips(msg.Value) {
			continue
		}
		env, err := events.Decode(msg.Value)
		if err != nil {
			if !c.deadLetter(ctx, msg, "", reasonMalformed, err) {
				return false
			}
			continue
		}
		envs, msgs = append(envs, env), append(msgs, msg)
	}
	var need []bool
	if c.cfg.Prefilter != nil && len(envs) > 0 {
		var err error
		if need, err = c.cfg.Prefilter(ctx, envs); err != nil || len(need) != len(envs) {
			c.log.Debug("prefilter failed; every event goes to the handler", "group", c.cfg.GroupID, "err", err)
			need = nil
		}
	}
	for i, env := range envs {
		if need != nil && !need[i] {
			c.applied(env)
			continue
		}
		if !c.apply(ctx, msgs[i], env) {
			return false
		}
	}
	return true
}

// skips tells whether Skip passes over the raw event v, and counts it.
func (c *Consumer) skips(v []byte) bool {
	if c.cfg.Skip == nil {
		return false
	}
	typ, org, ok := events.Peek(v)
	if !ok || !c.cfg.Skip(typ, org) {
		return false
	}
	if c.metrics != nil {
		c.metrics.processed.WithLabelValues(c.cfg.GroupID, typ, "skipped").Inc()
	}
	return true
}

func (c *Consumer) measureLag(ctx context.Context) {
	t := time.NewTicker(stallCheck)
	defer t.Stop()
	for {
		if lag, err := c.lag(ctx); err == nil {
			c.metrics.lag.WithLabelValues(c.cfg.GroupID).Set(float64(lag))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (c *Consumer) lag(ctx context.Context) (int64, error) {
	return GroupLag(ctx, c.cfg.Brokers, c.cfg.Security, c.cfg.TopicPrefix+c.cfg.GroupID, Prefixed(c.cfg.TopicPrefix, c.cfg.Topics...),
		c.cfg.StartOffset == kafka.LastOffset)
}

func (c *Consumer) newReader() *kafka.Reader {
	start := c.cfg.StartOffset
	if start == 0 {
		start = kafka.FirstOffset
	}
	// A fetch is answered as soon as an event is there; the wait only
	// bounds how often a partition without events is asked again, which
	// every consumer pays for every partition it reads, in itself and in
	// the broker, however quiet the topic.
	minBytes, maxWait := 1, time.Second
	if c.cfg.BatchWait > 0 {
		minBytes, maxWait = 1<<20, c.cfg.BatchWait
	}
	return kafka.NewReader(kafka.ReaderConfig{
		Dialer:         c.cfg.Security.dialer(),
		Brokers:        c.cfg.Brokers,
		GroupID:        c.cfg.TopicPrefix + c.cfg.GroupID,
		GroupTopics:    Prefixed(c.cfg.TopicPrefix, c.cfg.Topics...),
		StartOffset:    start,
		MinBytes:       minBytes,
		MaxBytes:       10 << 20,
		MaxWait:        maxWait,
		ReadBackoffMin: 50 * time.Millisecond,
		ReadBackoffMax: time.Second,
		// Offsets are committed explicitly, after the effect; with an
		// interval, CommitMessages only records them for the next flush.
		CommitInterval: c.cfg.CommitInterval,
		// After a broker outage or a crashed member, kafka-go rejoins as a
		// new member and the group waits for the old one's session to
		// expire: keep that wait short, so consumption resumes within
		// seconds instead of half a minute.
		SessionTimeout:    8 * time.Second,
		RebalanceTimeout:  8 * time.Second,
		HeartbeatInterval: time.Second,
		JoinGroupBackoff:  500 * time.Millisecond,
	})
}

// Reasons an event is dead-lettered, as the metric's reason label.
const (
	reasonMalformed = "malformed"
	reasonFailed    = "failed"
)

// apply runs the handler until it succeeds or the event is dead-lettered;
// false means ctx ended first.
func (c *Consumer) apply(ctx context.Context, msg kafka.Message, env events.Envelope) bool {
	backoff := 100 * time.Millisecond
	for failed := 0; ; {
		err := c.handler(ctx, env)
		if err == nil {
			c.applied(env)
			return true
		}
		if errors.Is(err, events.ErrMalformed) {
			return c.deadLetter(ctx, msg, env.Type, reasonMalformed, err)
		}
		if ctx.Err() != nil {
			return false
		}
		if c.metrics != nil {
			c.metrics.failures.WithLabelValues(c.cfg.GroupID).Inc()
		}
		// An outage fails every event alike: the event is not to blame,
		// and dead-lettering the whole stream would lose it.
		if !Unavailable(err) {
			if failed++; failed >= c.cfg.MaxAttempts {
				return c.deadLetter(ctx, msg, env.Type, reasonFailed, err)
			}
		}
		c.log.Warn("event handler failed; retrying", "group", c.cfg.GroupID, "event_id", env.ID, "type", env.Type,
			"attempt", failed, "err", err)
		if !sleep(ctx, backoff) {
			return false
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

// deadLetter writes msg to its topic's dead-letter topic, with headers
// saying where it came from and why, retrying until the write succeeds:
// the offset must not be committed before the event is kept somewhere.
// False means ctx ended first.
func (c *Consumer) deadLetter(ctx context.Context, msg kafka.Message, typ, reason string, cause error) bool {
	topic := events.DeadLetterTopic(msg.Topic)
	dl := kafka.Message{Topic: topic, Key: msg.Key, Value: msg.Value, Headers: append(slices.Clip(msg.Headers),
		kafka.Header{Key: "workpulse-dlq-topic", Value: []byte(msg.Topic)},
		kafka.Header{Key: "workpulse-dlq-partition", Value: []byte(strconv.Itoa(msg.Partition))},
		kafka.Header{Key: "workpulse-dlq-offset", Value: []byte(strconv.FormatInt(msg.Offset, 10))},
		kafka.Header{Key: "workpulse-dlq-group", Value: []byte(c.cfg.TopicPrefix + c.cfg.GroupID)},
		kafka.Header{Key: "workpulse-dlq-reason", Value: []byte(reason)},
		kafka.Header{Key: "workpulse-dlq-error", Value: []byte(cause.Error())})}
	for backoff := 100 * time.Millisecond; ; backoff = min(backoff*2, 10*time.Second) {
		err := c.dlq.WriteMessages(ctx, dl)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return false
		}
		c.log.Warn("writing a dead letter failed; retrying", "group", c.cfg.GroupID, "topic", topic, "err", err)
		if !sleep(ctx, backoff) {
			return false
		}
	}
	c.log.Error("event dead-lettered", "group", c.cfg.GroupID, "topic", msg.Topic, "partition", msg.Partition,
		"offset", msg.Offset, "type", typ, "reason", reason, "err", cause)
	if c.metrics != nil {
		c.metrics.processed.WithLabelValues(c.cfg.GroupID, typ, "dead_lettered").Inc()
		c.metrics.dead.WithLabelValues(c.cfg.GroupID, strings.TrimPrefix(msg.Topic, c.cfg.TopicPrefix), reason).Inc()
	}
	return true
}

// Unavailable reports whether err says a dependency of the handler is
// unreachable or overloaded rather than that the event cannot be applied:
// what pg.IsUnavailable answers 503 for (network errors, timeouts,
// PostgreSQL connection, shutdown and connection-limit errors), a handler's
// own deadline, and PostgreSQL's resource errors and serialization
// conflicts, which a later attempt gets past. Such failures do not count
// toward MaxAttempts.
func Unavailable(err error) bool {
	if pg.IsUnavailable(err) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	code := pg.SQLState(err)
	return strings.HasPrefix(code, "53") || code == "40001" || code == "40P01"
}

func (c *Consumer) applied(env events.Envelope) {
	if c.metrics != nil {
		c.metrics.processed.WithLabelValues(c.cfg.GroupID, env.Type, "applied").Inc()
		c.metrics.latency.WithLabelValues(c.cfg.GroupID).Observe(clock.Since(c.metrics.clock, env.Time).Seconds())
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
