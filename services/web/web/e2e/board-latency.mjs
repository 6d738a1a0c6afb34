// How long the team board takes to show a live update: what the board's
// benchmarks share, one answering the API itself (bench-board.mjs), one
// against the real services (bench-board-live.mjs).

// watchRows makes the page record when each row of the board changes, at
// the next frame, on the same wall clock as the script's.
export async function watchRows(page) {
  await page.evaluate(() => {
    window.__shown = [];
    new MutationObserver((records) => {
      const users = new Set();
      for (const r of records) {
        const el = r.target.nodeType === 1 ? r.target : r.target.parentElement;
        const tr = el?.closest("tr[data-user]");
        if (tr) users.add(tr.dataset.user);
      }
      requestAnimationFrame(() => {
        const at = performance.timeOrigin + performance.now();
        for (const u of users) window.__shown.push([u, at]);
      });
    }).observe(document.querySelector("tbody"), { subtree: true, characterData: true, childList: true });
    // The longest main-thread task while the updates arrive.
    window.__longest = 0;
    new PerformanceObserver((l) => l.getEntries().forEach((e) => (window.__longest = Math.max(window.__longest, e.duration)))).observe({ type: "longtask" });
  });
}

// latencies are the figures of the updates sent (user id to the time it
// was sent): each user's first change on screen after its send.
export async function latencies(page, sent) {
  const { shown, longest } = await page.evaluate(() => ({ shown: window.__shown, longest: window.__longest }));
  const left = new Map(sent);
  const latency = [];
  for (const [u, at] of shown) {
    if (left.has(u) && at >= left.get(u)) {
      latency.push(at - left.get(u));
      left.delete(u);
    }
  }
  latency.sort((a, b) => a - b);
  const q = (p) => (latency.length ? latency[Math.min(latency.length - 1, Math.floor(p * latency.length))].toFixed(1) : "none");
  return { shown: latency.length, missed: left.size, p50: q(0.5), p95: q(0.95), p99: q(0.99), max: q(1), longestTaskMs: longest.toFixed(0) };
}

// mainThread starts counting the page's main-thread work (Chromium's own
// counters: every task, and of it script, style and layout) and answers a
// function that tells how much of it came since, per update: the page's
// share of an update's time, against the wait for a CPU.
export async function mainThread(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Performance.enable");
  const read = async () => Object.fromEntries((await cdp.send("Performance.getMetrics")).metrics.map((m) => [m.name, m.value]));
  const before = await read();
  return async (updates) => {
    const after = await read();
    const ms = (k) => +(((after[k] - before[k]) * 1000) / updates).toFixed(1);
    return { perUpdateMs: { task: ms("TaskDuration"), script: ms("ScriptDuration"), style: ms("RecalcStyleDuration"), layout: ms("LayoutDuration") },
      layouts: after.LayoutCount - before.LayoutCount };
  };
}
