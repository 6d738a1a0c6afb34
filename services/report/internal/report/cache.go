package report

import (
	"container/list"
	"net/http"
	"sync"
)

// reportCache keeps encoded organization reports in memory, least
// recently used out first. An entry is served only while its tenant's
// report version is the one it was built at: every change to summaries or
// member names bumps the version in the same transaction, so a cached
// report is never stale. Reports of past days rarely change and
// dashboards ask for the same month again and again.
type reportCache struct {
	mu      sync.Mutex
	max     int
	size    int
	order   *list.List // of *cacheEntry, most recently used first
	entries map[string]*list.Element
}

type cacheEntry struct {
	key         string
	version     int64
	contentType string
	body        []byte
}

// newReportCache returns a cache of at most maxBytes, or nil (no caching)
// for 0.
func newReportCache(maxBytes int) *reportCache {
	if maxBytes <= 0 {
		return nil
	}
	return &reportCache{max: maxBytes, order: list.New(), entries: map[string]*list.Element{}}
}

// limit is the largest body worth caching: a quarter of the cache.
func (c *reportCache) limit() int {
	if c == nil {
		return 0
	}
	return c.max / 4
}

func (c *reportCache) get(key string, version int64) (*cacheEntry, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if e.version != version {
		c.remove(el)
		return nil, false
	}
	c.order.MoveToFront(el)
	return e, true
}

func (c *reportCache) put(key string, version int64, contentType string, body []byte) {
	if c == nil || len(body) > c.limit() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.remove(el)
	}
	c.entries[key] = c.order.PushFront(&cacheEntry{key: key, version: version, contentType: contentType, body: body})
	c.size += len(body)
	for c.size > c.max {
		c.remove(c.order.Back())
	}
}

func (c *reportCache) remove(el *list.Element) {
	e := c.order.Remove(el).(*cacheEntry)
	delete(c.entries, e.key)
	c.size -= len(e.body)
}

func (e *cacheEntry) serve(w http.ResponseWriter) {
	w.Header().Set("Content-Type", e.contentType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(e.body)
}

// capture keeps a copy of what is written through it, up to limit bytes.
type capture struct {
	w        http.ResponseWriter
	buf      []byte
	limit    int
	overflow bool
}

func (c *capture) Write(p []byte) (int, error) {
	if !c.overflow {
		if len(c.buf)+len(p) > c.limit {
			c.overflow, c.buf = true, nil
		} else {
			c.buf = append(c.buf, p...)
		}
	}
	return c.w.Write(p)
}
